"""After an outage, reminders whose escalation is due too are not sent.

With the worker down for longer than a deadline's reminders and its escalation, the group used
to get "three days left" and "one day left" together with the escalation that says the deadline
was missed. Now a reminder is stale once its escalation is due: only the escalation is recorded.
"""

import uuid
from datetime import timedelta

from domain.codec import RELATIONSHIP
from domain.factory import EventFactory
from domain.relationship import schedule
from domain.relationship.commands import start
from domain.relationship.fold import fold
from mentorflow.verify import replay_all_runs
from tests.builders import IN_SECONDS, spec, utc
from tests.temporal_helpers import start_relationship, whole_seconds_now
from worker import build_worker


def test_a_reminder_whose_escalation_is_due_too_is_skipped():
    """Woken only after the agreement's escalation time: the escalation, no reminders."""
    starts = utc(2026, 1, 5)
    s = fold([start(spec("stale", starts, utc(2027, 1, 5)), EventFactory(starts, uuid.uuid4))])
    late = s.agreement.due_at + timedelta(days=8)  # escalation at due + P7D
    due = [e.type for e in schedule.due_events(s, EventFactory(late, uuid.uuid4), skip_stale=True)]
    assert "escalation_raised" in due and "reminder_issued" not in due
    old = [e.type for e in schedule.due_events(s, EventFactory(late, uuid.uuid4))]
    assert old.count("reminder_issued") >= 2  # what runs recorded before still replay


async def test_after_an_outage_only_the_escalation_is_recorded(mail, dev_env, pool, store):
    """On the real dev server in real time: no worker from second 2 to second 16 (agreement due
    at 10 s, reminded at 9 s, escalated at 13 s). When the worker is back, the escalation is
    recorded and the stale reminder is not."""
    import asyncio

    rid = f"outage-{uuid.uuid4()}"
    policy = IN_SECONDS.model_copy(update={"agreement_due": "PT10S", "overdue_after": "PT3S"})
    starts = await whole_seconds_now(dev_env)
    queue = f"test-{uuid.uuid4()}"
    relationship = spec(rid, starts, starts + timedelta(seconds=40), policy)
    async with build_worker(dev_env.client, pool, mail.config, queue):
        handle = await start_relationship(dev_env, queue, relationship)
        for _ in range(100):  # until the start is recorded
            if await _stored(store, rid):
                break
            await asyncio.sleep(0.1)
    assert await dev_env.get_current_time() < starts + timedelta(seconds=8)
    await asyncio.sleep(
        (starts + timedelta(seconds=16) - await dev_env.get_current_time()).total_seconds()
    )
    async with build_worker(dev_env.client, pool, mail.config, queue):
        await asyncio.sleep(3)
        await handle.terminate("test done")
        await replay_all_runs(dev_env.client, handle)

    events = [e for e in await _stored(store, rid) if getattr(e, "subject", "") == "agreement"]
    assert [e.type for e in events] == ["escalation_raised"]


async def _stored(store, rid):
    from workflows.messages import workflow_id

    return [RELATIONSHIP.decode(r) for r in await store.read_stream(workflow_id(rid))]
