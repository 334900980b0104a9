"""``mentorflow simulate``: a programme year in virtual time, with simulated people.

The real ProgrammeWorkflow and RelationshipWorkflows run on a time-skipping Temporal server
against the event store. Simulated people act only through the Updates real people use, at times
drawn from the scenario's ``behaviour`` with its seed; the script overrides chance. The scenario's
dates may lie in the past: the calendar is shifted to start at the server's virtual now, and every
time in the report is shifted back to the scenario's own dates.
"""

import asyncio
import heapq
import itertools
import math
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from pydantic import BaseModel
from temporalio.client import WorkflowHandle, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from activities.mail.smtp import SmtpConfig
from contracts.messages import LAUNCH_BATCH
from domain import durations
from domain.calendar import ProgrammeCalendar, calendar, shifted
from domain.codec import PROGRAMME, RELATIONSHIP
from domain.feedback import FeedbackQuestions, Question
from domain.localtime import local_date
from domain.model import Role
from domain.programme.commands import ApproveMatching, MarkTrained, Remove
from domain.programme.events import ProgrammeReport
from domain.programme.fold import fold
from domain.programme.state import ProgrammeState
from domain.relationship.commands import (
    AddAgendaItem,
    CancelMeeting,
    Pause,
    RecordAgreement,
    RecordMeeting,
    Resume,
    ScheduleMeeting,
    SubmitFeedback,
    Withdraw,
)
from domain.relationship.events import FeedbackRound
from domain.relationship.state import RelationshipState
from domain.summary import summarise
from mentorflow import embedded
from mentorflow.database import open_database
from mentorflow.privacy import erase
from mentorflow.programme_files import ProgrammeFile, load_programme
from mentorflow.programmes import register
from mentorflow.runtime import build_worker
from mentorflow.scenario import Behaviour, ScriptedAction
from mentorflow.settings import Settings
from mentorflow.timeline import TimelineEntry, timeline
from mentorflow.verify import replay_all_runs
from store.deliveries import DeliveryLog
from store.event_store import EventStore, RecordedEvent
from store.integrity import verify_log
from store.sealing import ErasedPersonError, MasterKeys, Sealer, UnknownAuthorError
from workflows.messages import ProgrammeInput, programme_workflow_id, workflow_id
from workflows.programme import ProgrammeWorkflow
from workflows.relationship import RelationshipWorkflow

Progress = Callable[[float, str], None]
LEAD = timedelta(days=30)
"""The simulation starts this long before the programme's first date (training, matching...)."""


class RelationshipOutcome(BaseModel):
    id: str
    mentors: list[str]
    mentees: list[str]
    phase: str
    outcome: str | None
    reason: str | None
    meetings_held: int
    meetings_missed: int
    feedback: dict[str, dict[str, Any]]
    escalations: list[dict[str, str]]


class SimulationReport(BaseModel):
    scenario: str
    seed: int
    programme: dict[str, Any]
    relationships: list[RelationshipOutcome]
    report: ProgrammeReport | None
    notifications: dict[str, int]
    mail: dict[str, int]
    """Messages the notifications call for (one per recipient), and how many were sent/failed."""
    events: dict[str, int]
    actions: dict[str, int]
    checks: dict[str, bool | int]
    timeline_of: str | None
    """The group whose timeline follows: a dissolved one, else the one with most escalations."""
    timeline: list[TimelineEntry]


@dataclass(order=True)
class _Planned:
    at: datetime
    seq: int
    act: Callable[[], Awaitable[None]] = field(compare=False)


