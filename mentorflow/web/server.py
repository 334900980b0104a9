"""Serving the app with uvicorn: alone (`mentorflow web`) or beside a worker (`mentorflow dev`)."""

import asyncio
import contextlib
import multiprocessing
import signal
import socket
from collections.abc import Iterator

import asyncpg
import uvicorn
from pydantic import SecretStr
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
    web = Web(
        client=client,
        pool=pool,
        links=links_of(settings),
        mail=mail,
        master=settings.master(),
        oidc=oidc_of(settings),
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


def serve_web(settings: Settings) -> None:
    """`mentorflow web`: one process, or ``MENTORFLOW_WEB_WORKERS`` processes on one socket.

    A Python process renders pages on one core; more processes use the others. The first one
    resolves what they share (the database, migrated once; the mail relay) and supervises them.
    """
    if settings.web_workers == 1:
        asyncio.run(run_web(settings))
        return
    from mentorflow.database import database_url, open_database
    from mentorflow.runtime import mail_config

    url = database_url(settings)

    async def migrate_once() -> None:
        await (await open_database(url, settings.migrate)).close()

    asyncio.run(migrate_once())
    mail, mail_server = mail_config(settings)
    shared = settings.model_copy(
        update={
            "database_url": url,
            "migrate": False,
            "smtp_host": mail.host,
            "smtp_port": mail.port,
            "smtp_starttls": mail.starttls,
            "smtp_username": mail.username,
            "smtp_password": None if mail.password is None else SecretStr(mail.password),
        }
    )
    # The app is built in each process; the socket is bound here, once, and shared.
    sock = uvicorn.Config("-", host=settings.web_host, port=settings.web_port).bind_socket()
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters: no forked threads or loops
    workers = [
        spawn.Process(target=_serve_worker, args=(shared, sock), daemon=True)
        for _ in range(settings.web_workers)
    ]

    def stop(*_: object) -> None:
        for w in workers:
            if w.is_alive():
                w.terminate()  # SIGTERM: each process finishes its requests and closes

    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for w in workers:
            w.start()
        for s in previous:
            signal.signal(s, stop)
        for w in workers:
            w.join()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for w in workers:
            if w.is_alive():
                w.terminate()
                w.join()
        sock.close()
        if mail_server is not None:
            mail_server.stop()


def _serve_worker(settings: Settings, sock: socket.socket) -> None:
    from mentorflow.log_setup import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_web(settings, sock))


async def run_web(settings: Settings, sock: socket.socket | None = None) -> None:
    """One process of `mentorflow web`: serve until SIGINT or SIGTERM (on ``sock`` if given)."""
    from mentorflow import embedded
    from mentorflow.database import database_url, open_database
    from mentorflow.runtime import mail_config

    pool = await open_database(database_url(settings), settings.migrate)
    mail, mail_server = mail_config(settings)
    try:
        client = await embedded.connect(settings.temporal_address, settings.temporal_namespace)
        server = build_server(settings, client, pool, mail)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, lambda: setattr(server, "should_exit", True))
        await server.serve(sockets=None if sock is None else [sock])
    finally:
        await pool.close()
        if mail_server is not None:
            mail_server.stop()
