"""Serving the app with uvicorn: alone (`mentorflow web`) or beside a worker (`mentorflow dev`)."""

import asyncio
import contextlib
import signal
from collections.abc import Iterator

import asyncpg
import uvicorn
from temporalio.client import Client

from activities.mail.smtp import SmtpConfig
from mentorflow.settings import Settings
from mentorflow.web.app import create_app
from mentorflow.web.pages import Web
from worker import links_of


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build_server(
    settings: Settings,
    client: Client,
    pool: asyncpg.Pool,
    mail: SmtpConfig,
    port: int | None = None,
) -> EmbeddedServer:
    web = Web(
        client=client, pool=pool, links=links_of(settings), mail=mail, master=settings.master()
    )
    secure = settings.public_url.startswith("https://")
    app = create_app(web, settings.secret_key.get_secret_value(), secure)
    config = uvicorn.Config(
        app,
        host=settings.web_host,
        port=settings.web_port if port is None else port,
        log_config=None,  # structlog, configured by the entry point, formats uvicorn's records
        access_log=False,
        proxy_headers=True,
        server_header=False,
    )
    return EmbeddedServer(config)


async def started(server: uvicorn.Server) -> asyncio.Task[None]:
    """Start ``server`` in the background and return once it listens."""
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            # uvicorn logs why and exits (SystemExit) when it cannot listen.
            with contextlib.suppress(SystemExit):
                task.result()
            host, port = server.config.host, server.config.port
            raise OSError(f"the web app could not listen on {host}:{port}")
        await asyncio.sleep(0.05)
    return task


async def run_web(settings: Settings) -> None:
    """`mentorflow web`: serve until SIGINT or SIGTERM."""
    from mentorflow import embedded
    from worker import database_url, mail_config, open_database

    pool = await open_database(database_url(settings), settings.migrate)
    mail, mail_server = mail_config(settings)
    try:
        address = settings.temporal_address or "localhost:7233"
        client = await embedded.connect(address, settings.temporal_namespace)
        server = build_server(settings, client, pool, mail)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, lambda: setattr(server, "should_exit", True))
        await server.serve()
    finally:
        await pool.close()
        if mail_server is not None:
            mail_server.stop()
