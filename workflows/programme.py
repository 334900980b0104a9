"""ProgrammeWorkflow: one cohort, from enrolment to its report.

Like RelationshipWorkflow, its state is one model rebuilt by a fold of the events it records, and
its clock is the domain's schedule. Three steps need I/O and are carried out here: computing the
matching (an activity), starting one top-level RelationshipWorkflow per approved group (an
activity: groups outlive the programme's runs, which continue as new at each phase), and the
report at the end (an activity counting the stored events). Relationships tell the programme
when they close by the ``relationship_ended`` signal.
"""

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows import cohort, plumbing
from workflows.event_sourced import EventSourced

with workflow.unsafe.imports_passed_through():
    # pydantic's EmailStr imports email_validator on first use; load it with the workflow so the
    # sandbox passes it through instead of re-importing it inside a workflow task.
    import email_validator  # noqa: F401
    from activities.launching import CheckGroupsInput, GroupInspector, Launcher
    from activities.matching import ProposeMatchingInput, propose_matching
    from activities.record_keeping import (
        AppendProgrammeEventsInput,
        ReadEventsInput,
        RecordKeeping,
    )
    from activities.reporting import ClosureInput, RecordedClosure, Reporting, ReportInput
    from domain.factory import EventFactory
    from domain.matching import ProposedGroup
    from domain.model import PersonId
    from domain.programme import commands, schedule
    from domain.programme.commands import (
        ApproveMatching,
        Enrol,
        MarkTrained,
        ProgrammeCommand,
        Remove,
        UpdateProfile,
    )
    from domain.programme.events import (
        ProgrammeEvent,
        ProgrammeReport,
        ProgrammeStarted,
        RelationshipLaunched,
    )
    from domain.programme.fold import apply, fold
    from domain.programme.schedule import Action
    from domain.programme.state import ProgrammeState

    from workflows.messages import (
        RESUMING,
        CommandAccepted,
        ProgrammeInput,
        RelationshipInput,
        RelationshipResult,
        programme_workflow_id,
    )
    from workflows.relationship import RELATIONSHIP_ENDED


LIVENESS_PATCH = "programme-liveness"
"""Runs recorded before it neither check their groups after the end nor verify reports."""


def _liveness() -> bool:
    return workflow.patched(LIVENESS_PATCH)


