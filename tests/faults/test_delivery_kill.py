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
from pathlib import Path

from domain.relationship.commands import Pause, Resume
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
"""Kills in one run. Each costs the delivery activity's 10 s heartbeat timeout (the server retries
only then), not a worker's start-up: the next worker is loaded while the current one sends."""

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


async def test_a_worker_killed_between_the_relays_250_and_the_commit_loses_and_doubles_nothing(
    faults, dev_env, pool, database_url
):
    """Each kill hits a new delivery (a resumption, to everyone) in its first attempt, so each
    costs the heartbeat timeout and the first retry interval, no growing back-off."""
    held = faults.handler.faults
    task_queue = f"kill-{uuid.uuid4()}"
    started = time.monotonic()
    worker = await activate(await load(dev_env, database_url, faults, task_queue))
    standby = asyncio.create_task(load(dev_env, database_url, faults, task_queue))
    try:
        rid, handle = await start_group(dev_env.client, task_queue, "killed")
        for _ in range(KILLS):
            await all_sent(pool, rid)
            held.hold_next = True
            await handle.execute_update(RelationshipWorkflow.pause, Pause(by="m1", reason="r"))
            await handle.execute_update(RelationshipWorkflow.resume, Resume(by="m1"))
            assert await asyncio.to_thread(held.held.wait, 60), "no message reached the relay"
            worker.kill()  # SIGKILL: no handler, no cleanup, no heartbeat
            await worker.wait()
            held.held.clear()
            held.release.set()  # the relay files the message and answers 250 to a dead socket
            await asyncio.sleep(0.2)
            held.release.clear()
            worker = await activate(await standby)
            standby = asyncio.create_task(load(dev_env, database_url, faults, task_queue))
        await dissolve(handle, within=30)
        await wait_closed(handle, within=120)
    finally:
        worker.kill()
        await worker.wait()
        spare = await standby
        spare.kill()
        await spare.wait()
    elapsed = time.monotonic() - started

    assert len(held.held_messages) == KILLS
    assert set(await check_delivered(pool, faults, rid)) == {"sent"}
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
