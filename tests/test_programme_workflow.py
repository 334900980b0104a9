"""ProgrammeWorkflow on the time-skipping test server and a real PostgreSQL."""

import uuid
from collections import Counter
from datetime import date, timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError

from domain.calendar import calendar
from domain.codec import PROGRAMME, RELATIONSHIP
from domain.matching import GroupAssignment
from domain.model import Role
from domain.programme.commands import ApproveMatching, MarkTrained
from domain.programme.events import Milestone
from domain.programme.model import Coordinator, Matching, Participant, Programme, Training
from mentorflow.programmes import register
from mentorflow.synthetic import cohort
from mentorflow.verify import replay_all_runs
from store.event_store import EventStore
from tests.temporal_helpers import result_within, running_worker, sleep_until
from workflows.messages import ProgrammeInput, programme_workflow_id, workflow_id
from workflows.programme import ProgrammeWorkflow

COORDINATOR = Coordinator(id="hr1", name="Pia Coordinator", email="pia@example.org")


def programme(today: date, approval: str = "coordinator", days: int = 120) -> Programme:
    """A programme starting ten days after ``today`` (the test server's date), in UTC."""
    return Programme(
        id=f"p-{uuid.uuid4().hex[:8]}",
        name="Test programme",
        timezone="UTC",
        starts_on=today + timedelta(days=10),
        ends_on=today + timedelta(days=10 + days),
        coordinator=COORDINATOR,
        training=Training(required=True, deadline=today + timedelta(days=5)),
        matching=Matching(runs_on=today + timedelta(days=10), approval=approval),
    )


async def start(env, pool, task_queue, p: Programme, people: list[Participant]):
    await register(pool, p, people)
    return await env.client.start_workflow(
        ProgrammeWorkflow.run,
        ProgrammeInput(
            programme=p, calendar=calendar(p), participants=[x.profile() for x in people]
        ),
        id=programme_workflow_id(p.id),
        task_queue=task_queue,
    )


async def programme_events(store: EventStore, programme_id: str):
    return [
        PROGRAMME.decode(r) for r in await store.read_stream(programme_workflow_id(programme_id))
    ]


async def test_a_coordinator_who_never_approves_is_reminded_then_escalated(mail, env, pool, store):
    """No approval: a reminder when the approval window ends, an escalation a week later."""
    today = (await env.get_current_time()).date()
    p = programme(today)
    async with running_worker(env.client, pool, mail) as task_queue:
        handle = await start(env, pool, task_queue, p, cohort(6, 12, seed=4, trained_share=1.0))
        await sleep_until(env, calendar(p).matching_at + timedelta(days=20))
        state = await handle.query(ProgrammeWorkflow.state)
        await handle.terminate("test done")
        await replay_all_runs(env.client, handle)

    assert state.phase == "approval" and state.proposal is not None and state.approved is None
    events = await programme_events(store, p.id)
    [proposed] = [e for e in events if e.type == "matching_proposed"]
    due = proposed.approval_due
    assert due - proposed.occurred_at == timedelta(days=7)
    [reminder] = [e for e in events if e.type == "programme_reminder_issued"]
    [escalation] = [e for e in events if e.type == "approval_escalated"]
    assert (reminder.subject, reminder.scheduled_for, reminder.recipients) == (
        "approval",
        due,
        ("hr1",),
    )
    assert escalation.scheduled_for == due + timedelta(days=7)
    assert timedelta(0) <= escalation.occurred_at - escalation.scheduled_for < timedelta(seconds=1)


async def test_the_coordinator_hears_of_the_start_on_the_first_day(mail, env, pool, store):
    """The "has started" message used to come at set-up, days before the first day: now set-up
    says so, and the first day brings its own message, at 00:00 of that day."""
    today = (await env.get_current_time()).date()
    p = programme(today)
    async with running_worker(env.client, pool, mail) as task_queue:
        handle = await start(env, pool, task_queue, p, cohort(4, 8, seed=3, trained_share=1.0))
        starts = calendar(p).starts_at
        await sleep_until(env, starts - timedelta(hours=1))
        before = await handle.query(ProgrammeWorkflow.state)
        await sleep_until(env, starts + timedelta(hours=1))
        after = await handle.query(ProgrammeWorkflow.state)
        await handle.terminate("test done")
        await replay_all_runs(env.client, handle)

    assert Milestone.PROGRAMME_START not in before.milestones
    assert Milestone.PROGRAMME_START in after.milestones
    [first_day] = [
        e
        for e in await programme_events(store, p.id)
        if getattr(e, "milestone", None) == "programme_start"
    ]
    assert timedelta(0) <= first_day.occurred_at - starts < timedelta(seconds=1)
    assert first_day.recipients == ("hr1",)
    kinds = await pool.fetch(
        "SELECT kind FROM outbox WHERE stream_id = $1", programme_workflow_id(p.id)
    )
    assert "programme_start" in {r["kind"] for r in kinds}