@workflow.defn
class ProgrammeWorkflow(EventSourced[ProgrammeState, ProgrammeEvent, ProgrammeCommand]):
    NOT_STARTED_YET = "the programme has not started yet"
    WAIT_ON_FAILED_ACTIVITIES = True

    @workflow.init
    def __init__(self, input: ProgrammeInput) -> None:
        self._input = input
        self._begin(
            input.carried_state, input.programme.id, programme_workflow_id(input.programme.id)
        )
        self._announce_start = False
        self._bounded = False

    @workflow.run
    async def run(self, input: ProgrammeInput) -> ProgrammeReport:
        # The first-day message to the coordinator is new: runs recorded before it replay without
        # it, and a run that begins after the first day does not send it late.
        self._announce_start = (
            workflow.patched("announce-programme-start")
            and workflow.now() < input.calendar.starts_at
        )
        # Decided once per run, at its start (see cohort.BOUNDED_PATCH).
        self._bounded = workflow.patched(cohort.BOUNDED_PATCH)
        if self._state is None and (input.resume or input.cohort_staged):
            started = commands.start(input.programme, input.calendar, (), plumbing.factory())
            while not await self._take_in_stream(None if input.resume else started):
                await self._sleep_before_trying_again()
        elif self._state is None:
            started = commands.start(
                input.programme, input.calendar, tuple(input.participants), plumbing.factory()
            )
            # Under the lock: an Update may arrive while the start is being delivered.
            while not await self._step(lambda: [] if self._state is not None else [started]):
                await self._sleep_before_trying_again()
        closed = await self._run_loop(
            lambda: schedule.due_events(self.state(), plumbing.factory(), self._announce_start),
            self._next_run_input,
            act=self._act,
        )
        assert closed.report is not None
        return closed.report

    def _at_run_start(self) -> None:
        _liveness()  # decided once per run, at its start (see LIVENESS_PATCH)

    def _next_run_input(self) -> ProgrammeInput:
        """The next run's input: its state is read from the store (bounded), or carried whole
        by runs recorded before that."""
        if self._bounded:
            return self._input.model_copy(
                update={
                    "participants": [],
                    "carried_state": None,
                    "cohort_staged": False,
                    "resume": True,
                }
            )
        return self._input.model_copy(update={"carried_state": self._state})

    async def _take_in_stream(self, started: ProgrammeStarted | None) -> bool:
        """Start from the store: record ``started`` with its staged cohort (none: the programme
        has started, this run continues it), then fold the stream; False when the store could
        not (tried again later)."""
        stream = programme_workflow_id(self._input.programme.id)
        async with self._lock:
            try:
                if started is not None:
                    self._in_doubt = True
                    await cohort.record_start(stream, started)
                events = await cohort.read_stream(stream, 0)
            except ActivityError as e:
                workflow.logger.warning("step_failed", extra={"error": str(e)})
                return False
            self._state, self._in_doubt = fold(events), False
            if started is not None:
                await self._notify(events)
        return True

    @workflow.query
    def state(self) -> ProgrammeState:
        if self._state is None and self._input.resume:
            raise ApplicationError(RESUMING, type="Resuming")
        return self._started()

    @workflow.update
    async def enrol(self, command: Enrol) -> CommandAccepted:
        return await self._handle(command)

    @enrol.validator
    def _validate_enrol(self, command: Enrol) -> None:
        self._validate(command)

    @workflow.update
    async def remove(self, command: Remove) -> CommandAccepted:
        return await self._handle(command)

    @remove.validator
    def _validate_remove(self, command: Remove) -> None:
        self._validate(command)

    @workflow.update
    async def update_participant(self, command: UpdateProfile) -> CommandAccepted:
        return await self._handle(command)

    @update_participant.validator
    def _validate_update_participant(self, command: UpdateProfile) -> None:
        self._validate(command)

    @workflow.update
    async def mark_trained(self, command: MarkTrained) -> CommandAccepted:
        return await self._handle(command)

    @mark_trained.validator
    def _validate_mark_trained(self, command: MarkTrained) -> None:
        self._validate(command)

    @workflow.update
    async def approve_matching(self, command: ApproveMatching) -> CommandAccepted:
        return await self._handle(command)

    @approve_matching.validator
    def _validate_approve_matching(self, command: ApproveMatching) -> None:
        self._validate(command)

    @workflow.signal(name=RELATIONSHIP_ENDED)
    async def relationship_ended(self, result: RelationshipResult) -> None:
        await workflow.wait_condition(lambda: self._state is not None)
        outcome, reason = result.outcome, result.reason
        if _liveness():
            recorded = await self._recorded_closure(result.relationship_id)
            if recorded is None:
                workflow.logger.warning(
                    "relationship_ended_unconfirmed", extra={"id": result.relationship_id}
                )
                return
            outcome, reason = recorded.outcome, recorded.reason
        ended = lambda: commands.relationship_ended(  # noqa: E731 - decided again on each try
            self.state(), result.relationship_id, outcome, reason, plumbing.factory()
        )
        while not await self._step(ended):
            await self._sleep_before_trying_again()
        self._woken = True

    async def _recorded_closure(self, relationship_id: str) -> "RecordedClosure | None":
        """The group's closure from its own stream (a signal proves nothing about its sender)."""
        while True:
            try:
                return await workflow.execute_activity_method(
                    Reporting.recorded_closure,
                    ClosureInput(relationship_id=relationship_id),
                    start_to_close_timeout=plumbing.ACTIVITY_TIMEOUT,
                    retry_policy=plumbing.RECORD_RETRY,
                )
            except ActivityError as e:
                workflow.logger.warning("step_failed", extra={"error": str(e)})
                await self._sleep_before_trying_again()

    async def _act(self) -> None:
        """Carry out the I/O step that is due, if any."""
        action = schedule.next_action(self.state(), _liveness())
        if action is None or action[0] > workflow.now():
            return
        match action[1]:
            case Action.MATCH:
                await self._match()
            case Action.LAUNCH:
                await self._launch()
            case Action.CHECK_GROUPS:
                await self._check_groups()
            case Action.CLOSE:
                await self._close()

    async def _check_groups(self) -> None:
        """After the end: ask Temporal about the groups that never reported back."""
        checked = await workflow.execute_activity_method(
            GroupInspector.check_relationships,
            CheckGroupsInput(relationship_ids=self.state().open_relationships()),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=plumbing.RECORD_RETRY,
        )
        await self._record(
            commands.groups_checked(self.state(), checked.findings, plumbing.factory())
        )

    async def _match(self) -> None:
        s = self.state()
        if self._bounded:
            # The activity reads the cohort from the store and records the proposal there.
            self._in_doubt = True
            stream = programme_workflow_id(s.programme.id)
            await cohort.propose_matching(stream, s.version, commands.matching_rules(s))
            await self._notify(await self._catch_up())
            return
        result = await workflow.execute_activity(
            propose_matching,
            ProposeMatchingInput(
                participants=list(s.participants.values()), rules=commands.matching_rules(s)
            ),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=plumbing.RECORD_RETRY,
        )
        await self._record(commands.proposal_events(self.state(), result, plumbing.factory()))

    async def _launch(self) -> None:
        s = self.state()
        assert s.approved is not None
        waiting = [
            g
            for g in s.approved
            if commands.relationship_id(s.programme.id, g.number) not in s.launched
        ]
        if not self._bounded:
            for group in waiting:
                await self._record([await self._start_group(group)])
            return
        # A batch per step, recorded in one append: the run may continue as new between them.
        # One start after another (the time-skipping test server stalls on concurrent ones).
        await self._record(
            [await self._start_group(g) for g in waiting[: self._input.launch_batch]]
        )

    async def _start_group(self, group: ProposedGroup) -> RelationshipLaunched:
        s = self.state()
        spec = commands.relationship_spec(
            s, group, workflow.now(), programme_workflow_id(s.programme.id)
        )
        await workflow.execute_activity_method(
            Launcher.launch_relationship,
            RelationshipInput(spec=spec),
            start_to_close_timeout=plumbing.ACTIVITY_TIMEOUT,
            retry_policy=plumbing.RECORD_RETRY,
        )
        return commands.relationship_launched(spec, group, plumbing.factory())

    async def _close(self) -> None:
        s = self.state()
        unmatched = len(s.proposal.unmatched) if s.proposal else 0
        report = await workflow.execute_activity_method(
            Reporting.programme_report,
            ReportInput(relationship_ids=list(s.launched), unmatched=unmatched),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=plumbing.RECORD_RETRY,
        )
        await self._record([commands.programme_closed(s, report, plumbing.factory())])

    def _decide_command(
        self, state: ProgrammeState, command: ProgrammeCommand, factory: EventFactory
    ) -> list[ProgrammeEvent]:
        return commands.decide(state, command, factory)

    def _fold(self, state: ProgrammeState | None, events: list[ProgrammeEvent]) -> ProgrammeState:
        return fold(events) if state is None else apply(state, events)

    async def _append_activity(self, expected_version: int, events: list[ProgrammeEvent]) -> None:
        await workflow.execute_activity_method(
            RecordKeeping.append_programme_events,
            AppendProgrammeEventsInput(
                stream_id=programme_workflow_id(self._input.programme.id),
                expected_version=expected_version,
                events=events,
            ),
            start_to_close_timeout=plumbing.ACTIVITY_TIMEOUT,
            retry_policy=plumbing.RECORD_RETRY,
        )

    async def _read_activity(self, after_version: int) -> list[ProgrammeEvent]:
        stream = programme_workflow_id(self._input.programme.id)
        if self._bounded:
            return await cohort.read_stream(stream, after_version)
        stored = await workflow.execute_activity_method(
            RecordKeeping.read_programme_events_after,
            ReadEventsInput(stream_id=stream, after_version=after_version),
            start_to_close_timeout=plumbing.ACTIVITY_TIMEOUT,
            retry_policy=plumbing.RECORD_RETRY,
        )
        return list(stored.events)

    def _aggregate_id(self) -> str:
        return self.state().programme.id

    def _told_of_failures(self) -> tuple[str, PersonId]:
        return self._input.programme.id, self._input.programme.coordinator.id

    def _next_wakeup(self) -> datetime | None:
        return schedule.next_wakeup(self.state(), _liveness(), self._announce_start)
