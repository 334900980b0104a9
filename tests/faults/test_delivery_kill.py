"""A worker SIGKILLed with a delivery provably in flight: the relay has the message and holds
its 250 until the worker is dead, so the send happened and its commit did not. Delivery is at
least once with Message-ID de-duplication: the next worker sends again with the same
Message-ID once the claim's lease runs out, the relay files one copy, the record says sent (with
the relay's queue id) and counts the attempts."""

import asyncio
import sys
import time
import uuid
from asyncio.subprocess import Process
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import WorkflowHandle

from domain.relationship.commands import Pause, Resume
from store.directory import Contact, Directory, ProgrammeEntry
from tests.builders import COORDINATOR, LOCALES
from tests.faults.delivery_fixtures import (
    all_sent,
    check_delivered,
    dissolve,
    faults,
    relay,
    start_group,
    wait_closed,
)
from workflows.relationship import RelationshipWorkflow

__all__ = ["faults", "relay"]  # fixtures

KILLS = 10
"""Kills in one run. A killed delivery is sent again only after its 10 s heartbeat timeout; the
kills alternate between ``LANES`` lanes, so that a kill need not wait for the retry of the one
before (nor for a worker's start-up: each lane's next worker is loaded in advance)."""

LANES = 2
"""Lanes of the test: each a group on its own task queue, run by its own worker process, with
people at addresses of their own. A kill stops only its lane's sends, and the relay holds only a
message to the lane being killed, so a retry of the other lane is never taken for the send in
flight; a lane's retry is sent before its next turn (each turn waits for it)."""

ROOT = Path(__file__).parents[2]


async def load(dev_env, database_url: str, relay, task_queue: str) -> Process:
    """A worker process with its imports done, not yet polling (see ``activate``)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.faults.delivery_worker",
        dev_env.client.service_client.config.target_host,
        database_url,
        str(relay.config.port),
        task_queue,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout=120)
    assert line.strip() == b"loaded", line
    return proc


async def activate(proc: Process) -> Process:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"go\n")
    await proc.stdin.drain()
    line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
    assert line.strip() == b"ready", line
    return proc


@dataclass
class Lane:
    queue: str
    addresses: frozenset[str]
    worker: Process
    standby: asyncio.Task[Process]
    rid: str = ""
    handle: WorkflowHandle | None = None


async def open_lane(dev_env, pool, database_url: str, relay, n: int) -> Lane:
    """A lane's programme (its people at addresses of its own), worker, standby and group."""
    programme = f"kill-{n}-{uuid.uuid4().hex[:8]}"
    people = [
        Contact(p, f"Person {p}", f"{p}.{programme}@example.org", lang)
        for p, lang in LOCALES.items()
    ]
    entry = ProgrammeEntry(programme, "Kill test", "Europe/Helsinki", COORDINATOR)
    await Directory(pool).register(entry, people)
    queue = f"kill-{uuid.uuid4()}"
    worker = await activate(await load(dev_env, database_url, relay, queue))
    lane = Lane(
        queue,
        frozenset(c.email for c in people),
        worker,
        asyncio.create_task(load(dev_env, database_url, relay, queue)),
    )
    lane.rid, lane.handle = await start_group(dev_env.client, queue, "killed", programme)
    return lane


async def close_lane(lane: Lane) -> None:
    lane.worker.kill()
    await lane.worker.wait()
    spare = await lane.standby
    spare.kill()
    await spare.wait()


async def test_a_worker_killed_between_the_relays_250_and_the_commit_loses_and_doubles_nothing(
    faults, dev_env, pool, database_url
):
    """Each kill hits a new delivery (a resumption, to everyone) in its first attempt, so each
    costs the heartbeat timeout and the first retry interval, no growing back-off."""
    held = faults.handler.faults
    started = time.monotonic()
    lanes = [await open_lane(dev_env, pool, database_url, faults, n) for n in range(LANES)]
    try:
        for kill in range(KILLS):
            lane = lanes[kill % LANES]
            assert lane.handle is not None
            await all_sent(pool, lane.rid)
            held.hold_to, held.hold_next = lane.addresses, True
            await lane.handle.execute_update(RelationshipWorkflow.pause, Pause(by="m1", reason="r"))
            await lane.handle.execute_update(RelationshipWorkflow.resume, Resume(by="m1"))
            assert await asyncio.to_thread(held.held.wait, 60), "no message reached the relay"
            lane.worker.kill()  # SIGKILL: no handler, no cleanup, no heartbeat
            await lane.worker.wait()
            held.held.clear()
            held.release.set()  # the relay files the message and answers 250 to a dead socket
            await asyncio.sleep(0.2)
            held.release.clear()
            lane.worker = await activate(await lane.standby)
            lane.standby = asyncio.create_task(load(dev_env, database_url, faults, lane.queue))
        for lane in lanes:
            assert lane.handle is not None
            await dissolve(lane.handle, within=30)
            await wait_closed(lane.handle, within=120)
    finally:
        for lane in lanes:
            await close_lane(lane)
    elapsed = time.monotonic() - started

    assert len(held.held_messages) == KILLS
    for lane in lanes:
        assert set(await check_delivered(pool, faults, lane.rid)) == {"sent"}
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT message_id, attempts, relay_reply FROM deliveries"
            " WHERE message_id = ANY($1::text[])",
            held.held_messages,
        )
    assert len(rows) == len(set(held.held_messages)) == KILLS  # ten messages in doubt
    for row in rows:
        kills = held.held_messages.count(row["message_id"])
        assert faults.handler.received[row["message_id"]] == kills + 1  # sent again, filed once
        assert row["attempts"] == kills + 1
        assert "queued as" in row["relay_reply"]
    print(f"{KILLS} kills in {elapsed:.0f} s")
