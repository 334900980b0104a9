"""The web app in tests: built over the session's real PostgreSQL and Temporal servers."""

import asyncio
import contextlib
import email
import email.policy
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import asyncpg
import httpx
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.service import RPCError

from activities.links import Links
from domain.relationship.commands import RelationshipSpec
from mentorflow.mail_server import MailServer
from mentorflow.settings import Settings
from mentorflow.web.app import create_app
from mentorflow.web.pages import Web
from mentorflow.web.staff.oidc import OidcConfig
from store.event_store import EventStore
from store.sealing import MasterKeys
from tests.builders import SHORT, spec
from worker import build_worker
from workflows.messages import RelationshipInput, workflow_id
from workflows.relationship import RelationshipWorkflow

SECRET = "a-test-secret-nobody-uses-in-production"
MASTER: MasterKeys = Settings().master()
"""The session's master key (conftest), shared by the app and the worker as in one deployment."""


def app_for(
    client: Client,
    pool: asyncpg.Pool,
    mail: MailServer,
    public_url: str = "http://testserver",
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    oidc: OidcConfig | None = None,
) -> tuple[FastAPI, Links]:
    links = Links(SECRET, public_url)
    web = Web(
        client=client, pool=pool, links=links, mail=mail.config, now=now, master=MASTER, oidc=oidc
    )
    return create_app(web, SECRET, secure_cookies=False), links


def browser_client(app: FastAPI) -> httpx.AsyncClient:
    """A client that keeps cookies like a browser and does not follow redirects by itself."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


@asynccontextmanager
async def worker_with_links(
    client: Client, pool: asyncpg.Pool, mail: MailServer, links: Links
) -> AsyncIterator[str]:
    """A worker whose letters carry links signed like the app's; yields its task queue.

    The groups started on it are terminated at the end: a workflow left running without its
    worker would hold up the time-skipping server's clock for every later test.
    """
    task_queue = f"test-web-{uuid.uuid4()}"
    _started[task_queue] = []
    async with build_worker(client, pool, mail.config, task_queue, links=links, master=MASTER):
        try:
            yield task_queue
        finally:
            for relationship_id in _started.pop(task_queue):
                handle = client.get_workflow_handle(workflow_id(relationship_id))
                with contextlib.suppress(RPCError):  # it may have closed by itself
                    await handle.terminate("test done")


_started: dict[str, list[str]] = {}


async def started_group(
    client: Client, pool: asyncpg.Pool, task_queue: str, starts: datetime, **changes: object
) -> RelationshipSpec:
    """A 2+3 group of programme ``test`` (m1 m2 / a1 a2 a3), started and recorded."""
    relationship = spec(f"web-{uuid.uuid4().hex[:8]}", starts, starts + timedelta(days=60), SHORT)
    relationship = relationship.model_copy(update=changes)
    await client.start_workflow(
        RelationshipWorkflow.run,
        RelationshipInput(spec=relationship),
        id=workflow_id(relationship.relationship_id),
        task_queue=task_queue,
    )
    _started[task_queue].append(relationship.relationship_id)
    store = EventStore(pool)
    for _ in range(200):
        if await store.read_stream(workflow_id(relationship.relationship_id)):
            return relationship
        await asyncio.sleep(0.05)
    raise AssertionError("the group never started")


def filed(mail: MailServer) -> dict[str, EmailMessage]:
    """Every message in the Maildir by file name, listed from disk now (no cached listing); each
    file parsed once (a Maildir files a message by renaming it into ``new``: it never changes).

    The session's Maildir holds every earlier test's messages, and the browser walk looks for
    its links in it a dozen times: parsing a thousand messages took 2 s a look."""
    found = {}
    for path in sorted((mail.maildir / "new").iterdir()):
        message = _parsed.get(path)
        if message is None:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            _parsed[path] = message
        found[path.name] = message
    return found


_parsed: dict[Path, EmailMessage] = {}
