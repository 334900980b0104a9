"""``mentorflow simulate --engine domain``: the same programme year, stepped in one process.

The full engine (``mentorflow.simulate``) runs the real workflows on a time-skipping Temporal
server against the event store. This one takes the same decisions without either: the same
simulated people (``simulate.Simulation``: the same draws from the seed, in the same order, the
same commands), and for the programme and each group the loop their workflows run, over the same
domain functions: ``decide`` for a person's command, ``schedule.due_events`` when a step falls
due, ``fold``/``apply`` for the state, and the pure cores of the activities (``match`` and
``proposal_events`` for the matching, ``relationship_spec``/``start``/``opening`` for a launch,
``summarise``/``add_up`` for the report). Time is a virtual clock; there is no database, no
mail and no Temporal history, so the report's ``mail`` holds only the messages the
notifications call for, and its ``checks`` only the fold check.

What the workflows add on top of the domain, and this loop reproduces:

- a person's Update lands ``LANDING`` after the second it was planned for (on Temporal, a few
  milliseconds later), so that a group launched on an approval starts on the next whole second,
  as ``relationship_spec`` rounds it;
- a timer fires at its step's time rounded up to the millisecond (``workflows.clock``), and the
  clock moves ``ACTIVITY`` on while the matching or a launch runs;
- after each step, Update or signal, the workflow steps again at once while something is due
  (one I/O action per step, a batch of the input's ``launch_batch`` launches per step);
- a new run per phase (continue-as-new) decides again whether to announce the programme's start;
- a group that closes tells the programme, which records the end and steps again;
- an Update to a closed workflow is refused as ``closed``; free texts are checked as sealing
  checks them (an author the programme does not hold is refused as ``unknown_person``).

``tests/test_rehearsal.py`` runs scenarios through both engines with the same seed and requires
the same event streams and the same report.
"""

import heapq
import itertools
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from contracts.messages import ProgrammeInput, programme_workflow_id, workflow_id
from domain.calendar import calendar, shifted
from domain.envelope import Notifying
from domain.errors import RuleViolation
from domain.factory import EventFactory
from domain.matching import ProposedGroup, match
from domain.model import PersonId
from domain.programme import commands as programme_commands
from domain.programme import schedule as programme_schedule
from domain.programme.events import ProgrammeEvent, ProgrammeReport
from domain.programme.fold import apply_in_place as programme_apply_in_place
from domain.programme.fold import fold as programme_fold
from domain.programme.schedule import Action
from domain.programme.state import ProgrammeState
from domain.relationship import commands as relationship_commands
from domain.relationship import schedule as relationship_schedule
from domain.relationship.events import RULES, RelationshipEvent
from domain.relationship.fold import apply_in_place
from domain.relationship.fold import fold as relationship_fold
from domain.relationship.state import RelationshipState
from domain.summary import add_up, summarise
from mentorflow.programme_files import ProgrammeFile, load_programme
from mentorflow.scenario import Behaviour
from mentorflow.simulate import (
    LEAD,
    Progress,
    Simulation,
    SimulationReport,
    most_eventful,
    plan_programme,
    programme_summary,
    relationship_outcome,
    start_of_run,
)
from mentorflow.timeline import timeline
from store.sealing import Sealer, UnknownAuthorError

LANDING = timedelta(milliseconds=1)
"""How long after its planned second a person's action lands (the Update's trip)."""

ACTIVITY = timedelta(milliseconds=1)
"""How far the clock moves while the programme's matching or a group's launch runs (on Temporal
an activity's real time passes on the virtual clock too): groups the programme approves itself
start on the next whole second, as there."""


_NIL = uuid.UUID(int=0)


class UnsupportedScenario(ValueError):
    """The scenario asks for something only the full engine does."""


def _ceil_ms(at: datetime) -> datetime:
    """A timer's firing time: Temporal's resolution is the millisecond, rounded up."""
    extra = at.microsecond % 1000
    return at + timedelta(microseconds=1000 - extra) if extra else at


@dataclass(eq=False)
class _Run:
    """One workflow's record: its stream, its state, when it wakes, whether it has completed."""

    stream: str
    events: list[Any] = field(default_factory=list)
    state: Any = None
    wake: datetime | None = None
    completed: bool = False

    async def query(self, _query: Any) -> Any:
        """The workflow's ``state`` query."""
        return self.state


