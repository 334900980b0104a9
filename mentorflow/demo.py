"""The main job, for now: one mentoring group's year, end to end, on the embedded stack.

A real RelationshipWorkflow runs on a time-skipping Temporal server against the event store in
PostgreSQL. Simulated people act only through the Updates real people use; the workflow does not
know. At the end the stored events are read back: the timeline, a summary, and the auditor's
checks (the fold of the stored events equals the workflow's state; every run replays).
"""

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from temporalio.client import WorkflowHandle, WorkflowQueryFailedError
from temporalio.testing import WorkflowEnvironment

from domain import durations
from domain.commands import (
    RecordAgreement,
    RecordMeeting,
    RelationshipSpec,
    SubmitFeedback,
    Withdraw,
)
from domain.events import RelationshipEvent, from_record
from domain.model import Member, Role
from domain.policy import RelationshipPolicy
from domain.state import RelationshipState
from domain.summary import summarise
from mentorflow import embedded
from mentorflow.settings import Settings
from mentorflow.timeline import TimelineEntry, timeline
from mentorflow.verify import replay_all_runs
from store.event_store import EventStore
from worker import build_worker, database_url, open_database
from workflows.messages import RelationshipInput, workflow_id
from workflows.relationship import RelationshipWorkflow

Progress = Callable[[float, str], None]
"""Called with the fraction of the year done and what just happened."""

W = RelationshipWorkflow
MENTORS, MENTEES, COORDINATOR = ("m1", "m2"), ("a1", "a2", "a3"), "hr1"
SKIPPED_MEETINGS = (4, 5)  # two in a row: the group goes at risk and the coordinator is told


class FeedbackSummary(BaseModel):
    answered: int
    late: int
    missing: list[str]


class DemoReport(BaseModel):
    relationship_id: str
    outcome: str
    closure_reason: str
    starts_at: datetime
    ends_at: datetime
    meetings_held: int
    meetings_missed: int
    feedback: dict[str, FeedbackSummary]
    escalations: list[dict[str, Any]]
    notifications: dict[str, int]
    events: int
    fold_matches_workflow: bool
    runs_replayed: int
    timeline: list[TimelineEntry]
    database_url: str


def demo_group(relationship_id: str, starts_at: datetime) -> RelationshipSpec:
    members = (
        *(Member(person_id=p, role=Role.MENTOR) for p in MENTORS),
        *(Member(person_id=p, role=Role.MENTEE) for p in MENTEES),
    )
    return RelationshipSpec(
        relationship_id=relationship_id,
        programme_id="demo",
        coordinator_id=COORDINATOR,
        members=members,
        policy=RelationshipPolicy(),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(days=365),
    )


def people_script(state: RelationshipState) -> list[tuple[datetime, Any, Any]]:
    """What the simulated people do, and when, given the calendar the workflow announced."""
    start, day = state.starts_at, timedelta(days=1)
    script: list[tuple[datetime, Any, Any]] = [
        (
            start + 6 * day,
            W.record_agreement,
            RecordAgreement(
                by="m1",
                goals=("payroll", "leadership"),
                agreement="monthly, 90 minutes, rotating host",
            ),
        ),
        (
            start + 270 * day,
            W.withdraw,
            Withdraw(person_id="a3", by="a3", reason="moved to another agency"),
        ),
    ]
    for n in range(1, 12):
        if n in SKIPPED_MEETINGS:
            continue
        due = durations.add(state.meeting_anchor, state.policy.cadence, n)
        held = due - 2 * day
        attendees = ("m1", "m2", "a1", "a2") + (("a3",) if held < start + 270 * day else ())
        script.append(
            (
                held,
                W.record_meeting,
                RecordMeeting(by=MENTORS[n % 2], held_on=held.date(), attendees=attendees),
            )
        )
    midpoint, final = state.feedback["midpoint"], state.feedback["final"]
    for person in ("m1", "m2", "a1"):
        script.append((midpoint.opens_at + 2 * day, W.submit_feedback, _answer(person, "midpoint")))
    script.append(
        (midpoint.due_at + 3 * day, W.submit_feedback, _answer("a2", "midpoint"))
    )  # late; a3 never answers
    for person in ("m1", "a1", "a2"):
        script.append((final.opens_at + day, W.submit_feedback, _answer(person, "final")))
    script.append((final.due_at + 2 * day, W.submit_feedback, _answer("m2", "final")))  # late
    return sorted(script, key=lambda step: step[0])