class Simulation:
    """The simulated people of one programme, and the virtual clock they act on.

    The people's behaviour (what they draw from the seed, in what order, and the commands they
    send) is the same for both engines; an engine says how time advances, how a command reaches
    the programme or a group (``update``), which ``handle`` a group has (anything with
    ``query``), and how a person's data is erased.
    """

    def __init__(self, scenario: ProgrammeFile, seed: int, shift: timedelta):
        self.scenario, self.shift = scenario, shift
        self.behaviour = scenario.behaviour or Behaviour()
        self.rng, self.seed = random.Random(seed), seed
        self.actions: Counter[str] = Counter()
        self._queue: list[_Planned] = []
        self._seq = itertools.count()
        # A scripted answer replaces the drawn one, as a scripted skip does.
        self._skips = {
            (s.person, s.round)
            for s in self.behaviour.script
            if s.action in ("skip_feedback", "submit_feedback")
        }

    def skips(self, person: str, feedback_round: str) -> bool:
        """Whether the script says ``person`` never answers ``feedback_round``."""
        return (person, feedback_round) in self._skips

    def plan(self, at: datetime, act: Callable[[], Awaitable[None]]) -> None:
        # Whole seconds: what people do then lands a few milliseconds later, and a report in
        # whole seconds is the same on every run with the same seed.
        whole = at.replace(microsecond=0) + (
            timedelta(seconds=1) if at.microsecond else timedelta(0)
        )
        heapq.heappush(self._queue, _Planned(whole, next(self._seq), act))

    async def run(self, progress: Progress, start: datetime, end: datetime) -> None:
        while self._queue:
            item = heapq.heappop(self._queue)
            await self.advance(item.at)
            progress((item.at - start) / (end - start), "people acting")
            await item.act()

    # What each engine says.

    async def advance(self, to: datetime) -> None:
        """Let virtual time run to ``to``: every step of the workflows due by then is taken."""
        raise NotImplementedError

    async def update(self, handle: Any, update: Any, command: Any) -> None:
        """Act as a person would; a refusal is counted by its reason, like a person would see it."""
        raise NotImplementedError

    async def sealed(self, sealer: Sealer, command: Any) -> Any | None:
        """``command`` with its free texts sealed by its author's data key, as the web app seals
        them; None, the refusal counted, for an author erased or not held by the programme."""
        author = getattr(command, "by", None)
        if author is None:
            return command
        try:
            return await sealer.seal_command(command, author)
        except ErasedPersonError:
            self.actions["refused:erased"] += 1
        except UnknownAuthorError:  # a script naming no one the programme holds
            self.actions["refused:unknown_person"] += 1
        return None

    def group(self, relationship_id: str) -> Any:
        """The handle of a group (its ``query`` answers the group's state)."""
        raise NotImplementedError

    async def erase(self, person: str, by: str, reason: str) -> None:
        """``mentorflow privacy erase`` of ``person``'s personal data, by ``by``."""
        raise NotImplementedError


class TemporalSimulation(Simulation):
    """The people acting on the real workflows, on a time-skipping Temporal server."""

    def __init__(
        self,
        env: WorkflowEnvironment,
        scenario: ProgrammeFile,
        seed: int,
        shift: timedelta,
        sealer: Sealer,
    ):
        super().__init__(scenario, seed, shift)
        self.env, self.sealer = env, sealer

    async def advance(self, to: datetime) -> None:
        delta = to - await self.env.get_current_time()
        if delta > timedelta(0):
            await embedded.skip(self.env, delta)

    def group(self, relationship_id: str) -> WorkflowHandle[Any, Any]:
        return self.env.client.get_workflow_handle(workflow_id(relationship_id))

    async def erase(self, person: str, by: str, reason: str) -> None:
        await erase(self.sealer.pool, self.sealer, person, by, reason)

    async def update(self, handle: WorkflowHandle[Any, Any], update: Any, command: Any) -> None:
        """The command's free texts are sealed with the author's data key, as the web app does."""
        command = await self.sealed(self.sealer, command)
        if command is None:
            return
        try:
            await handle.execute_update(update, command)
            self.actions["accepted"] += 1
        except WorkflowUpdateFailedError as e:
            self.actions[f"refused:{getattr(e.cause, 'type', 'error')}"] += 1
        except RPCError as e:
            # The workflow has completed (a dissolved group): Temporal refuses the update itself.
            if e.status != RPCStatusCode.NOT_FOUND and "completed" not in e.message:
                raise
            self.actions["refused:closed"] += 1


