"""``mentorflow dev``: the whole stack on one machine, in real time, in one command.

PostgreSQL (embedded unless MENTORFLOW_DATABASE_URL is set), the Temporal dev server with its Web
UI keeping its state in ``DATA_DIR/temporal.db`` (a restart finds every running workflow), the
mail server filing into ``DATA_DIR/mail`` (unless an SMTP relay is set) and a worker. Ctrl-C (or
SIGTERM) drains the worker and stops everything.
"""

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

from mentorflow import embedded
from mentorflow.settings import Settings
from worker import build_worker, database_url, mail_config, open_database, serve


async def run_dev(settings: Settings, port: int, ui_port: int, say: Callable[[str], None]) -> None:
    url = database_url(settings)
    pool = await open_database(url, settings.migrate)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        env = await embedded.start_dev_server(
            ui=True, port=port, ui_port=ui_port, db_file=settings.data_dir / "temporal.db"
        )
    except RuntimeError as e:
        await pool.close()
        raise embedded.StackError(f"Temporal's dev server did not start on port {port}: {e}") from e
    mail, server = mail_config(settings)
    grace = settings.shutdown_grace_seconds
    worker = build_worker(env.client, pool, mail, graceful_shutdown=timedelta(seconds=grace))

    def ready() -> None:
        where = urlsplit(url)
        say(f"Temporal      localhost:{port} (TEMPORAL_ADDRESS for other commands)")
        say(f"Web UI        http://localhost:{ui_port}")
        say(f"Event store   {where._replace(netloc=where.hostname or '').geturl()}")
        say(f"E-mail        {server.maildir}/new" if server else f"E-mail        {mail.host}")
        say(f"Programmes    TEMPORAL_ADDRESS=localhost:{port} mentorflow programme start FILE")
        say("ready; Ctrl-C stops")

    try:
        await serve(
            worker, grace, on_ready=ready, on_drain=lambda: say("stopping: finishing activities")
        )
    finally:
        await env.shutdown()
        await pool.close()
        if server is not None:
            server.stop()
    say("stopped")
