"""Poison input and recording failures: refused with a reason, and the group lives on.

A NUL character or an unpaired surrogate passed the validators, PostgreSQL refused it (22P05),
and the append was retried forever while the Update held the workflow's lock: no timer fired
again and every later Update hung. Now such text is refused where it enters, the store's data
errors are final, and an Update whose events cannot be recorded is refused while the workflow
goes on.
"""

import uuid
from datetime import timedelta

import pytest
from pydantic import ValidationError
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from activities.record_keeping import AppendEventsInput, AppendEventsResult, RecordKeeping
from domain.codec import RELATIONSHIP
from domain.relationship.commands import Pause, RecordAgreement, SubmitFeedback
from domain.relationship.events import AgreementRecorded
from domain.relationship.fold import fold
from mentorflow.verify import replay_all_runs
from store.errors import InvalidEventData
from store.event_store import EventStore, NewEvent
from tests.builders import SHORT, spec
from tests.faults.delivery_fixtures import (
    check_delivered,
    dissolve,
    faults,
    relay,
    start_group,
    wait_closed,
    worker,
)
from tests.temporal_helpers import (
    result_within,
    running_worker,
    sleep_until,
    start_relationship,
    whole_seconds_now,
)
from workflows.messages import workflow_id
from workflows.relationship import RelationshipWorkflow

__all__ = ["faults", "relay"]  # fixtures


async def stored(store: EventStore, rid: str):
    return [RELATIONSHIP.decode(r) for r in await store.read_stream(workflow_id(rid))]


@pytest.mark.parametrize(
    ("text", "named"),
    [("a\x00b", "U+0000"), ("x\ud800", "unicode"), ("bell\x07", "U+0007")],
)
def test_text_that_cannot_be_stored_is_refused_with_the_character(text, named):
    """NUL, a lone surrogate, a control character: refused where the command is built."""
    with pytest.raises(ValidationError) as refused:
        RecordAgreement(by="m1", goals=("g",), agreement=text)
    assert named in str(refused.value)
    with pytest.raises(ValidationError):
        SubmitFeedback(by="m1", round="midpoint", answers={text: "fine"})
    assert RecordAgreement(by="m1", goals=("g",), agreement="two\nlines\tand å").agreement


def test_every_free_text_and_list_is_bounded():
    """Long texts, many goals and many answers are refused before any workflow sees them."""
    with pytest.raises(ValidationError):
        Pause(by="m1", reason="x" * 100_000)
    with pytest.raises(ValidationError):
        RecordAgreement(by="m1", goals=tuple(f"g{i}" for i in range(21)), agreement="a")
    with pytest.raises(ValidationError):
        SubmitFeedback(by="m1", round="final", answers={f"q{i}": "a" for i in range(21)})


async def test_the_store_refuses_nul_as_a_final_data_error_and_writes_nothing(store):
    """PostgreSQL's 22P05 is translated at the store's boundary; the stream is untouched."""
    stream = f"relationship:poison-{uuid.uuid4()}"
    event = NewEvent(
        event_id=uuid.uuid4(),
        type="paused",
        schema_version=1,
        occurred_at=(await whole_seconds_now_utc()),
        actor="m1",
        payload={"reason": "nul \x00 here"},
    )
    with pytest.raises(InvalidEventData) as refused:
        await store.append(stream, 0, [event])
    assert "nul" not in str(refused.value)  # the message names the error, never the content
    assert await store.read_stream(stream) == []


async def whole_seconds_now_utc():
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(microsecond=0)


async def test_poison_text_is_refused_by_the_update_and_the_group_goes_on(mail, env, pool, store):
    """A NUL and a 100,000-character text sent as raw Update arguments: refused, nothing written;
    the deadlines still fire and the next Update is recorded."""
    rid = f"poison-{uuid.uuid4()}"
    starts = await whole_seconds_now(env)
    async with running_worker(env.client, pool, mail) as task_queue:
        handle = await start_relationship(
            env, task_queue, spec(rid, starts, starts + timedelta(days=60), SHORT)
        )
        await sleep_until(env, starts + timedelta(hours=1))
        for agreement, reason in (("nul \x00 inside", "U+0000"), ("x" * 100_000, "4000")):
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await handle.execute_update(
                    "record_agreement", {"by": "m1", "goals": ["g"], "agreement": agreement}
                )
            assert isinstance(refused.value.cause, ApplicationError)
            assert reason in str(refused.value.cause.cause)  # the decoding error says why
        # The agreement reminder (P1D before the P3D deadline) still fires on its timer.
        await sleep_until(env, starts + timedelta(days=2, hours=1))
        await handle.execute_update(
            RelationshipWorkflow.record_agreement,
            RecordAgreement(by="m1", goals=("g",), agreement="monthly"),
        )
        await sleep_until(env, await env.get_current_time() + timedelta(hours=1))  # settle
        latest = env.client.get_workflow_handle(handle.id)  # the run the group is in now
        state = await latest.query(RelationshipWorkflow.state)
        await latest.terminate("test done")
        await replay_all_runs(env.client, handle)

    events = await stored(store, rid)
    assert [e.type for e in events if e.type in ("reminder_issued", "agreement_recorded")] == [
        "reminder_issued",
        "agreement_recorded",
    ]
    assert fold(events) == state