def start_of_run(cal: ProgrammeCalendar, clock: datetime) -> tuple[timedelta, datetime]:
    """The shift of the scenario's calendar to a run whose clock reads ``clock``, and when the
    run starts (LEAD before the programme's first date, shifted)."""
    now = clock.replace(microsecond=0) + timedelta(seconds=1)
    shift = now - (min(cal.starts_at, cal.training_deadline, cal.matching_at) - LEAD)
    # Whole days, so that the scenario's local midnights stay local midnights (the zone's
    # offsets move with the calendar: see ``shifted``).
    shift = timedelta(days=math.ceil(shift / timedelta(days=1)))
    # The run then starts exactly LEAD before the first date (the clock skips there), so every
    # time reported back is the same from run to run.
    return shift, min(cal.starts_at, cal.training_deadline, cal.matching_at) - LEAD + shift


async def _query_started(handle: Any, query: Any) -> Any:
    for _ in range(400):
        try:
            return await handle.query(query)
        except WorkflowQueryFailedError:
            await asyncio.sleep(0.025)
    raise RuntimeError(f"{handle.id} did not record its start")


def plan_programme(sim: Simulation, handle: Any, state: ProgrammeState) -> None:
    b, cal, coordinator = sim.behaviour, state.calendar, state.programme.coordinator.id
    now = state.started_at
    for mentor in sorted(state.untrained_mentors()):
        if sim.rng.random() < b.training_completion:
            at = now + (cal.training_deadline - now) * sim.rng.uniform(0.1, 0.9)
            trained_on = local_date(at, cal.zone) - timedelta(days=sim.shift.days)
            command = MarkTrained(by=coordinator, person_id=mentor, trained_on=trained_on)
            sim.plan(at, partial(sim.update, handle, ProgrammeWorkflow.mark_trained, command))
    approve_at = cal.matching_at
    scripted_approval = any(a.action == "approve_matching" for a in b.script)
    if state.programme.matching.approval == "coordinator" and not scripted_approval:
        approve_at = durations.add(cal.matching_at, b.coordinator_approval_delay)
        approve = ApproveMatching(by=coordinator, reason="simulated coordinator")
        sim.plan(
            approve_at, partial(sim.update, handle, ProgrammeWorkflow.approve_matching, approve)
        )
    if scripted_approval:
        approve_at = max(
            _scripted_at(sim, a, cal.starts_at.tzinfo)
            for a in b.script
            if a.action == "approve_matching"
        )
    sim.plan(approve_at + timedelta(hours=1), partial(_discover_groups, sim, handle))
    for scripted in sim.behaviour.script:
        if scripted.date is not None:
            at = _scripted_at(sim, scripted, cal.starts_at.tzinfo)
            sim.plan(at, partial(_act_as_scripted, sim, handle, scripted))


def _scripted_at(sim: Simulation, scripted: ScriptedAction, tz: Any) -> datetime:
    """Noon (UTC) of the scripted date, in the simulation's shifted calendar."""
    assert scripted.date is not None
    return (
        datetime.combine(scripted.date, datetime.min.time(), tz) + sim.shift + timedelta(hours=12)
    )


