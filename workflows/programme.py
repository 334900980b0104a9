"""ProgrammeWorkflow: one cohort, from enrolment to its report.

Like RelationshipWorkflow, its state is one model rebuilt by a fold of the events it records, and
its clock is the domain's schedule. Three steps need I/O and are carried out here: computing the
matching (an activity), starting one top-level RelationshipWorkflow per approved group (an
activity: groups outlive the programme's runs, which continue as new at each phase), and the
report at the end (an activity counting the stored events). Relationships tell the programme
when they close by the ``relationship_ended`` signal.
"""

import asyncio
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows import clock, cohort, plumbing
from workflows.mailroom import Mailroom

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
    from domain import programme_rules as rules
    from domain.delivery import Undelivered, failure_events
    from domain.errors import RuleViolation
    from domain.factory import EventFactory
    from domain.matching import ProposedGroup
    from domain.programme_events import (
        ProgrammeClosed,
        ProgrammeEvent,
        ProgrammeReport,
        ProgrammeStarted,
        RelationshipLaunched,
    )
    from domain.programme_rules import (
        Action,
        ApproveMatching,
        Enrol,
        MarkTrained,
        ProgrammeCommand,
        Remove,
        UpdateProfile,
    )
    from domain.programme_state import ProgrammeState, apply_programme, fold_programme

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
class ProgrammeWorkflow:
    @workflow.init
    def __init__(self, input: ProgrammeInput) -> None:
        self._input = input
        self._state: ProgrammeState | None = input.carried_state
        self._lock = asyncio.Lock()
        self._woken = False
        # The last append failed in a way that may have committed: read the stream before deciding.
        self._in_doubt = False
        self._mail = Mailroom(
            input.programme.id, programme_workflow_id(input.programme.id), self._failed
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
            started = rules.start_programme(input.programme, input.calendar, (), plumbing.factory())
            while not await self._take_in_stream(None if input.resume else started):
                await self._sleep_before_trying_again()
        elif self._state is None:
            started = rules.start_programme(
                input.programme, input.calendar, tuple(input.participants), plumbing.factory()
            )
            # Under the lock: an Update may arrive while the start is being delivered.
            while not await self._step(lambda: [] if self._state is not None else [started]):
                await self._sleep_before_trying_again()
        await plumbing.archive_previous_run()
        _liveness()  # decided once per run, at its start (see LIVENESS_PATCH)
        await self._mail.take_up()
        phase = self.state().phase
        while True:
            if not await self._step(
                lambda: rules.due_events(self.state(), plumbing.factory(), self._announce_start),
                act=True,
            ):
                await self._sleep_before_trying_again()
                continue
            if self.state().closed:
                break
            if self.state().phase != phase or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(
                    lambda: workflow.all_handlers_finished() and self._mail.quiet
                )
                workflow.continue_as_new(self._next_run_input())
            await self._sleep_until_next_step()
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and self._mail.idle)
        await plumbing.archive_this_run()
        report = self.state().report
        assert report is not None
        return report

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
            self._state, self._in_doubt = fold_programme(events), False
            if started is not None:
                await self._notify(events)
        return True

    @workflow.query
    def state(self) -> ProgrammeState:
        if self._state is None and self._input.resume:
            raise ApplicationError(RESUMING, type="Resuming")
        if self._state is None:
            raise ApplicationError("the programme has not started yet", type=plumbing.NOT_STARTED)
        return self._state

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
        ended = lambda: rules.relationship_ended(  # noqa: E731 - decided again on each try
            self.state(), result.relationship_id, outcome, reason, plumbing.factory()
        )
        while not await self._step(ended):
            await self._sleep_before_trying_again()
        self._woken = True

    async def _step(self, due: Callable[[], list[ProgrammeEvent]], act: bool = False) -> bool:
        """Record what ``due`` decides (and carry out the I/O step due, with ``act``), under the
        lock; False when the store or an activity could not do it (tried again later, without
        holding the lock, so that people's Updates are answered meanwhile)."""
        async with self._lock:
            try:
                await self._catch_up()
                await self._record(due())
                if act:
                    await self._act()
            except ApplicationError as e:
                if e.type not in plumbing.RECORDING_FAILURES:
                    raise
                workflow.logger.warning("step_not_recorded", extra={"error": str(e)})
                return False
            except ActivityError as e:
                workflow.logger.warning("step_failed", extra={"error": str(e)})
                return False
        return True

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

    async def _sleep_before_trying_again(self) -> None:
        await clock.sleep_until(workflow.now() + plumbing.TRY_AGAIN_AFTER, lambda: False)

    async def _act(self) -> None:
        """Carry out the I/O step that is due, if any."""
        action = rules.next_action(self.state(), _liveness())
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
        await self._record(rules.groups_checked(self.state(), checked.findings, plumbing.factory()))

    async def _match(self) -> None:
        s = self.state()
        if self._bounded:
            # The activity reads the cohort from the store and records the proposal there.
            self._in_doubt = True
            stream = programme_workflow_id(s.programme.id)
            await cohort.propose_matching(stream, s.version, rules.matching_rules(s))
            await self._notify(await self._catch_up())
            return
        result = await workflow.execute_activity(
            propose_matching,
            ProposeMatchingInput(
                participants=list(s.participants.values()), rules=rules.matching_rules(s)
            ),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=plumbing.RECORD_RETRY,
        )
        await self._record(rules.proposal_events(self.state(), result, plumbing.factory()))

    async def _launch(self) -> None:
        s = self.state()
        assert s.approved is not None
        waiting = [
            g
            for g in s.approved
            if rules.relationship_id(s.programme.id, g.number) not in s.launched
        ]
        if not self._bounded:
            for group in waiting:
                await self._record([await self._start_group(group)])
            return
        # A batch per step, recorded in one append: the run may continue as new between them.
        # One start after another (the time-skipping test server stalls on concurrent ones).
        await self._record([await self._start_group(g) for g in waiting[: cohort.LAUNCH_BATCH]])

    async def _start_group(self, group: ProposedGroup) -> RelationshipLaunched:
        s = self.state()
        spec = rules.relationship_spec(
            s, group, workflow.now(), programme_workflow_id(s.programme.id)
        )
        await workflow.execute_activity_method(
            Launcher.launch_relationship,
            RelationshipInput(spec=spec),
            start_to_close_timeout=plumbing.ACTIVITY_TIMEOUT,
            retry_policy=plumbing.RECORD_RETRY,
        )
        return plumbing.factory().make(
            RelationshipLaunched,
            relationship_id=spec.relationship_id,
            number=group.number,
            mentors=group.mentors,
            mentees=group.mentees,
        )

    async def _close(self) -> None:
        s = self.state()
        unmatched = len(s.proposal.unmatched) if s.proposal else 0
        report = await workflow.execute_activity_method(
            Reporting.programme_report,
            ReportInput(relationship_ids=list(s.launched), unmatched=unmatched),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=plumbing.RECORD_RETRY,
        )
        if s.ended_abnormally():
            report = report.model_copy(update={"ended_abnormally": s.ended_abnormally()})
        closed = plumbing.factory().make(
            ProgrammeClosed, report=report, recipients=(s.programme.coordinator.id,)
        )
        await self._record([closed])

    def _validate(self, command: ProgrammeCommand) -> None:
        if self._state is None:
            return  # arrived before the start was recorded: the handler decides once it is
        self._decide(command, plumbing.validation_factory(command.by))

    async def _handle(self, command: ProgrammeCommand) -> CommandAccepted:
        await workflow.wait_condition(lambda: self._state is not None)
        async with self._lock:
            await self._catch_up()
            events = self._decide(command, plumbing.factory(command.by))
            await self._record(events)
        self._woken = True
        return CommandAccepted(
            id=self.state().programme.id,
            version=self.state().version,
            event_ids=[e.event_id for e in events],
        )

    def _decide(self, command: ProgrammeCommand, factory: EventFactory) -> list[ProgrammeEvent]:
        try:
            return rules.decide(self.state(), command, factory)
        except RuleViolation as e:
            raise plumbing.rejected(e) from e

    async def _record(self, events: list[ProgrammeEvent]) -> None:
        """Append ``events`` and hand their notifications to the mailroom (histories recorded
        before it delivered here, under the lock, and recorded what failed)."""
        if not events:
            return
        await self._append(events)
        await self._notify(events)

    async def _notify(self, events: list[ProgrammeEvent]) -> None:
        """Deliver the notifications of ``events``, just recorded."""
        if not events:
            return
        if self._mail.beside():
            self._mail.send(events)
            return
        p, unreachable = self._input.programme, self.state().unreachable
        failed = await plumbing.deliver(p.id, p.coordinator.id, unreachable, events)
        await self._record(list(failed))

    async def _failed(self, failures: list[Undelivered]) -> None:
        """Record the recipients the mailroom could not reach (and tell the coordinator)."""
        async with self._lock:
            unreachable = self.state().unreachable
            coordinator = self._input.programme.coordinator.id
            await self._record(
                list(failure_events(failures, coordinator, unreachable, plumbing.factory()))
            )

    async def _append(self, events: list[ProgrammeEvent]) -> None:
        try:
            await workflow.execute_activity_method(
                RecordKeeping.append_programme_events,
                AppendProgrammeEventsInput(
                    stream_id=programme_workflow_id(self._input.programme.id),
                    expected_version=self._state.version if self._state is not None else 0,
                    events=events,
                ),
                start_to_close_timeout=plumbing.ACTIVITY_TIMEOUT,
                retry_policy=plumbing.RECORD_RETRY,
            )
        except ActivityError as e:
            refusal, self._in_doubt = plumbing.not_recorded(e)
            raise refusal from e
        self._apply(events)

    def _apply(self, events: list[ProgrammeEvent]) -> None:
        self._state = (
            fold_programme(events) if self._state is None else apply_programme(self._state, events)
        )

    async def _catch_up(self) -> list[ProgrammeEvent]:
        """After an append in doubt: take in whatever of it the store holds; return that."""
        if not self._in_doubt:
            return []
        if self._bounded:
            try:
                events = await cohort.read_stream(
                    programme_workflow_id(self._input.programme.id),
                    self._state.version if self._state is not None else 0,
                )
            except ActivityError as e:
                raise plumbing.not_recorded(e)[0] from e
            if events:
                self._apply(events)
            self._in_doubt = False
            return events
        try:
            stored = await workflow.execute_activity_method(
                RecordKeeping.read_programme_events_after,
                ReadEventsInput(
                    stream_id=programme_workflow_id(self._input.programme.id),
                    after_version=self._state.version if self._state is not None else 0,
                ),
                start_to_close_timeout=plumbing.ACTIVITY_TIMEOUT,
                retry_policy=plumbing.RECORD_RETRY,
            )
        except ActivityError as e:
            raise plumbing.not_recorded(e)[0] from e
        if stored.events:
            self._apply(stored.events)
        self._in_doubt = False
        return list(stored.events)

    async def _sleep_until_next_step(self) -> None:
        self._woken = False
        wakeup = rules.next_wakeup(self.state(), _liveness(), self._announce_start)
        await clock.sleep_until(wakeup, lambda: self._woken)
