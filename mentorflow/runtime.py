"""The runtime every entry point shares: settings -> database -> Temporal client -> worker, serve.

``worker.py`` (the composition root), ``mentorflow worker``, ``mentorflow dev``, the web app, the
simulation and the tests build their workers here (and open their databases through
``mentorflow.database``), so that no entry point imports another. Without
``MENTORFLOW_DATABASE_URL`` the database is the embedded PostgreSQL under the data directory;
Temporal is ``TEMPORAL_ADDRESS`` (see ``Settings``).
"""

import asyncio
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker

from activities.archiving import Archivist
from activities.cohort import CohortKeeping
from activities.launching import GroupInspector, Launcher
from activities.links import Links
from activities.mail.postman import Postman, RetryTiming
from activities.mail.smtp import SmtpConfig
from activities.matching import propose_matching
from activities.record_keeping import RecordKeeping
from activities.reporting import Reporting
from activities.retention import RetentionKeeping
from mentorflow import embedded
from mentorflow.database import database_url, open_database
from mentorflow.deployment import worker_identity
from mentorflow.health import Health
from mentorflow.mail_server import MailSink
from mentorflow.retention import install as install_retention
from mentorflow.settings import Settings
from store.event_store import EventStore
from store.identity import store_id
from store.sealing import MasterKeys
from workflows import TASK_QUEUE
from workflows.programme import ProgrammeWorkflow
from workflows.relationship import RelationshipWorkflow
from workflows.retention import RetentionWorkflow

WORKFLOWS: Sequence[type] = (RelationshipWorkflow, ProgrammeWorkflow, RetentionWorkflow)
"""Every workflow class, for the worker and for the replayer (they must agree)."""

log = structlog.get_logger(__name__)


def activities(
    client: Client,
    pool: asyncpg.Pool,
    task_queue: str,
    mail: SmtpConfig,
    delivery: RetryTiming | None = None,
    links: Links | None = None,
    master: MasterKeys | None = None,
) -> list[Callable[..., Any]]:
    """Every activity, bound to its dependencies (``links`` writes the personal links, ``master``
    opens the sealed texts letters quote)."""
    store = EventStore(pool)
    postman = Postman(pool, mail, delivery, links=links, master=master)
    record_keeping, reporting = RecordKeeping(store), Reporting(store)
    cohort = CohortKeeping(pool, store)
    retention = RetentionKeeping(pool)
    return [
        record_keeping.append_events,
        record_keeping.append_programme_events,
        record_keeping.read_events_after,
        record_keeping.read_programme_events_after,
        cohort.record_programme_start,
        cohort.propose_matching_in_store,
        cohort.read_programme_chunk,
        reporting.programme_report,
        propose_matching,
        Launcher(client, task_queue).launch_relationship,
        GroupInspector(client).check_relationships,
        reporting.recorded_closure,
        postman.deliver_notifications,
        postman.pending_notifications,
        Archivist(client, pool).archive_history,
        retention.due_erasures,
        retention.erase_for_retention,
    ]


def build_worker(
    client: Client,
    pool: asyncpg.Pool,
    mail: SmtpConfig,
    task_queue: str = TASK_QUEUE,
    overrides: Sequence[Callable[..., Any]] = (),
    graceful_shutdown: timedelta = timedelta(0),
    identity: str | None = None,
    links: Links | None = None,
    delivery: RetryTiming | None = None,
    master: MasterKeys | None = None,
) -> Worker:
    """A worker for every workflow and activity; ``overrides`` replace activities by name.

    ``identity``: see ``mentorflow.deployment.worker_identity`` (client commands check it).

    (Activities keep their function's name, so ``__name__`` is the activity type.)
    """
    replaced = {a.__name__ for a in overrides}
    every = activities(client, pool, task_queue, mail, delivery, links, master)
    bound = [a for a in every if a.__name__ not in replaced]
    bound += list(overrides)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=bound,
        # Matching is CPU work in a plain function: it runs on threads, off the event loop.
        activity_executor=ThreadPoolExecutor(max_workers=2, thread_name_prefix="activity"),
        graceful_shutdown_timeout=graceful_shutdown,
        identity=identity,
    )


def links_of(settings: Settings) -> Links:
    """The personal links of e-mails, signed with the secret the web app checks them with."""
    return Links(settings.secret_key.get_secret_value(), settings.public_url)


def mail_config(settings: Settings) -> tuple[SmtpConfig, MailSink | None]:
    """The configured SMTP relay, or the embedded Maildir server (started here, in a process of
    its own) and its config."""
    configured = settings.smtp()
    if configured is not None:
        return configured, None
    server = MailSink(settings.data_dir / "mail").start()
    log.info("mail_server_started", maildir=str(server.maildir))
    return server.config, server


async def serve(
    worker: Worker,
    grace_seconds: float,
    health: Health | None = None,
    on_ready: Callable[[], None] = lambda: None,
    on_drain: Callable[[], None] = lambda: None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run ``worker`` until SIGTERM or SIGINT, then drain: no new tasks are taken, and activities
    in flight get ``grace_seconds`` (the worker's graceful shutdown) to finish before they are
    cancelled and retried by Temporal elsewhere (every activity is idempotent).

    ``stop``: an event the caller set the signal handlers on already (or sets itself)."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
    async with worker:
        if health is not None:
            health.ready = True
        on_ready()
        await stop.wait()
        if health is not None:
            health.ready = False
        on_drain()
        log.info("worker_draining", grace_seconds=grace_seconds)
    log.info("worker_stopped")


async def run(settings: Settings) -> None:
    """Serve the task queue with the configured (or embedded) database, Temporal and mail."""
    converter = embedded.converter(settings)  # bad codec keys are refused before anything starts
    pool = await open_database(database_url(settings), settings.migrate)
    address = settings.temporal_address
    client = await embedded.connect(address, settings.temporal_namespace, converter)
    mail, server = mail_config(settings)
    health = Health(settings.health_port).start() if settings.health_port else None
    grace = settings.shutdown_grace_seconds
    store = await store_id(pool)
    worker = build_worker(
        client,
        pool,
        mail,
        graceful_shutdown=timedelta(seconds=grace),
        identity=worker_identity(store),
        links=links_of(settings),
        delivery=RetryTiming.within(timedelta(hours=settings.mail_retry_hours)),
        master=settings.master(),
    )
    log.info(
        "worker_starting", task_queue=TASK_QUEUE, temporal=address, smtp=mail.host, store=store
    )
    try:  # the daily retention schedule, if missing
        installed = await install_retention(client)
        log.info("retention_schedule", schedule_id=installed.schedule_id, created=installed.created)
    except RPCError as e:  # e.g. a server without schedules: the worker serves all the same
        log.warning("retention_schedule_not_installed", error=str(e))
    try:
        await serve(worker, grace, health)
    finally:
        await pool.close()
        if server is not None:
            server.stop()
        if health is not None:
            health.stop()