async def _act_as_scripted(sim: Simulation, handle: Any, a: ScriptedAction) -> None:
    """Send the Update the real person would send, with the script's data."""
    state: ProgrammeState = await _query_started(handle, ProgrammeWorkflow.state)
    coordinator = state.programme.coordinator.id
    member = a.member or a.person
    days = timedelta(days=sim.shift.days)  # scenario dates -> the shifted calendar's
    reason = a.reason or "scripted"
    if a.action == "approve_matching":
        approve = ApproveMatching(by=a.person, reason=a.reason)
        await sim.update(handle, ProgrammeWorkflow.approve_matching, approve)
        return
    if a.action == "mark_trained":
        assert a.date is not None
        trained_on = (a.trained_on or a.date) + days
        command = MarkTrained(by=a.person, person_id=member, trained_on=trained_on)
        await sim.update(handle, ProgrammeWorkflow.mark_trained, command)
        return
    if a.action == "erase_personal_data":
        await sim.erase(member, a.person, reason)
        sim.actions["erased"] += 1
        return
    if a.action == "remove":
        await sim.update(
            handle, ProgrammeWorkflow.remove, Remove(by=a.person, person_id=member, reason=reason)
        )
        return
    group = _group_of(sim, state, member)
    if group is None:
        if a.action == "withdraw":  # not in a group: leave the programme (refused after matching)
            remove = Remove(by=coordinator, person_id=member, reason=reason)
            await sim.update(handle, ProgrammeWorkflow.remove, remove)
        else:
            sim.actions["refused:not_a_member"] += 1  # there is no group to act in
        return
    questions = sim.scenario.programme.feedback.questions
    zone = ZoneInfo(state.programme.timezone)
    update, command = _group_command(a, member, days, questions, sim.seed, zone)
    await sim.update(group, update, command)


def _group_of(sim: Simulation, state: ProgrammeState, person: str) -> Any:
    """The group ``person`` is in (the open one first); none if never placed in one."""
    groups = sorted(
        (g.outcome is not None, rid)
        for rid, g in state.launched.items()
        if person in (*g.mentors, *g.mentees)
    )
    if not groups:
        return None
    return sim.group(groups[0][1])


def _group_command(
    a: ScriptedAction,
    member: str,
    days: timedelta,
    questions: FeedbackQuestions,
    seed: int,
    zone: ZoneInfo,
) -> tuple[Any, Any]:
    assert a.date is not None
    match a.action:
        case "schedule_meeting" | "cancel_meeting" | "add_agenda_item":
            return _planning_command(a, days, zone)
        case "record_agreement":
            goals = a.goals or ("scripted goals",)
            agreement = RecordAgreement(by=a.person, goals=goals, agreement=a.text or "scripted")
            return RelationshipWorkflow.record_agreement, agreement
        case "record_meeting":
            meeting = RecordMeeting(
                by=a.person,
                held_on=(a.held_on or a.date) + days,
                held=a.held,
                attendees=(a.attendees or (a.person,)) if a.held else (),
                reason=None if a.held else (a.reason or "scripted"),
            )
            return RelationshipWorkflow.record_meeting, meeting
        case "submit_feedback":
            assert a.round is not None
            return RelationshipWorkflow.submit_feedback, _feedback(
                seed, a.person, a.round, questions.of(a.round), a.answers
            )
        case "withdraw":
            withdraw = Withdraw(person_id=member, by=a.person, reason=a.reason or "scripted")
            return RelationshipWorkflow.withdraw, withdraw
        case "pause":
            return RelationshipWorkflow.pause, Pause(by=a.person, reason=a.reason or "scripted")
        case _:
            return RelationshipWorkflow.resume, Resume(by=a.person)


def _planning_command(a: ScriptedAction, days: timedelta, zone: ZoneInfo) -> tuple[Any, Any]:
    """A mentor's meeting time (set or cancelled) or a member's agenda item, as on the web."""
    assert a.date is not None
    match a.action:
        case "schedule_meeting":
            # The wall time on the scenario's day, then shifted: the group's zone offsets move
            # with the shifted calendar, so it reads the same wall time across DST changes.
            day = a.meeting_on or a.date + timedelta(days=7)
            wall = datetime.combine(day, a.starts or time(17), zone)
            starts_at = wall.astimezone(UTC) + days
            meeting = ScheduleMeeting(
                by=a.person,
                starts_at=starts_at,
                minutes=a.minutes,
                place=a.place or "scripted",
                number=a.number,
            )
            return RelationshipWorkflow.schedule_meeting, meeting
        case "cancel_meeting":
            return RelationshipWorkflow.cancel_meeting, CancelMeeting(by=a.person, number=a.number)
        case _:
            agenda = AddAgendaItem(by=a.person, text=a.text or "scripted")
            return RelationshipWorkflow.add_agenda_item, agenda


