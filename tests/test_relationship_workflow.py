"""RelationshipWorkflow on a real Temporal test server (time skipping) and a real PostgreSQL.

Each test drives people through the same Updates a person would use, checks what the event store
holds, and ends by replaying every run of its own history with today's code.
"""

import uuid
from datetime import timedelta

import isodate
import pytest
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from activities.record_keeping import AppendEventsInput, AppendEventsResult, RecordKeeping
from domain.codec import RELATIONSHIP
from domain.envelope import Outcome
from domain.model import Role
from domain.relationship.commands import (
    AddAgendaItem,
    Pause,
    RecordAgreement,
    RecordMeeting,
    Resume,
    SubmitFeedback,
    Withdraw,
)
from domain.relationship.events import EscalationRaised, RelationshipClosed, ReminderIssued
from domain.relationship.fold import fold
from mentorflow.verify import replay_all_runs
from store.event_store import EventStore
from tests.builders import COORDINATOR, IN_SECONDS, SHORT, spec
from tests.temporal_helpers import (
    result_within,
    running_worker,
    sleep_until,
    start_relationship,
    until_idle,
    whole_seconds_now,
)
from workflows.messages import workflow_id
from workflows.relationship import RelationshipWorkflow


async def stored_events(store: EventStore, relationship_id: str):
    return [RELATIONSHIP.decode(r) for r in await store.read_stream(workflow_id(relationship_id))]


def within_a_second(actual, expected) -> bool:
    return abs(actual - expected) < timedelta(seconds=1)


async def test_a_year_with_one_missed_feedback_deadline(mail, env, pool, store):
    """A year of a 2+3 group: exact reminders, escalations and closure, at the policy's times.

    Meetings 3 and 4 are not recorded (the group goes at risk), a2 answers the midpoint late and
    a3 never answers it; everything else happens on time.
    """
    rid = f"year-{uuid.uuid4()}"
    starts = await whole_seconds_now(env)
    ends = starts + timedelta(days=365)
    month = isodate.parse_duration("P1M")
    meeting_due = {n: starts + month * n for n in range(1, 12)}  # meeting 12 would be on the end
    mid_opens = starts + timedelta(days=182, hours=12)
    mid_due = mid_opens + timedelta(days=14)
    final_opens = ends - timedelta(days=7 + 14)

    actions = [
        (
            starts + timedelta(days=5),
            "record_agreement",
            RecordAgreement(by="m1", goals=("payroll",), agreement="monthly, 90 min"),
        )
    ]
    for n, due in meeting_due.items():
        if n not in (3, 4):
            held = due - timedelta(days=1)
            actions.append(
                (
                    held,
                    "record_meeting",
                    RecordMeeting(by="m1", held_on=held.date(), attendees=("m1", "a1", "a2")),
                )
            )
    for person in ("m1", "m2", "a1"):
        actions.append(
            (
                mid_opens + timedelta(days=1),
                "submit_feedback",
                SubmitFeedback(by=person, round="midpoint", answers={"useful": "yes"}),
            )
        )
    actions.append(
        (
            mid_due + timedelta(days=2),
            "submit_feedback",
            SubmitFeedback(by="a2", round="midpoint", answers={"useful": "late"}),
        )
    )
    for person in ("m1", "m2", "a1", "a2", "a3"):
        actions.append(
            (
                final_opens + timedelta(days=1),
                "submit_feedback",
                SubmitFeedback(by=person, round="final", answers={"useful": "yes"}),
            )
        )

    async with running_worker(env.client, pool, mail) as task_queue:
        handle = await start_relationship(env, task_queue, spec(rid, starts, ends))
        for at, update, command in sorted(actions, key=lambda a: a[0]):
            await sleep_until(env, at)
            await handle.execute_update(getattr(RelationshipWorkflow, update), command)
        result = await result_within(handle)
        queried = await handle.query(RelationshipWorkflow.state)
        runs = await replay_all_runs(env.client, handle)

    events = await stored_events(store, rid)
    reminders = [
        (e.subject, e.offset, e.scheduled_for, e.recipients)
        for e in events
        if isinstance(e, ReminderIssued)
    ]
    expected_reminders = [
        (f"meeting:{n}", "P3D", due - timedelta(days=3), ("m1", "m2"))
        for n, due in meeting_due.items()
    ]
    expected_reminders += [
        ("feedback:midpoint", offset, mid_due - timedelta(days=days), ("a2", "a3"))
        for offset, days in (("P3D", 3), ("P1D", 1))
    ]
    assert sorted(reminders, key=lambda r: r[2]) == sorted(expected_reminders, key=lambda r: r[2])

    escalations = [
        (e.kind, e.subject, e.scheduled_for, e.persons, e.recipients)
        for e in events
        if isinstance(e, EscalationRaised)
    ]
    assert escalations == [
        (
            "inactive",
            "inactive:meeting:4",
            meeting_due[4] + timedelta(days=7),
            ("m1", "m2", "a1", "a2", "a3"),
            (COORDINATOR,),
        ),
        (
            "feedback_overdue",
            "feedback:midpoint",
            mid_due + timedelta(days=7),
            ("a3",),
            (COORDINATOR,),
        ),
    ]
    for event in events:
        if isinstance(event, ReminderIssued | EscalationRaised):
            # fired by a durable timer: at the policy's time, never before, within a second
            assert timedelta(0) <= event.occurred_at - event.scheduled_for < timedelta(seconds=1)

    [closed] = [e for e in events if isinstance(e, RelationshipClosed)]
    assert (closed.outcome, closed.occurred_at - ends < timedelta(seconds=1)) == (
        Outcome.COMPLETED,
        True,
    )
    assert closed.occurred_at >= ends
    assert result.outcome == Outcome.COMPLETED and result.version == len(events)
    assert queried.feedback["midpoint"].answers["a2"].late is True
    assert "a3" not in queried.feedback["midpoint"].answers
    assert fold(events) == queried  # the auditor's fold of the store is the workflow's state
    assert runs == 4  # one run per phase: kickoff, first half, second half, final feedback
    assert [e.version for e in await store.read_stream(workflow_id(rid))] == list(
        range(1, len(events) + 1)
    )


