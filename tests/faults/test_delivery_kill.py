"""A worker SIGKILLed with a delivery provably in flight: the relay has the message and holds
its 250 until the worker is dead, so the send happened and its commit did not. Delivery is at
least once with Message-ID de-duplication: the next worker sends again with the same
Message-ID once the claim's lease runs out, the relay files one copy, the record says sent (with
the relay's queue id) and counts the attempts."""

import asyncio
import sys
import uuid
from asyncio.subprocess import Process
from pathlib import Path

from tests.faults.delivery_fixtures import (
    check_delivered,
    dissolve,
    faults,
    relay,
    start_group,
    wait_closed,
)

__all__ = ["faults", "relay"]  # fixtures

KILLS = 3
"""Kills in one run (each costs the 10 s heartbeat timeout): three, on a 2-core machine."""

ROOT = Path(__file__).parents[2]


async def spawn(dev_env, database_url: str, relay, task_queue: str) -> Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.faults.delivery_worker",
        dev_env.client.service_client.config.target_host,
        database_url,
        str(relay.config.port),
        task_queue,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
    assert line.strip() == b"ready", line
    return proc


async def test_a_worker_killed_between_the_relays_250_and_the_commit_loses_and_doubles_nothing(
    faults, dev_env, pool, database_url
):
    held = faults.handler.faults
    task_queue = f"kill-{uuid.uuid4()}"
    held.hold_next = True
    worker = await spawn(dev_env, database_url, faults, task_queue)
    try:
        rid, handle = await start_group(dev_env.client, task_queue, "killed")
        for kill in range(KILLS):
            assert await asyncio.to_thread(held.held.wait, 60), "no message reached the relay"
            worker.kill()  # SIGKILL: no handler, no cleanup, no heartbeat
            await worker.wait()
            held.held.clear()
            held.release.set()  # the relay files the message and answers 250 to a dead socket
            await asyncio.sleep(0.2)
            held.release.clear()
            held.hold_next = kill < KILLS - 1
            worker = await spawn(dev_env, database_url, faults, task_queue)
        await dissolve(handle, within=30)
        await wait_closed(handle, within=120)
    finally:
        worker.kill()
        await worker.wait()

    assert len(held.held_messages) == KILLS
    assert set(await check_delivered(pool, faults, rid)) == {"sent"}
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT message_id, attempts, relay_reply FROM deliveries"
            " WHERE message_id = ANY($1::text[])",
            held.held_messages,
        )
    # The retry often starts with the very message that was in flight, and is killed again.
    assert len(rows) == len(set(held.held_messages)) >= 1
    for row in rows:
        kills = held.held_messages.count(row["message_id"])
        assert faults.handler.received[row["message_id"]] == kills + 1  # sent again, filed once
        assert row["attempts"] == kills + 1
        assert "queued as" in row["relay_reply"]
