"""Serving the app with uvicorn: alone (`mentorflow web`) or beside a worker (`mentorflow dev`)."""

import asyncio
import contextlib
import signal
from collections.abc import Iterator

import asyncpg
import uvicorn
from temporalio.client import Client

from activities.mail.smtp import SmtpConfig
from mentorflow.runtime import links_of
from mentorflow.settings import Settings
from mentorflow.web.app import create_app
from mentorflow.web.pages import Web
from mentorflow.web.staff.oidc import OidcConfig


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
    web = Web(client=client, pool=pool, links=links_of(settings), mail=mail, oidc=oidc_of(settings))
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


def oidc_of(settings: Settings) -> OidcConfig | None:
    """Staff sign-in with OpenID Connect, when the three settings are given."""
    if settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret:
        secret = settings.oidc_client_secret.get_secret_value()
        return OidcConfig(settings.oidc_issuer, settings.oidc_client_id, secret)
    return None


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
    from mentorflow.runtime import database_url, mail_config, open_database

    pool = await open_database(database_url(settings), settings.migrate)
    mail, mail_server = mail_config(settings)
    try:
        client = await embedded.connect(settings.temporal_address, settings.temporal_namespace)
        server = build_server(settings, client, pool, mail)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, lambda: setattr(server, "should_exit", True))
        await server.serve()
    finally:
        await pool.close()
        if mail_server is not None:
            mail_server.stop()
