"""PostgreSQL restarted mid-append: the append is retried and lands exactly once.

The group's Update is recording its event when the database goes down: its transaction is open
in the server, waiting for the log head (held by another session), when PostgreSQL stops (fast
shutdown: every session ends, the open transaction rolls back). The append activity's bounded
retry finds the database back a moment later; the Update is answered, its event is stored once,
the group goes on and closes, every message is sent once, and the hash chains verify.

On a PostgreSQL of this test's own (the session's database stays up for the other tests) and
the real Temporal dev server (activity retries in real time).
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle

from domain.codec import RELATIONSHIP
from domain.relationship.commands import Withdraw
from domain.relationship.events import MemberWithdrew
from mentorflow import embedded
from store.event_store import EventStore
from store.migrate import migrate
from store.pool import create_pool
from tests.builders import register_test_people
from tests.conftest import private_dir
from tests.faults.delivery_fixtures import (
    all_sent,
    check_delivered,
    dissolve,
    faults,
    relay,
    start_group,
    wait_closed,
    worker,
)
from workflows.messages import workflow_id
from workflows.relationship import RelationshipWorkflow

__all__ = ["faults", "relay"]  # fixtures


@pytest.fixture(scope="module")
def restartable() -> Iterator[tuple[Path, str]]:
    data_dir = private_dir("pg-restart")
    url = embedded.start_postgres(data_dir)
    yield data_dir, url
    embedded.stop_postgres(data_dir)


@pytest_asyncio.fixture(scope="module")
async def own_pool(restartable: tuple[Path, str]) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(restartable[1], min_size=1, max_size=10)
    await migrate(pool)
    await register_test_people(pool)
    yield pool
    await pool.close()


async def append_waiting(url: str, within: float = 30) -> None:
    """Until an append's transaction is open in the server, waiting for the log head."""
    conn = await asyncpg.connect(url)
    try:
        for _ in range(int(within * 10)):
            waiting = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND query LIKE '%mentorflow_append%' AND xact_start IS NOT NULL"
            )
            if waiting:
                return
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    raise AssertionError("no append reached the database")


async def append_attempts(handle: WorkflowHandle) -> list[int]:
    """The attempt on which each append activity of the group's first run completed."""
    appends, attempts = set(), []
    async for event in handle.fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            if event.activity_task_scheduled_event_attributes.activity_type.name == "append_events":
                appends.add(event.event_id)
        elif event.HasField("activity_task_started_event_attributes"):
            started = event.activity_task_started_event_attributes
            if started.scheduled_event_id in appends:
                attempts.append(started.attempt)
    return attempts


async def test_postgresql_restarted_mid_append_records_the_update_once(
    faults, dev_env, restartable, own_pool
):
    data_dir, url = restartable
    async with worker(dev_env.client, own_pool, faults) as task_queue:
        rid, handle = await start_group(dev_env.client, task_queue, "pg-restart")
        await all_sent(own_pool, rid)  # the kickoff's mail is out: only the append is in flight

        head = await asyncpg.connect(url)  # holds the log head: the next append waits inside
        await head.execute("BEGIN; SELECT position FROM log_head FOR UPDATE")
        leave = Withdraw(person_id="a1", by="a1", reason="moving on")
        update = asyncio.create_task(handle.execute_update(RelationshipWorkflow.withdraw, leave))
        await append_waiting(url)

        await asyncio.to_thread(embedded.stop_postgres, data_dir)  # the append's session ends
        assert update.done() is False
        await asyncio.sleep(1)
        assert await asyncio.to_thread(embedded.start_postgres, data_dir) == url
        head.terminate()

        await asyncio.wait_for(update, timeout=120)  # answered once the retry lands
        await dissolve(handle, within=60)
        await wait_closed(handle, within=120)

    assert (
        max(await append_attempts(handle)) >= 2
    )  # the append failed with the database, then landed
    records = await EventStore(own_pool).read_stream(workflow_id(rid))
    assert [r.version for r in records] == list(range(1, len(records) + 1))
    events = [RELATIONSHIP.decode(r) for r in records]
    left = [e.person_id for e in events if isinstance(e, MemberWithdrew)]
    assert left.count("a1") == 1 and sorted(left) == ["a1", "m1", "m2"]
    assert events[-1].type == "relationship_closed"
    assert set(await check_delivered(own_pool, faults, rid)) == {"sent"}  # and chains verify
