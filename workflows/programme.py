"""ProgrammeWorkflow: one cohort, from enrolment to its report.

Like RelationshipWorkflow, its state is one model rebuilt by a fold of the events it records, and
its clock is the domain's schedule. Three steps need I/O and are carried out here: computing the
matching (an activity), starting one top-level RelationshipWorkflow per approved group (an
activity: groups outlive the programme's runs, which continue as new at each phase), and the
report at the end (an activity counting the stored events). Relationships tell the programme
when they close by the ``relationship_ended`` signal.
"""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows import clock, plumbing

with workflow.unsafe.imports_passed_through():
    # pydantic's EmailStr imports email_validator on first use; load it with the workflow so the
    # sandbox passes it through instead of re-importing it inside a workflow task.
    import email_validator  # noqa: F401
    from activities.launching import Launcher
    from activities.matching import ProposeMatchingInput, propose_matching
    from activities.record_keeping import AppendProgrammeEventsInput, RecordKeeping
    from activities.reporting import Reporting, ReportInput
    from domain import programme_rules as rules
    from domain.errors import RuleViolation
    from domain.factory import EventFactory
    from domain.matching import ProposedGroup
    from domain.programme_events import (
        ProgrammeClosed,
        ProgrammeEvent,
        ProgrammeReport,
        RelationshipLaunched,
    )
    from domain.programme_rules import (
        Action,
        ApproveMatching,
        Enrol,
        MarkTrained,
        ProgrammeCommand,
        Remove,
    )
    from domain.programme_state import ProgrammeState, apply_programme, fold_programme

    from workflows.messages import (
        CommandAccepted,
        ProgrammeInput,
        RelationshipInput,
        RelationshipResult,
        programme_workflow_id,
    )
    from workflows.relationship import RELATIONSHIP_ENDED


@workflow.defn
class ProgrammeWorkflow:
    @workflow.init
    def __init__(self, input: ProgrammeInput) -> None:
        self._input = input
        self._state: ProgrammeState | None = input.carried_state
        self._lock = asyncio.Lock()
        self._woken = False
        self._announce_start = False

    @workflow.run
    async def run(self, input: ProgrammeInput) -> ProgrammeReport:
        # The first-day message to the coordinator is new: runs recorded before it replay without
        # it, and a run that begins after the first day does not send it late.
        self._announce_start = (
            workflow.patched("announce-programme-start")
            and workflow.now() < input.calendar.starts_at
        )
        if self._state is None:
            started = rules.start_programme(
                input.programme, input.calendar, tuple(input.participants), plumbing.factory()
            )
            # Under the lock: an Update may arrive while the start is being delivered.
            async with self._lock:
                await self._record([started])
        await plumbing.archive_previous_run()
        phase = self.state().phase
        while True:
            async with self._lock:
                await self._record(
                    rules.due_events(self.state(), plumbing.factory(), self._announce_start)
                )
                await self._act()
            if self.state().closed:
                break
            if self.state().phase != phase or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    self._input.model_copy(update={"carried_state": self._state})
                )
            await self._sleep_until_next_step()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await plumbing.archive_this_run()
        report = self.state().report
        assert report is not None
        return report

    @workflow.query
    def state(self) -> ProgrammeState:
        if self._state is None:
            raise ApplicationError("the programme has not started yet", type="NotStarted")
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
        async with self._lock:
            ended = rules.relationship_ended(
                self.state(),
                result.relationship_id,
                result.outcome,
                result.reason,
                plumbing.factory(),
            )
            await self._record(ended)
        self._woken = True

    async def _act(self) -> None:
        """Carry out the I/O step that is due, if any."""
        action = rules.next_action(self.state())
        if action is None or action[0] > workflow.now():
            return
        match action[1]:
            case Action.MATCH:
                await self._match()
            case Action.LAUNCH:
                await self._launch()
            case Action.CLOSE:
                await self._close()

    async def _match(self) -> None:
        s = self.state()
        result = await workflow.execute_activity(
            propose_matching,
            ProposeMatchingInput(
                participants=list(s.participants.values()), rules=rules.matching_rules(s)
            ),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=plumbing.RETRY,
        )
        await self._record(rules.proposal_events(self.state(), result, plumbing.factory()))

    async def _launch(self) -> None:
        s = self.state()
        assert s.approved is not None
        for group in s.approved:
            if rules.relationship_id(s.programme.id, group.number) not in s.launched:
                await self._start_group(group)

    async def _start_group(self, group: ProposedGroup) -> None:
        s = self.state()
        spec = rules.relationship_spec(
            s, group, workflow.now(), programme_workflow_id(s.programme.id)
        )
        await workflow.execute_activity_method(
            Launcher.launch_relationship,
            RelationshipInput(spec=spec),
            start_to_close_timeout=plumbing.ACTIVITY_TIMEOUT,
            retry_policy=plumbing.RETRY,
        )
        launched = plumbing.factory().make(
            RelationshipLaunched,
            relationship_id=spec.relationship_id,
            number=group.number,
            mentors=group.mentors,
            mentees=group.mentees,
        )
        await self._record([launched])

    async def _close(self) -> None:
        s = self.state()
        unmatched = len(s.proposal.unmatched) if s.proposal else 0
        report = await workflow.execute_activity_method(
            Reporting.programme_report,
            ReportInput(relationship_ids=list(s.launched), unmatched=unmatched),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=plumbing.RETRY,
        )
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
        """Append ``events``, then deliver their notifications (and record any that failed)."""
        if not events:
            return
        await self._append(events)
        p, unreachable = self._input.programme, self.state().unreachable
        failed = await plumbing.deliver(p.id, p.coordinator.id, unreachable, events)
        await self._record(list(failed))

    async def _append(self, events: list[ProgrammeEvent]) -> None:
        await workflow.execute_activity_method(
            RecordKeeping.append_programme_events,
            AppendProgrammeEventsInput(
                stream_id=programme_workflow_id(self._input.programme.id),
                expected_version=self._state.version if self._state is not None else 0,
                events=events,
            ),
            start_to_close_timeout=plumbing.ACTIVITY_TIMEOUT,
            retry_policy=plumbing.RETRY,
        )
        self._state = (
            fold_programme(events) if self._state is None else apply_programme(self._state, events)
        )

    async def _sleep_until_next_step(self) -> None:
        self._woken = False
        wakeup = rules.next_wakeup(self.state(), self._announce_start)
        await clock.sleep_until(wakeup, lambda: self._woken)