async def test_refused_updates_write_nothing_and_say_why(mail, env, pool, store):
    """Not a member, a future date, a duplicate, a closed round: each refused with its reason."""
    rid = f"refused-{uuid.uuid4()}"
    starts = await whole_seconds_now(env)
    async with running_worker(env.client, pool, mail) as task_queue:
        handle = await start_relationship(
            env, task_queue, spec(rid, starts, starts + timedelta(days=60), SHORT)
        )
        await sleep_until(env, starts + timedelta(days=1))
        await handle.execute_update(
            RelationshipWorkflow.record_agreement,
            RecordAgreement(by="m1", goals=("g",), agreement="a"),
        )
        today = (await env.get_current_time()).date()
        refusals = [
            (
                RelationshipWorkflow.record_agreement,
                RecordAgreement(by="m2", goals=("g",), agreement="b"),
                "duplicate",
            ),
            (
                RelationshipWorkflow.record_meeting,
                RecordMeeting(by="outsider", held_on=today, attendees=("m1",)),
                "not_a_member",
            ),
            (
                RelationshipWorkflow.record_meeting,
                RecordMeeting(by="m1", held_on=today + timedelta(days=2), attendees=("m1",)),
                "future_date",
            ),
            (
                RelationshipWorkflow.submit_feedback,
                SubmitFeedback(by="a1", round="final", answers={"q": "a"}),
                "round_not_open",
            ),
            (
                RelationshipWorkflow.withdraw,
                Withdraw(person_id="a1", by="m1", reason="r"),
                "not_allowed",
            ),
        ]
        for update, command, code in refusals:
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await handle.execute_update(update, command)
            assert isinstance(refused.value.cause, ApplicationError)
            assert refused.value.cause.type == code, refused.value.cause.message
        recorded = [e.type for e in await stored_events(store, rid) if e.actor != "system"]
        assert recorded == ["agreement_recorded"]  # the one accepted update, nothing refused

        # After the final round opens, the midpoint round is closed.
        await sleep_until(env, starts + timedelta(days=57, hours=1))
        with pytest.raises(WorkflowUpdateFailedError) as closed_round:
            await handle.execute_update(
                RelationshipWorkflow.submit_feedback,
                SubmitFeedback(by="a1", round="midpoint", answers={"q": "a"}),
            )
        assert closed_round.value.cause.type == "round_closed"
        await result_within(handle)
        await replay_all_runs(env.client, handle)


