"""``mentorflow dev``: the whole stack on one machine, in real time, in one command.

PostgreSQL (embedded unless MENTORFLOW_DATABASE_URL is set), the Temporal dev server with its Web
UI keeping its state in ``DATA_DIR/temporal.db`` (a restart finds every running workflow), the
mail server filing into ``DATA_DIR/mail`` (unless an SMTP relay is set), a worker and the web
app. Ctrl-C (or SIGTERM) drains the worker and stops everything.
"""

import asyncio
import signal
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import timedelta

import asyncpg
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.mail.smtp import SmtpConfig
from mentorflow import embedded
from mentorflow.database import database_url, open_database
from mentorflow.deployment import shown, worker_identity
from mentorflow.runtime import build_worker, links_of, mail_config, serve
from mentorflow.settings import Settings
from mentorflow.web.server import build_server, started
from store.identity import store_id


async def run_dev(settings: Settings, port: int, ui_port: int, say: Callable[[str], None]) -> None:
    stop = _stop_on_signals()
    embedded.refuse_ports_in_use(port, ui_port, settings.web_port)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with AsyncExitStack() as stack:  # stops everything started, last first, however it ends
        if settings.database_url is None:
            stack.callback(embedded.stop_postgres, settings.data_dir)
        url = database_url(settings)
        pool = await open_database(url, settings.migrate)
        stack.push_async_callback(pool.close)
        env = await _start_temporal(settings, port, ui_port)
        stack.push_async_callback(env.shutdown)
        mail, server = mail_config(settings)
        if server is not None:
            stack.callback(server.stop)
        grace = settings.shutdown_grace_seconds
        store = await store_id(pool)
        worker = build_worker(
            env.client,
            pool,
            mail,
            graceful_shutdown=timedelta(seconds=grace),
            identity=worker_identity(store),
            links=links_of(settings),
        )
        await _start_web(stack, settings, env.client, pool, mail)
        mail_at = f"{server.maildir}/new" if server else mail.host
        lines = _addresses(settings, port, ui_port, f"{shown(url)} (store {store})", mail_at)

        def ready() -> None:
            for line in lines:
                say(line)

        if not stop.is_set():
            await serve(
                worker,
                grace,
                on_ready=ready,
                on_drain=lambda: say("stopping: finishing activities"),
                stop=stop,
            )
    say("stopped")


def _stop_on_signals() -> asyncio.Event:
    """Set on SIGTERM or SIGINT: from the first moment, so that a signal while the stack starts
    stops what has started so far."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def _start_temporal(settings: Settings, port: int, ui_port: int) -> WorkflowEnvironment:
    """Temporal's dev server and its Web UI, keeping its state in DATA_DIR/temporal.db."""
    converter = embedded.converter(settings)  # refuses bad codec keys before starting
    try:
        return await embedded.start_dev_server(
            ui=True,
            port=port,
            ui_port=ui_port,
            db_file=settings.data_dir / "temporal.db",
            data_converter=converter,
        )
    except RuntimeError as e:
        raise embedded.StackError(f"Temporal's dev server did not start on port {port}: {e}") from e


async def _start_web(
    stack: AsyncExitStack, settings: Settings, client: Client, pool: asyncpg.Pool, mail: SmtpConfig
) -> None:
    """The web app, listening until ``stack`` closes."""
    web = build_server(settings, client, pool, mail)
    web_task = await started(web)

    async def stop_web() -> None:
        web.should_exit = True
        await web_task

    stack.push_async_callback(stop_web)


def _addresses(
    settings: Settings, port: int, ui_port: int, event_store: str, mail_at: str
) -> list[str]:
    """What the developer needs: where each part listens, and how to start a programme."""
    web_at = f"http://{settings.web_host}:{settings.web_port}"
    return [
        f"Temporal      localhost:{port} (TEMPORAL_ADDRESS for other commands)",
        f"Web UI        http://localhost:{ui_port}",
        f"Web app       {web_at} (links in e-mails: {settings.public_url})",
        f"Event store   {event_store}",
        f"E-mail        {mail_at}",
        f"Programmes    TEMPORAL_ADDRESS=localhost:{port} mentorflow programme start FILE",
        "ready; Ctrl-C stops",
    ]