def _answer(person: str, round_: str) -> SubmitFeedback:
    return SubmitFeedback(
        by=person,
        round=round_,
        answers={"most_useful": "peer discussion", "would_recommend": "yes"},
    )


async def _advance(
    env: WorkflowEnvironment, to: datetime, start: datetime, progress: Progress, label: str
) -> None:
    """Skip virtual time to ``to`` a week at a time, so the progress display moves."""
    year = timedelta(days=365)
    while (now := await env.get_current_time()) < to:
        await env.sleep(min(to - now, timedelta(days=7)))
        progress(min((await env.get_current_time() - start) / year, 1.0), label)


async def _started_state(handle: WorkflowHandle[Any, Any]) -> RelationshipState:
    """The state once the start is recorded (the query refuses until then)."""
    for _ in range(200):
        try:
            state: RelationshipState = await handle.query(W.state)
            return state
        except WorkflowQueryFailedError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"relationship {handle.id} did not record its start within 10 s")


async def run_demo(settings: Settings, progress: Progress) -> DemoReport:
    url = database_url(settings)
    pool = await open_database(url)
    try:
        async with await embedded.start_time_skipping() as env:
            task_queue = f"demo-{uuid.uuid4()}"
            async with build_worker(env.client, pool, task_queue):
                return await _play_year(env, pool, task_queue, url, progress)
    finally:
        await pool.close()


async def _play_year(
    env: WorkflowEnvironment, pool: Any, task_queue: str, url: str, progress: Progress
) -> DemoReport:
    rid = f"demo:{uuid.uuid4().hex[:8]}"
    starts = (await env.get_current_time()).replace(microsecond=0) + timedelta(seconds=1)
    handle = await env.client.start_workflow(
        W.run,
        RelationshipInput(spec=demo_group(rid, starts)),
        id=workflow_id(rid),
        task_queue=task_queue,
    )
    progress(0.0, "group formed")
    await _advance(env, starts, starts, progress, "group formed")
    for at, update, command in people_script(await _started_state(handle)):
        label = f"{type(command).__name__} by {command.by}"
        await _advance(env, at, starts, progress, label)
        await handle.execute_update(update, command)
    await _advance(env, starts + timedelta(days=366), starts, progress, "closing")
    result = await handle.result()
    progress(1.0, f"closed: {result.outcome}")

    queried = await handle.query(W.state)
    store = EventStore(pool)
    stored = await store.read_stream(workflow_id(rid))
    events: list[RelationshipEvent] = [
        from_record(r.type, r.event_id, r.occurred_at, r.actor, r.payload) for r in stored
    ]
    outbox = await store.outbox(workflow_id(rid))
    runs = await replay_all_runs(env.client, handle)
    return _report(queried, events, Counter(kind for _, kind, _ in outbox), runs, url)


def _report(
    state: RelationshipState,
    events: list[RelationshipEvent],
    notifications: Counter[str],
    runs: int,
    url: str,
) -> DemoReport:
    assert state.closure is not None
    folded, summary = summarise(events)
    return DemoReport(
        relationship_id=state.relationship_id,
        outcome=state.closure.outcome,
        closure_reason=state.closure.reason,
        starts_at=state.starts_at,
        ends_at=state.ends_at,
        meetings_held=summary.meetings_held,
        meetings_missed=summary.meetings_missed,
        feedback={name: FeedbackSummary(**c.model_dump()) for name, c in summary.feedback.items()},
        escalations=[e.model_dump(mode="json") for e in state.escalations],
        notifications=dict(sorted(notifications.items())),
        events=len(events),
        fold_matches_workflow=folded == state,
        runs_replayed=runs,
        timeline=timeline(events),
        database_url=url,
    )