class _Directory(Sealer):
    """Sealing's checks without keys: a free text is refused for an author the programme does
    not hold (``UnknownAuthorError``), and is otherwise left as it is."""

    def __init__(self, people: set[PersonId]):
        self._people, self._seal = people, True

    async def seal(self, text: str, author: str) -> str:
        if author not in self._people:
            raise UnknownAuthorError(f"no data key made for {author!r}")
        return text


class DomainSimulation(Simulation):
    """The programme and its groups stepped over the domain on a virtual clock."""

    def __init__(self, scenario: ProgrammeFile, seed: int, shift: timedelta, run_id: str):
        super().__init__(scenario, seed, shift)
        programme = scenario.programme.model_copy(update={"id": run_id})
        self.calendar = shifted(calendar(programme), shift)
        self.now = datetime.min.replace(tzinfo=UTC)
        self.programme = _Run(programme_workflow_id(run_id))
        self.groups: dict[str, _Run] = {}
        self._timers: list[tuple[datetime, int, _Run]] = []
        self._seq = itertools.count()
        self._phase: str | None = None
        self.matching_seconds = 0.0
        """Wall time spent computing the matching (for ``bench.simulation``)."""
        self._announce_start = False
        self._directory = _Directory(
            {p.id for p in scenario.participants} | {programme.coordinator.id}
        )
        # What the workflow's input holds (the coordinator by id, profiles without contacts).
        self._input = ProgrammeInput(
            programme=programme,
            calendar=self.calendar,
            participants=[p.profile() for p in scenario.participants],
        )

    # The engine's clock.

    def start(self, at: datetime) -> None:
        """Start the programme's workflow at ``at``: its start recorded, its first step taken."""
        self.now = at
        self._new_programme_run()
        started = programme_commands.start(
            self._input.programme,
            self._input.calendar,
            tuple(self._input.participants),
            self._factory(),
        )
        self._record(self.programme, [started])
        self._step_programme()

    async def advance(self, to: datetime) -> None:
        self.run_timers(until=to)
        self.now = max(self.now, to)

    def run_timers(self, until: datetime | None = None) -> None:
        """Fire every timer due by ``until`` (all of them: None), in time order."""
        while self._timers and (until is None or self._timers[0][0] <= until):
            at, _, run = heapq.heappop(self._timers)
            if run.completed or run.wake != at:
                continue  # superseded by a later step's wake-up
            run.wake = None
            self.now = max(self.now, at)
            if run is self.programme:
                self._step_programme()
            else:
                self._step_group(run)

    def group(self, relationship_id: str) -> _Run:
        return self.groups[relationship_id]

    async def erase(self, person: str, by: str, reason: str) -> None:
        raise UnsupportedScenario("erase_personal_data needs the full engine (a database)")

    async def update(self, handle: _Run, update: Any, command: Any) -> None:
        """The Update's validator and handler: ``decide`` on the state, then record; the
        workflow then steps again (the schedule may have changed)."""
        self.now = max(self.now, self.now.replace(microsecond=0) + LANDING)
        command = await self.sealed(self._directory, command)
        if command is None:
            return
        if handle.completed:
            self.actions["refused:closed"] += 1
            return
        try:
            if handle is self.programme:
                events: list[Any] = programme_commands.decide(
                    handle.state, command, self._factory(command.by)
                )
            else:
                events = relationship_commands.decide(
                    handle.state, command, self._factory(command.by)
                )
        except RuleViolation as e:
            self.actions[f"refused:{e.code}"] += 1
            return
        self._record(handle, events)
        self.actions["accepted"] += 1
        if handle is self.programme:
            self._step_programme()
        else:
            self._step_group(handle)

    # The workflows' loops.

    def _factory(self, actor: str | None = None) -> EventFactory:
        if actor is None:
            return EventFactory(self.now, uuid.uuid4)
        return EventFactory(self.now, uuid.uuid4, actor=actor)

    def _record(self, run: _Run, events: list[Any]) -> None:
        if not events:
            return
        run.events += events
        # The engine owns each state and keeps no earlier version of it: applied in place.
        if run is self.programme:
            run.state = (
                programme_fold(events)
                if run.state is None
                else programme_apply_in_place(run.state, events)
            )
        else:
            run.state = (
                relationship_fold(events)
                if run.state is None
                else apply_in_place(run.state, events)
            )

    def _wake(self, run: _Run, at: datetime | None) -> None:
        run.wake = None if at is None else _ceil_ms(at)
        if run.wake is not None:
            heapq.heappush(self._timers, (run.wake, next(self._seq), run))

    def _new_programme_run(self) -> None:
        """A run's start: whether it announces the programme's first day is decided now."""
        self._announce_start = self.now < self.calendar.starts_at
        state: ProgrammeState | None = self.programme.state
        self._phase = state.phase if state is not None else None

    def _step_programme(self) -> None:
        run = self.programme
        for _ in range(100_000):
            # Decided and applied to the state in one pass, as for a group.
            run.events += programme_schedule.due_events_in_place(
                run.state, self._factory(), self._announce_start
            )
            self._act()
            state = run.state
            if state.closed:
                run.completed, run.wake = True, None
                return
            if state.phase != self._phase:
                self._new_programme_run()  # continue-as-new, then a step at once
                continue
            wake = programme_schedule.next_wakeup(state, True, self._announce_start)
            if wake is not None and wake <= self.now:
                continue
            self._wake(run, wake)
            return
        raise RuntimeError("the programme's schedule did not settle")  # a bug, not input

    def _act(self) -> None:
        """The programme's I/O step that is due, if any (the activities' pure cores)."""
        s: ProgrammeState = self.programme.state
        action = programme_schedule.next_action(s, True)
        if action is None or action[0] > self.now:
            return
        match action[1]:
            case Action.MATCH:
                rules = programme_commands.matching_rules(s)
                began = time.perf_counter()
                result = match(list(s.participants.values()), rules)
                self.matching_seconds += time.perf_counter() - began
                self._record(
                    self.programme, programme_commands.proposal_events(s, result, self._factory())
                )
                self.now += ACTIVITY
            case Action.LAUNCH:
                assert s.approved is not None
                waiting = [
                    g
                    for g in s.approved
                    if programme_commands.relationship_id(s.programme.id, g.number)
                    not in s.launched
                ]
                launched = [self._launch(g) for g in waiting[: self._input.launch_batch]]
                self._record(self.programme, launched)
            case Action.CHECK_GROUPS:
                still = ", ".join(s.open_relationships())
                raise RuntimeError(f"groups still open a day after the end: {still}")  # a bug
            case Action.CLOSE:
                unmatched = len(s.proposal.unmatched) if s.proposal else 0
                summaries = [summarise(self.groups[rid].events)[1] for rid in s.launched]
                report = ProgrammeReport.model_validate(
                    {**add_up(summaries), "unmatched": unmatched}
                )
                self._record(
                    self.programme,
                    [programme_commands.programme_closed(s, report, self._factory())],
                )

    def _launch(self, group: ProposedGroup) -> ProgrammeEvent:
        """Start a group's workflow (it records its start and opening steps) and return the
        programme's record of the launch."""
        s: ProgrammeState = self.programme.state
        spec = programme_commands.relationship_spec(s, group, self.now, self.programme.stream)
        run = _Run(workflow_id(spec.relationship_id))
        self.groups[spec.relationship_id] = run
        started = relationship_commands.start(spec, self._factory(), RULES)
        self._record(run, relationship_schedule.opening(started, self._factory(), skip_stale=True))
        self._step_group(run)
        self.now += ACTIVITY
        return programme_commands.relationship_launched(spec, group, self._factory())

    def _step_group(self, run: _Run) -> None:
        for _ in range(100_000):
            # Decided and applied to the group's state in one pass (the engine owns it).
            due = relationship_schedule.due_events_in_place(
                run.state, self._factory(), skip_stale=True
            )
            run.events += due
            state: RelationshipState = run.state
            if state.closed:
                run.completed, run.wake = True, None
                self._group_ended(state)
                return
            wake = relationship_schedule.next_wakeup(state)
            if wake is not None and wake <= self.now:
                continue
            self._wake(run, wake)
            return
        raise RuntimeError(f"group {run.stream}'s schedule did not settle")  # a bug, not input

    def _group_ended(self, group: RelationshipState) -> None:
        """The ``relationship_ended`` signal: the programme records it, then steps again."""
        closure = group.closure
        assert closure is not None
        programme: ProgrammeState = self.programme.state
        if self.programme.completed:
            return
        rid = group.relationship_id
        ended = programme_commands.relationship_ended(
            programme, rid, closure.outcome, closure.reason, self._factory()
        )
        self._record(self.programme, ended)
        self._step_programme()