async def _discover_groups(sim: Simulation, handle: Any) -> None:
    state: ProgrammeState = await _query_started(handle, ProgrammeWorkflow.state)
    for rid in sorted(state.launched):
        relationship = sim.group(rid)
        _plan_relationship(
            sim, relationship, await _query_started(relationship, RelationshipWorkflow.state)
        )


def _plan_relationship(sim: Simulation, handle: Any, s: RelationshipState) -> None:
    b, rng = sim.behaviour, sim.rng
    mentors, members = s.active_members(Role.MENTOR), s.active_members()
    scripted_agreement = any(
        a.action == "record_agreement" and (a.member or a.person) in members for a in b.script
    )
    if rng.random() < b.agreement_on_time and not scripted_agreement:
        at = s.starts_at + (s.agreement.due_at - s.starts_at) * rng.uniform(0.1, 0.9)
        agree = RecordAgreement(by=mentors[0], goals=("shared goals",), agreement="simulated")
        sim.plan(at, partial(sim.update, handle, RelationshipWorkflow.record_agreement, agree))
    for n in itertools.count(1):
        due = durations.add(s.meeting_anchor, s.policy.cadence, n, zone=s.zone)
        if due >= s.ends_at:
            break
        held = rng.random() < b.meeting_held
        draws = {m: rng.random() for m in members}  # drawn now, so the plan never depends on timing
        if held:
            at = max(due - timedelta(days=rng.uniform(1, 5)), s.starts_at + timedelta(hours=1))
            sim.plan(at, partial(_record_meeting, sim, handle, at, draws))
    for feedback in s.feedback.values():
        for member in members:
            r = rng.random()
            if sim.skips(member, feedback.round):
                continue
            window = feedback.due_at - feedback.opens_at
            late_window = (
                durations.add(feedback.due_at, s.policy.overdue_after, zone=s.zone)
                - feedback.due_at
            )
            if r < b.feedback_on_time:
                at = feedback.opens_at + window * rng.uniform(0.05, 0.95)
            elif r < b.feedback_on_time + b.feedback_late:
                at = feedback.due_at + late_window * rng.uniform(0.05, 0.9)
            else:
                continue
            questions = s.policy.feedback_questions
            command = (
                _feedback(sim.seed, member, feedback.round, questions.of(feedback.round))
                if questions is not None
                else SubmitFeedback(by=member, round=feedback.round, answers={"useful": "yes"})
            )
            sim.plan(at, partial(sim.update, handle, RelationshipWorkflow.submit_feedback, command))


def _feedback(
    seed: int,
    person: str,
    feedback_round: FeedbackRound,
    questions: tuple[Question, ...],
    scripted: dict[str, str] | None = None,
) -> SubmitFeedback:
    """A simulated person's answers to the round's questions (a script's answers first).

    Drawn from the seed, the person and the round alone, so the plan's other draws stay as they
    were. A scripted answer to a question the round does not ask is sent as it is: the group
    refuses it.
    """
    rng = random.Random(f"{seed}:{person}:{feedback_round}")
    given = dict(scripted or {})
    for q in questions:
        if q.id in given or not (q.required or rng.random() < 0.5):
            continue
        if q.type == "scale":
            given[q.id] = rng.choice(("2", "3", "4", "4", "5", "5"))
        elif q.type == "choice":
            given[q.id] = rng.choice(q.options).id
        else:
            given[q.id] = "simulated"
    coded = {q.id for q in questions if q.coded}
    return SubmitFeedback(
        by=person,
        round=feedback_round,
        answers={k: v for k, v in given.items() if k not in coded},
        choices={k: v for k, v in given.items() if k in coded},
    )