async def test_an_edited_approval_that_breaks_a_hard_rule_is_refused(mail, env, pool, store):
    """A mentee put with their own manager is refused with the reason; a valid edit is accepted."""
    today = (await env.get_current_time()).date()
    p = programme(today)
    people = cohort(4, 6, seed=9, trained_share=1.0, managers=1000)  # no shared managers by chance
    people[4] = people[4].model_copy(update={"manager": "m1"})  # m1 manages a1
    async with running_worker(env.client, pool, mail) as task_queue:
        handle = await start(env, pool, task_queue, p, people)
        await sleep_until(env, calendar(p).matching_at + timedelta(hours=1))
        bad = ApproveMatching(
            by="hr1", groups=(GroupAssignment(mentors=("m1", "m2"), mentees=("a1", "a2")),)
        )
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(ProgrammeWorkflow.approve_matching, bad)
        assert refused.value.cause.type == "invalid_assignment"
        assert "m1 is a1's manager" in refused.value.cause.message
        good = ApproveMatching(
            by="hr1",
            groups=(GroupAssignment(mentors=("m3", "m1"), mentees=("a2", "a3")),),
            reason="keep a1 for the next cohort",
        )
        await handle.execute_update(ProgrammeWorkflow.approve_matching, good)
        await sleep_until(env, calendar(p).matching_at + timedelta(days=1))
        state = await handle.query(ProgrammeWorkflow.state)
        # Groups outlive their programme (ABANDON): stop them too, or their timers would keep
        # the shared test server's clock busy for the tests that follow.
        for rid in state.launched:
            await env.client.get_workflow_handle(workflow_id(rid)).terminate("test done")
        await handle.terminate("test done")
        await replay_all_runs(env.client, handle)

    assert [(g.mentors, g.mentees) for g in state.approved] == [(("m3", "m1"), ("a2", "a3"))]
    assert list(state.launched) == [f"{p.id}:1"]
    events = await programme_events(store, p.id)
    [approved] = [e for e in events if e.type == "matching_approved"]
    assert (
        approved.edited
        and approved.actor == "hr1"
        and approved.reason == "keep a1 for the next cohort"
    )


async def test_a_programme_runs_to_its_end_and_its_report_matches_the_stored_events(
    mail, env, pool, store
):
    """Training, automatic matching, every group run to closure, a report equal to the record."""
    today = (await env.get_current_time()).date()
    p = programme(today, approval="automatic")
    people = cohort(7, 10, seed=11, trained_share=1.0)
    people[6] = people[6].model_copy(update={"trained_on": None})  # m7 trains in time
    people[5] = people[5].model_copy(update={"trained_on": None})  # m6 never does
    async with running_worker(env.client, pool, mail) as task_queue:
        handle = await start(env, pool, task_queue, p, people)
        await sleep_until(env, calendar(p).training_deadline - timedelta(days=2))
        await handle.execute_update(
            ProgrammeWorkflow.mark_trained, MarkTrained(by="hr1", person_id="m7", trained_on=today)
        )
        report = await result_within(handle)
        state = await handle.query(ProgrammeWorkflow.state)
        statuses = [
            (await env.client.get_workflow_handle(workflow_id(rid)).describe()).status
            for rid in state.launched
        ]
        await replay_all_runs(env.client, handle)

    assert state.excluded == ["m6"]
    assert all(g.mentors != ("m6",) and "m6" not in g.mentors for g in state.approved)
    assert statuses and all(s == WorkflowExecutionStatus.COMPLETED for s in statuses)
    assert report.groups == len(state.launched) == len(state.approved) == 3
    # Count the same numbers straight from the stored relationship events.
    counted: Counter[str] = Counter()
    for rid in state.launched:
        for r in await store.read_stream(workflow_id(rid)):
            e = RELATIONSHIP.decode(r)
            counted[e.type] += 1
            if e.type == "escalation_raised":
                counted[f"escalation:{e.kind}"] += 1
            if e.type == "relationship_closed":
                counted[f"closed:{e.outcome}"] += 1
            if e.type == "feedback_requested":
                counted[f"asked:{e.round}"] += len(e.recipients)
    assert report.meetings_held == 0  # nobody recorded a meeting
    assert report.meetings_missed == counted["meeting_missed"] > 0
    assert report.escalations == {
        k.split(":")[1]: v for k, v in counted.items() if k.startswith("escalation:")
    }
    assert report.closures == {"completed": counted["closed:completed"]} == {"completed": 3}
    for round_ in ("midpoint", "final"):
        assert report.feedback[round_] == {
            "answered": 0,
            "late": 0,
            "missing": counted[f"asked:{round_}"],
        }
    events = await programme_events(store, p.id)
    assert [e.type for e in events].count("relationship_ended") == 3
    assert events[-1].type == "programme_closed"
    people_roles = Counter(x.role for x in people)
    assert (
        people_roles[Role.MENTEE] - sum(len(g.mentees) for g in state.approved) + 1
        == report.unmatched
    )