async def rehearse(
    file: Path,
    seed: int | None,
    progress: Progress,
    shift: timedelta | None = None,
) -> SimulationReport:
    """Run ``file``'s programme with its simulated people on the domain engine.

    ``shift``: how far the scenario's dates move (whole days); by default as far as the full
    engine would move them today (the report's times are the scenario's own either way).
    """
    return (await rehearsal(file, seed, progress, shift))[0]


async def rehearsal(
    file: Path,
    seed: int | None,
    progress: Progress,
    shift: timedelta | None = None,
) -> tuple[SimulationReport, DomainSimulation]:
    """``rehearse``, with the simulation (its streams: ``programme.events``, ``groups``)."""
    scenario = load_programme(file)
    if any(a.action == "erase_personal_data" for a in (scenario.behaviour or Behaviour()).script):
        raise UnsupportedScenario(
            "the domain engine does not erase personal data (it has no database):"
            " run this scenario with --engine full"
        )
    behaviour = scenario.behaviour or Behaviour()
    seed = behaviour.seed if seed is None else seed
    cal = calendar(scenario.programme)
    default_shift, _ = start_of_run(cal, datetime.now(UTC))
    shift = default_shift if shift is None else shift
    start = min(cal.starts_at, cal.training_deadline, cal.matching_at) - LEAD + shift
    run_id = f"{scenario.programme.id[:50]}.sim-{uuid.uuid4().hex[:8]}"
    sim = DomainSimulation(scenario, seed, shift, run_id)
    sim.start(start)
    await _people(sim, progress, start)
    progress(1.0, "programme closed")
    return report(sim, file, seed), sim