async def test_withdrawal_below_minimum_dissolves_the_group(mail, env, pool, store):
    """A mentee leaves (the group goes on), then a mentor: below two mentors, it is dissolved."""
    rid = f"dissolve-{uuid.uuid4()}"
    starts = await whole_seconds_now(env)
    policy = SHORT.model_copy(update={"min_mentors": 2})
    async with running_worker(env.client, pool, mail) as task_queue:
        handle = await start_relationship(
            env, task_queue, spec(rid, starts, starts + timedelta(days=60), policy)
        )
        await sleep_until(env, starts + timedelta(days=10))
        await handle.execute_update(
            RelationshipWorkflow.withdraw,
            Withdraw(person_id="a3", by="a3", reason="moved to another agency"),
        )
        state = await handle.query(RelationshipWorkflow.state)
        assert not state.closed and state.active_members(Role.MENTEE) == ["a1", "a2"]
        await handle.execute_update(
            RelationshipWorkflow.withdraw,
            Withdraw(person_id="m2", by=COORDINATOR, reason="long sick leave"),
        )
        result = await result_within(handle)
        await replay_all_runs(env.client, handle)

    assert result.outcome == Outcome.DISSOLVED
    events = await stored_events(store, rid)
    assert [e.type for e in events[-3:]] == [
        "member_withdrew",
        "member_withdrew",
        "relationship_closed",
    ]
    assert events[-2].actor == COORDINATOR and events[-2].reason == "long sick leave"
    assert events[-1].recipients == ("m1", "a1", "a2", COORDINATOR)


async def test_pause_and_resume_move_the_deadlines(mail, env, pool, store):
    """Paused for ten days: nothing fires meanwhile; the agreement reminders come ten days later,
    and the end stays where it was (a group never ends after its programme)."""
    rid = f"pause-{uuid.uuid4()}"
    starts = await whole_seconds_now(env)
    async with running_worker(env.client, pool, mail) as task_queue:
        handle = await start_relationship(
            env, task_queue, spec(rid, starts, starts + timedelta(days=365))
        )
        await sleep_until(env, starts + timedelta(days=2))
        await handle.execute_update(
            RelationshipWorkflow.pause, Pause(by="a1", reason="team reorganisation")
        )
        await sleep_until(env, starts + timedelta(days=12))
        assert [e.type for e in await stored_events(store, rid)][-1] == "paused"
        with pytest.raises(WorkflowUpdateFailedError) as while_paused:
            await handle.execute_update(
                RelationshipWorkflow.record_agreement,
                RecordAgreement(by="m1", goals=("g",), agreement="a"),
            )
        assert while_paused.value.cause.type == "paused"
        await handle.execute_update(RelationshipWorkflow.resume, Resume(by=COORDINATOR))
        await sleep_until(env, starts + timedelta(days=40))
        state = await handle.query(RelationshipWorkflow.state)
        # The latest run: the pause continued as new, and the handle names the first run.
        await env.client.get_workflow_handle(handle.id).terminate("test done")
        await replay_all_runs(env.client, handle)

    # The pause lasted ten days plus the milliseconds the two updates took to be handled.
    paused_for = timedelta(days=10)
    assert within_a_second(state.agreement.due_at, starts + timedelta(days=30) + paused_for)
    assert state.ends_at == starts + timedelta(days=365)  # never past the programme's end
    events = await stored_events(store, rid)
    agreement_reminders = [
        e.scheduled_for
        for e in events
        if isinstance(e, ReminderIssued) and e.subject == "agreement"
    ]
    expected = [starts + timedelta(days=40 - 3), starts + timedelta(days=40 - 1)]
    assert len(agreement_reminders) == 2
    assert all(map(within_a_second, agreement_reminders, expected))
    assert not [
        e
        for e in events
        if starts + timedelta(days=2, seconds=1) < e.occurred_at < starts + timedelta(days=12)
    ]