async def _record_meeting(
    sim: Simulation, handle: Any, at: datetime, draws: dict[str, float]
) -> None:
    state: RelationshipState = await handle.query(RelationshipWorkflow.state)
    active = state.active_members()
    if state.closed or not active:
        return
    attendees = tuple(m for m in active if draws.get(m, 1.0) < sim.behaviour.meeting_attendance)
    recorder = next(iter(state.active_members(Role.MENTOR)), active[0])
    held_on = local_date(at, state.zone)  # the day it is where the group is
    command = RecordMeeting(by=recorder, held_on=held_on, attendees=attendees or (recorder,))
    await sim.update(handle, RelationshipWorkflow.record_meeting, command)


async def simulate(
    file: Path,
    seed: int | None,
    database_url: str,
    progress: Progress,
    mail: SmtpConfig,
    migrate_schema: bool = True,
    master: MasterKeys | None = None,
    protect: bool = True,
    launch_batch: int = LAUNCH_BATCH,
) -> SimulationReport:
    """Run ``file``'s programme with its simulated people.

    ``master``: the master keys of sealing (default: the settings'). Data keys are per person
    id, and a database keeps them across runs: every run on one database needs the same keys.
    ``protect=False`` (``bench.privacy`` only) runs without sealing texts and without the payload
    codec, to measure what they cost. ``launch_batch``: groups the programme launches per step
    (a test launches a small cohort in several steps).
    """
    scenario = load_programme(file)
    master = master or Settings().master()
    behaviour = scenario.behaviour or Behaviour()
    seed = behaviour.seed if seed is None else seed
    pool = await open_database(database_url, migrate_schema)
    try:
        converter = embedded.converter() if protect else pydantic_data_converter
        async with await embedded.start_time_skipping(converter) as env:
            task_queue = f"simulate-{uuid.uuid4()}"
            async with build_worker(env.client, pool, mail, task_queue, master=master):
                sealer = Sealer(pool, master, seal=protect)
                return await _simulate(
                    env, pool, task_queue, file, scenario, seed, progress, sealer, launch_batch
                )
    finally:
        await pool.close()


async def _simulate(
    env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    task_queue: str,
    file: Path,
    scenario: ProgrammeFile,
    seed: int,
    progress: Progress,
    sealer: Sealer,
    launch_batch: int,
) -> SimulationReport:
    programme = scenario.programme
    # Each run gets its own id: the event store keeps every earlier simulation's record.
    run_id = f"{programme.id[:50]}.sim-{uuid.uuid4().hex[:8]}"
    programme = programme.model_copy(update={"id": run_id})
    await register(pool, programme, scenario.participants)
    cal = calendar(programme)
    shift, now = start_of_run(cal, await env.get_current_time())
    ahead = now - await env.get_current_time()
    if ahead > timedelta(0):
        await embedded.skip(env, ahead)
    virtual = shifted(cal, shift)
    handle = await env.client.start_workflow(
        ProgrammeWorkflow.run,
        ProgrammeInput(
            programme=programme,
            calendar=virtual,
            participants=[p.profile() for p in scenario.participants],
            launch_batch=launch_batch,
        ),
        id=programme_workflow_id(run_id),
        task_queue=task_queue,
    )
    sim = TemporalSimulation(env, scenario, seed, shift, sealer)
    plan_programme(sim, handle, await _query_started(handle, ProgrammeWorkflow.state))
    await sim.run(progress, now, virtual.ends_at)
    await handle.result()
    progress(1.0, "programme closed")
    return await _report(env, pool, handle, file, seed, sim)


