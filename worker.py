"""The composition root: settings -> logging, telemetry -> database -> client -> Worker.run().

``python worker.py`` (or ``mentorflow worker``) serves the task queue until interrupted. The parts
(database, client, worker, serving) live in ``mentorflow.runtime``, which every entry point shares;
this module only wires them in order. Without ``MENTORFLOW_DATABASE_URL`` it uses the embedded
PostgreSQL under the data directory; ``TEMPORAL_ADDRESS`` defaults as ``Settings`` says.
"""

import asyncio

from mentorflow.database import database_url, open_database
from mentorflow.log_setup import configure_logging
from mentorflow.runtime import (
    WORKFLOWS,
    activities,
    build_worker,
    links_of,
    mail_config,
    run,
    serve,
)
from mentorflow.settings import Settings
from mentorflow.telemetry import configure_telemetry

__all__ = [  # kept importable from here for scripts written against the composition root
    "WORKFLOWS",
    "activities",
    "build_worker",
    "database_url",
    "links_of",
    "mail_config",
    "main",
    "open_database",
    "serve",
]


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    configure_telemetry(settings.temporal_metrics_port)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