async def test_a_retried_append_records_each_event_once(mail, dev_env, pool, store):
    """The append fails after its commit on every first attempt; no retry writes anything twice.

    On the real dev server in real time, with a policy in seconds: the Java test server's time
    skipping can stall while an activity is being retried (seen as an RPC timeout in CI runs).
    """
    rid = f"retry-{uuid.uuid4()}"
    real = RecordKeeping(EventStore(pool))
    attempts: list[int] = []

    @activity.defn
    async def append_events(request: AppendEventsInput) -> AppendEventsResult:
        """Stands in for the real activity of this name: crashes after the commit."""
        result = await real.append_events(request)
        attempts.append(activity.info().attempt)
        if activity.info().attempt == 1:
            raise ApplicationError(
                "worker lost after the commit, before reporting it",
                next_retry_delay=timedelta(milliseconds=10),  # keep the test short
            )
        return result

    starts = await whole_seconds_now(dev_env)
    ends = starts + timedelta(seconds=20)
    async with running_worker(dev_env.client, pool, mail, activities=[append_events]) as task_queue:
        handle = await start_relationship(dev_env, task_queue, spec(rid, starts, ends, IN_SECONDS))
        agreement = RecordAgreement(by="m1", goals=("g",), agreement="a")
        await handle.execute_update(RelationshipWorkflow.record_agreement, agreement)
        result = await result_within(handle)
        queried = await handle.query(RelationshipWorkflow.state)
        await replay_all_runs(dev_env.client, handle)

    events = await stored_events(store, rid)
    assert attempts.count(1) == attempts.count(2) > 10  # every append was retried once
    assert len({e.event_id for e in events}) == len(events) == result.version
    assert [e.type for e in events].count("agreement_recorded") == 1
    assert fold(events) == queried


async def test_a_relationship_that_cannot_fit_its_policy_fails_to_start_with_the_reason(
    mail, dev_env, pool
):
    """Too short for its agreement and feedback windows: the workflow fails, naming the problem.
    (It fails at once, so the dev server serves: no clock to skip.)"""
    rid = f"short-{uuid.uuid4()}"
    starts = await whole_seconds_now(dev_env)
    async with running_worker(dev_env.client, pool, mail) as task_queue:
        handle = await start_relationship(
            dev_env, task_queue, spec(rid, starts, starts + timedelta(days=20))
        )
        with pytest.raises(Exception) as failed:
            await result_within(handle)
    assert "too short for its policy" in str(failed.value.cause)


async def test_a_relationship_whose_programme_is_gone_still_closes(mail, dev_env, pool):
    """Telling a programme that no longer runs is logged, not a failure of the group.

    On the dev server, in real time (the group closes within seconds): on the time-skipping
    server a sub-second timer of its closing step, due while a delivery ran, was once lost and
    the test waited forever."""
    rid = f"orphan-{uuid.uuid4()}"
    starts = await whole_seconds_now(dev_env)
    orphan = spec(rid, starts, starts + timedelta(days=60), SHORT).model_copy(
        update={"report_to": "programme:no-such-programme"}
    )
    async with running_worker(dev_env.client, pool, mail) as task_queue:
        handle = await start_relationship(dev_env, task_queue, orphan)
        await handle.execute_update(
            RelationshipWorkflow.withdraw, Withdraw(person_id="m1", by="m1", reason="left")
        )
        await handle.execute_update(
            RelationshipWorkflow.withdraw, Withdraw(person_id="m2", by="m2", reason="left")
        )
        result = await result_within(handle)
        await replay_all_runs(dev_env.client, handle)
    assert result.outcome == Outcome.DISSOLVED