async def _report(
    env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    handle: WorkflowHandle[Any, Any],
    file: Path,
    seed: int,
    sim: TemporalSimulation,
) -> SimulationReport:
    store = EventStore(pool)
    stream = programme_workflow_id(handle.id.removeprefix("programme:"))
    p_records = await store.read_stream(stream)
    state = fold(PROGRAMME.decode(r) for r in p_records)
    queried: ProgrammeState = await handle.query(ProgrammeWorkflow.state)
    notifications = Counter(kind for _, kind, _ in await store.outbox(stream))
    relationships, total, folds_match, runs = [], len(p_records), state == queried, 0
    streams = {}
    for rid in sorted(state.launched):
        records = await store.read_stream(workflow_id(rid))
        events = [RELATIONSHIP.decode(r) for r in records]
        total += len(events)
        notifications.update(kind for _, kind, _ in await store.outbox(workflow_id(rid)))
        streams[rid] = records
        folded, summary = summarise(events)
        r_handle = env.client.get_workflow_handle(workflow_id(rid))
        folds_match = folds_match and folded == await r_handle.query(RelationshipWorkflow.state)
        runs += await replay_all_runs(env.client, r_handle)
        relationships.append(relationship_outcome(rid, folded, summary, sim.shift))
    runs += await replay_all_runs(env.client, handle)
    shown = most_eventful(relationships)
    return SimulationReport(
        scenario=str(file),
        seed=seed,
        programme=programme_summary(state),
        relationships=relationships,
        report=state.report,
        notifications=dict(sorted(notifications.items())),
        mail=await DeliveryLog(pool).summary([stream, *(workflow_id(r) for r in state.launched)]),
        events={
            "total": total,
            "programme": len(p_records),
            "relationships": total - len(p_records),
        },
        actions=dict(sorted(sim.actions.items())),
        checks={
            "fold_matches_workflows": folds_match,
            "workflow_runs_replayed": runs,
            "hash_chains_verified": await _chains_verified(pool),
        },
        timeline_of=shown,
        timeline=await _timeline(streams.get(shown or "", []), sim),
    )


def programme_summary(state: ProgrammeState) -> dict[str, Any]:
    return {
        "id": state.programme.id,
        "phase": state.phase,
        "participants": len(state.participants),
        "groups": len(state.launched),
        "excluded_untrained": state.excluded,
        "unmatched": [
            u.model_dump(mode="json") for u in (state.proposal.unmatched if state.proposal else ())
        ],
    }


async def _timeline(records: list[RecordedEvent], sim: TemporalSimulation) -> list[TimelineEntry]:
    """The group's timeline as a reader sees it: texts opened, times to the second."""
    events = [RELATIONSHIP.decode(r, await sim.sealer.open_tree(r.payload)) for r in records]
    return [
        entry.model_copy(update={"at": entry.at.replace(microsecond=0)})
        for entry in timeline(events, sim.shift)
    ]


async def _chains_verified(pool: asyncpg.Pool) -> bool:
    """What `mentorflow audit verify --all` checks first: the whole log's hash chains."""
    async with pool.acquire() as conn:
        return (await verify_log(conn)).ok


def most_eventful(relationships: list[RelationshipOutcome]) -> str | None:
    ranked = sorted(
        relationships, key=lambda r: (r.outcome != "dissolved", -len(r.escalations), r.id)
    )
    return ranked[0].id if ranked else None


def relationship_outcome(
    rid: str, s: RelationshipState, summary: Any, shift: timedelta
) -> RelationshipOutcome:
    return RelationshipOutcome(
        id=rid,
        mentors=s.active_members(Role.MENTOR)
        + [m.person_id for m in s.members.values() if not m.active and m.role == Role.MENTOR],
        mentees=[m.person_id for m in s.members.values() if m.role == Role.MENTEE],
        phase=s.phase,
        outcome=s.closure.outcome if s.closure else None,
        reason=s.closure.reason if s.closure else None,
        meetings_held=summary.meetings_held,
        meetings_missed=summary.meetings_missed,
        feedback={k: v.model_dump() for k, v in summary.feedback.items()},
        escalations=[
            {
                "kind": e.kind,
                "subject": e.subject,
                "at": (e.at - shift).isoformat(timespec="seconds"),
            }
            for e in s.escalations
        ],
    )