async def _people(sim: DomainSimulation, progress: Progress, start: datetime) -> None:
    plan_programme(sim, sim.programme, sim.programme.state)
    await sim.run(progress, start, sim.calendar.ends_at)
    sim.run_timers()
    if not sim.programme.completed:
        raise RuntimeError("the programme did not close")  # a bug, not input


def report(sim: DomainSimulation, file: Path, seed: int) -> SimulationReport:
    """The report the full engine gives, from the events in memory."""
    state: ProgrammeState = programme_fold(sim.programme.events)
    folds_match = state == sim.programme.state
    notifications: Counter[str] = Counter(_kinds(sim.programme.events))
    relationships, total = [], len(sim.programme.events)
    for rid in sorted(state.launched):
        events: list[RelationshipEvent] = sim.groups[rid].events
        total += len(events)
        notifications.update(_kinds(events))
        folded, summary = summarise(events)
        folds_match = folds_match and folded == sim.groups[rid].state
        relationships.append(relationship_outcome(rid, folded, summary, sim.shift))
    shown = most_eventful(relationships)
    shown_events = sim.groups[shown].events if shown else []
    return SimulationReport(
        scenario=str(file),
        seed=seed,
        programme=programme_summary(state),
        relationships=relationships,
        report=state.report,
        notifications=dict(sorted(notifications.items())),
        mail={"messages": sum(_owed(e) for r in _all_runs(sim) for e in r.events)},
        events={
            "total": total,
            "programme": len(sim.programme.events),
            "relationships": total - len(sim.programme.events),
        },
        actions=dict(sorted(sim.actions.items())),
        checks={"fold_matches_workflows": folds_match},
        timeline_of=shown,
        timeline=[
            entry.model_copy(update={"at": entry.at.replace(microsecond=0)})
            for entry in timeline(shown_events, sim.shift)
        ],
    )


def _all_runs(sim: DomainSimulation) -> list[_Run]:
    return [sim.programme, *sim.groups.values()]


def _kinds(events: list[Any]) -> list[str]:
    return [e.notification_kind for e in events if isinstance(e, Notifying) and e.recipients]


def _owed(event: Any) -> int:
    return len(event.recipients) if isinstance(event, Notifying) else 0