async def test_a_recording_refused_by_the_database_refuses_the_update_not_the_group(
    mail, env, pool, store
):
    """The store refuses an Update's events (a data error forced at the real PostgreSQL): the
    Update is refused at once with ``invalid_data``, timers keep firing, later Updates work."""
    rid = f"refused-by-db-{uuid.uuid4()}"
    real = RecordKeeping(EventStore(pool))

    @activity.defn
    async def append_events(request: AppendEventsInput) -> AppendEventsResult:
        """The real activity, with a NUL slipped into one agreement past every validator."""
        events = [
            e.model_copy(update={"agreement": "poison\x00"})
            if isinstance(e, AgreementRecorded) and e.agreement == "poison"
            else e
            for e in request.events
        ]
        return await real.append_events(request.model_copy(update={"events": events}))

    starts = await whole_seconds_now(env)
    async with running_worker(env.client, pool, mail, activities=[append_events]) as task_queue:
        handle = await start_relationship(
            env, task_queue, spec(rid, starts, starts + timedelta(days=60), SHORT)
        )
        await sleep_until(env, starts + timedelta(hours=1))
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                RelationshipWorkflow.record_agreement,
                RecordAgreement(by="m1", goals=("g",), agreement="poison"),
            )
        assert refused.value.cause.type == "invalid_data"
        await sleep_until(env, starts + timedelta(days=2, hours=1))
        await handle.execute_update(
            RelationshipWorkflow.record_agreement,
            RecordAgreement(by="m2", goals=("g",), agreement="clean"),
        )
        result = await result_within(handle)
        state = await handle.query(RelationshipWorkflow.state)
        await replay_all_runs(env.client, handle)

    events = await stored(store, rid)
    agreements = [e for e in events if isinstance(e, AgreementRecorded)]
    assert [(a.actor, a.agreement) for a in agreements] == [("m2", "clean")]
    assert "reminder_issued" in [e.type for e in events]
    assert result.version == len(events) and fold(events) == state


async def test_an_append_in_doubt_is_read_back_before_the_next_decision(mail, env, pool, store):
    """The append commits but its reply is lost for good: the Update is refused as
    ``not_recorded``, and the workflow reads the stream back, so its state is the store's."""
    rid = f"in-doubt-{uuid.uuid4()}"
    real = RecordKeeping(EventStore(pool))

    @activity.defn
    async def append_events(request: AppendEventsInput) -> AppendEventsResult:
        """The real activity; the reply of the first pause is lost after the commit."""
        result = await real.append_events(request)
        if any(e.type == "paused" for e in request.events):
            raise ApplicationError("reply lost", type="ReplyLost", non_retryable=True)
        return result

    starts = await whole_seconds_now(env)
    async with running_worker(env.client, pool, mail, activities=[append_events]) as task_queue:
        handle = await start_relationship(
            env, task_queue, spec(rid, starts, starts + timedelta(days=60), SHORT)
        )
        await sleep_until(env, starts + timedelta(hours=1))
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                RelationshipWorkflow.pause, Pause(by="m1", reason="holiday")
            )
        assert refused.value.cause.type == "not_recorded"
        # The pause was stored after all: the next Update sees the group paused.
        with pytest.raises(WorkflowUpdateFailedError) as paused:
            await handle.execute_update(
                RelationshipWorkflow.record_agreement,
                RecordAgreement(by="m1", goals=("g",), agreement="a"),
            )
        assert paused.value.cause.type == "paused"
        await sleep_until(env, await env.get_current_time() + timedelta(hours=1))  # settle
        latest = env.client.get_workflow_handle(handle.id)  # the run the group is in now
        state = await latest.query(RelationshipWorkflow.state)
        await latest.terminate("test done")
        await replay_all_runs(env.client, handle)

    events = await stored(store, rid)
    assert events[-1].type == "paused" and fold(events) == state


async def test_poison_text_changes_nothing_and_the_group_closes_whole(faults, dev_env, pool, store):
    """The fault matrix's end for NUL and 100,000-character texts, on the dev server: each Update
    is refused with its reason and writes nothing; the group then closes as usual, every message
    is sent once, and the hash chains verify."""
    async with worker(dev_env.client, pool, faults) as task_queue:
        rid, handle = await start_group(dev_env.client, task_queue, "poison-closes")
        for text, reason in (("nul \x00 inside", "U+0000"), ("x" * 100_000, "4000")):
            agreement = {"by": "m1", "goals": ["g"], "agreement": text}
            for update, arguments in (
                ("record_agreement", agreement),
                ("pause", {"by": "m1", "reason": text}),
            ):
                with pytest.raises(WorkflowUpdateFailedError) as refused:
                    await handle.execute_update(update, arguments)
                assert reason in str(refused.value.cause.cause)
        await dissolve(handle)
        await wait_closed(handle)
    events = await stored(store, rid)
    assert events[-1].type == "relationship_closed"
    assert not {"agreement_recorded", "paused"} & {e.type for e in events}  # nothing written
    assert set(await check_delivered(pool, faults, rid)) == {"sent"}
