"""What the delivery fault tests share: a relay that can fail, a short retry policy, a small
group that runs to its end in seconds, and the end-of-test check (closed, nothing lost, nothing
doubled, hash chains verified).

On the real Temporal dev server in real time: the retry back-off and the give-up are durable
timers and activity retries, which the time-skipping test server does not run faithfully.
"""

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle

from activities.mail.postman import RetryTiming
from domain.codec import RELATIONSHIP
from domain.envelope import DeliveryFailed
from domain.relationship.commands import Withdraw
from mentorflow.mail_server import MailServer
from store.deliveries import DeliveryLog
from store.event_store import EventStore
from store.integrity import verify_log
from tests.builders import SHORT, spec
from tests.conftest import BOUNCING, private_dir
from tests.mail_relay import FaultyMailServer
from tests.mailbox_helpers import headers
from worker import build_worker
from workflows.messages import RelationshipInput, workflow_id
from workflows.relationship import RelationshipWorkflow

TIMING = RetryTiming(
    first_retry=timedelta(milliseconds=200),
    max_retry=timedelta(seconds=1),
    give_up_after=timedelta(seconds=4),
)
"""Two days compressed to four seconds."""


@pytest.fixture(scope="session")
def relay() -> Iterator[MailServer]:
    """A relay that asks for a login, refuses "bounce..." addresses (550 5.1.1) and fails on
    demand; faults are cleared before each test."""
    server = FaultyMailServer(
        private_dir("relay") / "Maildir", refuse=lambda a: a.startswith(BOUNCING), login=True
    )
    with server:
        yield server


@pytest.fixture
def faults(relay: MailServer) -> Iterator[MailServer]:
    relay.handler.faults.clear()
    yield relay
    relay.handler.faults.clear()
    relay.handler.faults.release.set()  # never leave a held message blocking the server


@asynccontextmanager
async def worker(client: Client, pool: asyncpg.Pool, relay: MailServer) -> AsyncIterator[str]:
    """An in-process worker with the short retry policy, on a fresh task queue."""
    task_queue = f"faults-{uuid.uuid4()}"
    async with build_worker(client, pool, relay.config, task_queue, delivery=TIMING):
        yield task_queue


async def start_group(
    client: Client, task_queue: str, name: str, programme_id: str = "test"
) -> tuple[str, WorkflowHandle]:
    """A five-person group (contacts registered for ``programme_id``), starting now."""
    rid = f"{name}-{uuid.uuid4()}"
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    relationship = spec(rid, starts, starts + timedelta(days=60), SHORT).model_copy(
        update={"programme_id": programme_id}
    )
    handle = await client.start_workflow(
        RelationshipWorkflow.run,
        RelationshipInput(spec=relationship),
        id=workflow_id(rid),
        task_queue=task_queue,
    )
    return rid, handle


async def dissolve(handle: WorkflowHandle, within: float = 5.0) -> None:
    """Both mentors leave (the group dissolves and closes), each Update answered promptly
    whatever the mail does: delivery is not in the decision path."""
    for mentor in ("m1", "m2"):
        leave = Withdraw(person_id=mentor, by=mentor, reason="test done")
        await asyncio.wait_for(
            handle.execute_update(RelationshipWorkflow.withdraw, leave), timeout=within
        )


async def wait_closed(handle: WorkflowHandle, within: float = 60.0) -> None:
    await asyncio.wait_for(handle.result(), timeout=within)
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED


async def all_sent(pool: asyncpg.Pool, rid: str, within: float = 120) -> None:
    """Until every message of the group is sent: the delivery activity has completed."""
    log = DeliveryLog(pool)
    for _ in range(int(within * 10)):
        summary = await log.summary([workflow_id(rid)])
        if summary["sent"] == summary["messages"]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not all sent: {summary}")


async def check_delivered(
    pool: asyncpg.Pool, relay: MailServer, rid: str, refused: frozenset[str] = frozenset()
) -> Counter[str]:
    """Nothing lost, nothing doubled, chains verified: every (notification, recipient) of the
    stream is sent and filed exactly once, or (for ``refused`` people only) failed with a
    ``delivery_failed`` event in the stream. Returns the delivery states."""
    stream = workflow_id(rid)
    store, log = EventStore(pool), DeliveryLog(pool)
    records = await store.read_stream(stream)
    events = [RELATIONSHIP.decode(r) for r in records]
    recorded = {(e.notification_of, e.person_id) for e in events if isinstance(e, DeliveryFailed)}
    filed = Counter(str(h["Message-ID"]) for h in headers(relay))
    states: Counter[str] = Counter()
    for event_id, _, recipients in await store.outbox(stream):
        deliveries = await log.deliveries(event_id)
        for person in recipients:
            d = deliveries[person]
            states[d.state] += 1
            if person in refused:
                assert d.state == "failed", (person, d)
                assert (event_id, person) in recorded
            else:
                assert d.state == "sent", (person, d)
                assert filed[d.message_id] == 1, d.message_id
    assert {p for _, p in recorded} <= refused
    async with pool.acquire() as conn:
        verification = await verify_log(conn)
    assert verification.ok, verification.broken
    return states
