"""One recipient's trouble is that recipient's alone: a full mailbox (452) is retried with
back-off while the group goes on, and given up with `delivery_failed` only after the retry
window; a dead address (550 5.1.1) fails at once, and the coordinator hears of it once."""

import asyncio

import pytest

from domain.codec import RELATIONSHIP
from domain.envelope import DeliveryFailed
from store.deliveries import DeliveryLog
from store.directory import Contact, Directory, ProgrammeEntry
from store.event_store import EventStore
from tests.builders import COORDINATOR
from tests.builders import LOCALES as PEOPLE
from tests.conftest import BOUNCING
from tests.faults.delivery_fixtures import (
    check_delivered,
    dissolve,
    faults,
    relay,
    start_group,
    wait_closed,
    worker,
)
from tests.mailbox_helpers import headers
from workflows.messages import workflow_id

__all__ = ["faults", "relay"]  # fixtures


async def failures(pool, rid: str) -> list[DeliveryFailed]:
    records = await EventStore(pool).read_stream(workflow_id(rid))
    events = [RELATIONSHIP.decode(r) for r in records]
    return [e for e in events if isinstance(e, DeliveryFailed)]


async def test_a_full_mailbox_for_a_while_is_retried_and_delivered(faults, dev_env, pool):
    """452 for a2 during part of the (compressed) retry window: the others get theirs at once,
    a2 gets every message once the mailbox has room, nothing is recorded as failed."""
    faults.handler.faults.full.add("a2@example.org")
    async with worker(dev_env.client, pool, faults) as task_queue:
        rid, handle = await start_group(dev_env.client, task_queue, "full-for-a-while")
        await dissolve(handle)
        for _ in range(100):  # until a2 was refused, and refused again on a retry
            if faults.handler.faults.answered_full >= 2:
                break
            await asyncio.sleep(0.05)
        faults.handler.faults.full.clear()  # the mailbox is emptied within the window
        await wait_closed(handle)
    assert set(await check_delivered(pool, faults, rid)) == {"sent"}
    started = (await EventStore(pool).outbox(workflow_id(rid)))[0][0]
    assert (await DeliveryLog(pool).deliveries(started))["a2"].attempts > 1


async def test_a_mailbox_full_for_longer_than_the_window_is_given_up_and_recorded(
    faults, dev_env, pool
):
    faults.handler.faults.full.add("a2@example.org")
    async with worker(dev_env.client, pool, faults) as task_queue:
        rid, handle = await start_group(dev_env.client, task_queue, "full-for-good")
        await dissolve(handle)
        await wait_closed(handle)
    await check_delivered(pool, faults, rid, refused=frozenset({"a2"}))
    failed = await failures(pool, rid)
    assert {(f.person_id, f.smtp_code) for f in failed} == {("a2", 452)}
    assert [f.recipients for f in failed if f.recipients] == [(COORDINATOR,)]  # told once


@pytest.fixture(scope="module")
async def bouncing_programme(pool) -> str:
    people = [
        Contact(p, f"Person {p}", f"{BOUNCING if p == 'a2' else ''}{p}@example.org", locale)
        for p, locale in PEOPLE.items()
    ]
    entry = ProgrammeEntry("faults-bounce", "Bounces", "Europe/Helsinki", COORDINATOR)
    await Directory(pool).register(entry, people)
    return "faults-bounce"


async def test_a_dead_address_fails_at_once_and_is_told_once(
    faults, dev_env, pool, bouncing_programme
):
    async with worker(dev_env.client, pool, faults) as task_queue:
        rid, handle = await start_group(
            dev_env.client, task_queue, "dead-address", bouncing_programme
        )
        await dissolve(handle)
        await wait_closed(handle)
    await check_delivered(pool, faults, rid, refused=frozenset({"a2"}))
    failed = await failures(pool, rid)
    assert {(f.person_id, f.smtp_code) for f in failed} == {("a2", 550)}
    assert [f.recipients for f in failed if f.recipients] == [(COORDINATOR,)]
    assert all("@" not in f.reason for f in failed)


async def test_what_failed_for_good_is_resent_once_the_address_is_fixed(
    faults, dev_env, pool, database_url
):
    """`mail resend --failed` after the directory has a working address: every refused message
    goes out once; the stream keeps its record of the earlier failures."""
    from tests.faults.test_delivery_relay_faults import resend

    people = [
        Contact(p, f"Person {p}", f"{BOUNCING if p == 'a2' else ''}{p}@example.org", locale)
        for p, locale in PEOPLE.items()
    ]
    entry = ProgrammeEntry("faults-fixed", "Fixed later", "Europe/Helsinki", COORDINATOR)
    directory = Directory(pool)
    await directory.register(entry, people)
    async with worker(dev_env.client, pool, faults) as task_queue:
        rid, handle = await start_group(dev_env.client, task_queue, "fixed-later", "faults-fixed")
        await dissolve(handle)
        await wait_closed(handle)
    assert {f.person_id for f in await failures(pool, rid)} == {"a2"}

    fixed = [Contact(c.person_id, c.name, c.email.removeprefix(BOUNCING), c.locale) for c in people]
    await directory.register(entry, fixed)
    await asyncio.to_thread(resend, database_url, faults, "faults-fixed", "--failed")

    summary = await DeliveryLog(pool).summary([workflow_id(rid)])
    assert summary["sent"] == summary["messages"] and summary["failed"] == 0
    filed = {str(h["Message-ID"]) for h in headers(faults)}
    outbox = await EventStore(pool).outbox(workflow_id(rid))
    for event_id, _, recipients in outbox:
        deliveries = await DeliveryLog(pool).deliveries(event_id)
        assert all(deliveries[p].message_id in filed for p in recipients)
    assert {f.person_id for f in await failures(pool, rid)} == {"a2"}  # the record stays