async def test_the_first_meeting_is_open_for_planning_in_the_same_append_as_the_start(
    mail, env, pool
):
    """A mentor who follows the welcome e-mail's link at once finds the first meeting open.

    Before, the start was recorded alone and the first meeting opened one workflow step later:
    a page read in between said "no meeting is open".
    """
    rid = f"opening-{uuid.uuid4()}"
    real = RecordKeeping(EventStore(pool))
    appends: list[list[str]] = []

    @activity.defn
    async def append_events(request: AppendEventsInput) -> AppendEventsResult:
        """Stands in for the real activity of this name: notes what each append holds."""
        result = await real.append_events(request)
        appends.append([e.type for e in request.events])
        return result

    # A start not in the future (a start a second ahead opens the meeting a second later).
    starts = (await env.get_current_time()).replace(microsecond=0)
    async with running_worker(env.client, pool, mail, activities=[append_events]) as task_queue:
        handle = await start_relationship(
            env, task_queue, spec(rid, starts, starts + timedelta(days=365))
        )
        # Its first step done, no skip of the clock: on the test server a skip here now and
        # then ran in real time (nothing pending, the workflow on its 27-day timer) until the
        # SDK's 30 s ran out.
        await until_idle(handle)
        state = await handle.query(RelationshipWorkflow.state)
        for mentor in ("m1", "m2"):  # the group dissolves: the test ends by the group's rules
            await handle.execute_update(
                RelationshipWorkflow.withdraw, Withdraw(person_id=mentor, by=mentor, reason="left")
            )
        await result_within(handle)
        await replay_all_runs(env.client, handle)

    assert appends[0][:2] == ["relationship_started", "meeting_scheduled"]
    assert [slot.number for slot in state.open_meetings()] == [1]


async def test_an_update_that_does_not_move_the_next_step_keeps_its_timer(mail, dev_env, pool):
    """Two agenda items change nothing the schedule depends on: the loop wakes and sleeps again
    on the step's timer as it was. It cancelled it and started the same again at every Update
    (two history events each), and a cancel meeting the timer's firing made the Java test server
    lose the workflow (temporalio/sdk-java#3088): tests waited forever. The group then dissolves
    before its step: no cancel then either. (On the dev server: nothing here needs a skip.)"""
    rid = f"agenda-{uuid.uuid4()}"
    # A start not in the future: the first meeting opens in the start's own append.
    starts = (await dev_env.get_current_time()).replace(microsecond=0)

    async def kinds() -> list[str | None]:
        return [e.WhichOneof("attributes") async for e in handle.fetch_history_events()]

    async with running_worker(dev_env.client, pool, mail) as task_queue:
        handle = await start_relationship(  # the pilot's rules: the first meeting open at once
            dev_env, task_queue, spec(rid, starts, starts + timedelta(days=365))
        )
        await until_idle(handle)  # asleep on the step's timer, days ahead
        before = await kinds()
        assert [m.number for m in (await handle.query(RelationshipWorkflow.state)).open_meetings()]
        for text in ("Presenting", "Feedback"):
            await handle.execute_update(
                RelationshipWorkflow.add_agenda_item, AddAgendaItem(by="a1", text=text)
            )
        await until_idle(handle)
        agenda = (await kinds())[len(before) :]
        for mentor in ("m1", "m2"):
            leave = Withdraw(person_id=mentor, by=mentor, reason="test done")
            await handle.execute_update(RelationshipWorkflow.withdraw, leave)
        await result_within(handle)
        closing = (await kinds())[len(before) + len(agenda) :]
    assert agenda.count("workflow_execution_update_completed_event_attributes") == 2
    assert "timer_started_event_attributes" not in agenda
    assert "timer_canceled_event_attributes" not in agenda + closing
