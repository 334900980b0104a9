"""The cost of privacy: a simulated programme year with sealing and the payload codec, and without.

For each size it runs ``mentorflow simulate`` twice on the same synthetic cohort and seed (the
scenario of ``bench.simulation``): once as deployed (every free text sealed with its author's data
key, every Temporal payload encrypted by the codec) and once with neither, and prints both wall
times and their ratio. Run: ``.venv/bin/python -m bench.privacy [SIZES...]`` (default 300).
"""

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from bench.simulation import scenario_file
from mentorflow.log_setup import configure_logging
from mentorflow.mail_server import MailServer
from mentorflow.settings import Settings
from mentorflow.simulate import simulate
from worker import database_url


async def timed(path: Path, url: str, protect: bool) -> tuple[float, int]:
    """Seconds of one simulated year, and the events it stored."""
    started = time.perf_counter()
    with MailServer(Path(tempfile.mkdtemp()) / "Maildir") as mail:
        report = await simulate(path, None, url, lambda *_: None, mail.config, protect=protect)
    return time.perf_counter() - started, report.events["total"]


async def main(sizes: list[int]) -> None:
    url = database_url(Settings())
    columns = ("people", "events", "plain s", "sealed s", "ratio")
    print(" ".join(f"{c:>9}" for c in columns))
    for size in sizes:
        path = scenario_file(size)
        plain, events = await timed(path, url, protect=False)
        protected, _ = await timed(path, url, protect=True)
        print(f"{size:9d} {events:9d} {plain:9.1f} {protected:9.1f} {protected / plain:9.2f}")


if __name__ == "__main__":
    configure_logging("WARNING", "console")
    asyncio.run(main([int(a) for a in sys.argv[1:]] or [300]))
