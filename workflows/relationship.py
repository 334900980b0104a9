"""RelationshipWorkflow: one mentoring group or pair, for its whole life.

The state is one model, ``RelationshipState``, rebuilt by the domain's fold from the events this
workflow records. The main loop sleeps until the schedule's next step, records what fell due, and
continues as new at each phase boundary. People act through Updates whose validators run the same
domain rules as the handlers, so a refused request writes nothing and tells the caller why.
"""

from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows import plumbing
from workflows.event_sourced import EventSourced

with workflow.unsafe.imports_passed_through():
    from activities.record_keeping import AppendEventsInput, ReadEventsInput, RecordKeeping
    from domain.errors import RuleViolation
    from domain.factory import EventFactory
    from domain.model import PersonId
    from domain.relationship import commands, schedule
    from domain.relationship.commands import (
        AddAgendaItem,
        AddMember,
        CancelMeeting,
        Command,
        Dissolve,
        ExtendDeadline,
        Pause,
        RecordAgreement,
        RecordMeeting,
        ResolveEscalation,
        Resume,
        ScheduleMeeting,
        SubmitFeedback,
        Withdraw,
    )
    from domain.relationship.events import RULES, RelationshipEvent
    from domain.relationship.fold import apply, fold
    from domain.relationship.state import RelationshipState

    from workflows.messages import (
        CommandAccepted,
        RelationshipInput,
        RelationshipResult,
        workflow_id,
    )

LIVENESS_PATCH = "relationship-liveness"
"""Runs recorded before it send stale reminders after an outage (see ``steps.Due.stale_from``)."""

SCHEDULING_PATCH = "relationship-meeting-scheduling"
"""Relationships started before it run by rules 2: no nudge for an unplanned meeting."""

OPENING_PATCH = "relationship-opening-steps"
"""Relationships started before it recorded the start alone and its first steps (the first
meeting opened for planning) one workflow step later."""

RELATIONSHIP_ENDED = "relationship_ended"
"""The signal a relationship sends to ``spec.report_to`` when it closes."""


@workflow.defn
class RelationshipWorkflow(EventSourced[RelationshipState, RelationshipEvent, Command]):
    NOT_STARTED_YET = "the relationship has not started yet"

    @workflow.init
    def __init__(self, input: RelationshipInput) -> None:
        self._spec = input.spec
        self._liveness = False
        self._begin(
            input.carried_state, self._spec.programme_id, workflow_id(self._spec.relationship_id)
        )

    @workflow.run
    async def run(self, input: RelationshipInput) -> RelationshipResult:
        self._liveness = workflow.patched(LIVENESS_PATCH)  # decided once per run, at its start
        if self._state is None:
            try:
                if not self._liveness:
                    rules = 1
                else:
                    rules = RULES if workflow.patched(SCHEDULING_PATCH) else 2
                started = commands.start(self._spec, plumbing.factory(), rules)
            except RuleViolation as e:
                raise plumbing.rejected(e) from e
            opening: list[RelationshipEvent] = (
                schedule.opening(started, plumbing.factory(), skip_stale=self._liveness)
                if workflow.patched(OPENING_PATCH)
                else [started]
            )
            # Under the lock: an Update may arrive while the start is being delivered.
            while not await self._step(lambda: [] if self._state is not None else opening):
                await self._sleep_before_trying_again()
        closed = await self._run_loop(
            self._due_events,
            lambda: RelationshipInput(spec=self._spec, carried_state=self._state),
        )
        closure = closed.closure
        assert closure is not None
        result = RelationshipResult(
            relationship_id=self._spec.relationship_id,
            outcome=closure.outcome,
            reason=closure.reason,
            version=closed.version,
        )
        if self._spec.report_to is not None:
            await self._report(self._spec.report_to, result)
        return result

    async def _report(self, to: str, result: RelationshipResult) -> None:
        """Tell the programme; a programme that no longer runs is no reason to fail."""
        try:
            await workflow.get_external_workflow_handle(to).signal(RELATIONSHIP_ENDED, result)
        except ApplicationError as e:
            workflow.logger.warning("report_to_failed", extra={"to": to, "error": str(e)})

    @workflow.query
    def state(self) -> RelationshipState:
        """The current state: what ``fold`` of the stored events gives."""
        return self._started()

    @workflow.update
    async def record_agreement(self, command: RecordAgreement) -> CommandAccepted:
        return await self._handle(command)

    @record_agreement.validator
    def _validate_record_agreement(self, command: RecordAgreement) -> None:
        self._validate(command)

    @workflow.update
    async def record_meeting(self, command: RecordMeeting) -> CommandAccepted:
        return await self._handle(command)

    @record_meeting.validator
    def _validate_record_meeting(self, command: RecordMeeting) -> None:
        self._validate(command)

    @workflow.update
    async def submit_feedback(self, command: SubmitFeedback) -> CommandAccepted:
        return await self._handle(command)

    @submit_feedback.validator
    def _validate_submit_feedback(self, command: SubmitFeedback) -> None:
        self._validate(command)

    @workflow.update
    async def withdraw(self, command: Withdraw) -> CommandAccepted:
        return await self._handle(command)

    @withdraw.validator
    def _validate_withdraw(self, command: Withdraw) -> None:
        self._validate(command)

    @workflow.update
    async def pause(self, command: Pause) -> CommandAccepted:
        return await self._handle(command)

    @pause.validator
    def _validate_pause(self, command: Pause) -> None:
        self._validate(command)

    @workflow.update
    async def resume(self, command: Resume) -> CommandAccepted:
        return await self._handle(command)

    @resume.validator
    def _validate_resume(self, command: Resume) -> None:
        self._validate(command)

    @workflow.update
    async def schedule_meeting(self, command: ScheduleMeeting) -> CommandAccepted:
        return await self._handle(command)

    @schedule_meeting.validator
    def _validate_schedule_meeting(self, command: ScheduleMeeting) -> None:
        self._validate(command)

    @workflow.update
    async def cancel_meeting(self, command: CancelMeeting) -> CommandAccepted:
        return await self._handle(command)

    @cancel_meeting.validator
    def _validate_cancel_meeting(self, command: CancelMeeting) -> None:
        self._validate(command)

    @workflow.update
    async def add_agenda_item(self, command: AddAgendaItem) -> CommandAccepted:
        return await self._handle(command)

    @add_agenda_item.validator
    def _validate_add_agenda_item(self, command: AddAgendaItem) -> None:
        self._validate(command)

    @workflow.update
    async def resolve_escalation(self, command: ResolveEscalation) -> CommandAccepted:
        return await self._handle(command)

    @resolve_escalation.validator
    def _validate_resolve_escalation(self, command: ResolveEscalation) -> None:
        self._validate(command)

    @workflow.update
    async def add_member(self, command: AddMember) -> CommandAccepted:
        return await self._handle(command)

    @add_member.validator
    def _validate_add_member(self, command: AddMember) -> None:
        self._validate(command)

    @workflow.update
    async def extend_deadline(self, command: ExtendDeadline) -> CommandAccepted:
        return await self._handle(command)

    @extend_deadline.validator
    def _validate_extend_deadline(self, command: ExtendDeadline) -> None:
        self._validate(command)

    @workflow.update
    async def dissolve(self, command: Dissolve) -> CommandAccepted:
        return await self._handle(command)

    @dissolve.validator
    def _validate_dissolve(self, command: Dissolve) -> None:
        self._validate(command)

    def _due_events(self) -> list[RelationshipEvent]:
        return schedule.due_events(self.state(), plumbing.factory(), skip_stale=self._liveness)

    def _decide_command(
        self, state: RelationshipState, command: Command, factory: EventFactory
    ) -> list[RelationshipEvent]:
        return commands.decide(state, command, factory)

    def _fold(
        self, state: RelationshipState | None, events: list[RelationshipEvent]
    ) -> RelationshipState:
        return fold(events) if state is None else apply(state, events)

    async def _append_activity(
        self, expected_version: int, events: list[RelationshipEvent]
    ) -> None:
        await workflow.execute_activity_method(
            RecordKeeping.append_events,
            AppendEventsInput(
                stream_id=workflow_id(self._spec.relationship_id),
                expected_version=expected_version,
                events=events,
            ),
            start_to_close_timeout=plumbing.ACTIVITY_TIMEOUT,
            retry_policy=plumbing.RECORD_RETRY,
        )

    async def _read_activity(self, after_version: int) -> list[RelationshipEvent]:
        stored = await workflow.execute_activity_method(
            RecordKeeping.read_events_after,
            ReadEventsInput(
                stream_id=workflow_id(self._spec.relationship_id), after_version=after_version
            ),
            start_to_close_timeout=plumbing.ACTIVITY_TIMEOUT,
            retry_policy=plumbing.RECORD_RETRY,
        )
        return list(stored.events)

    def _aggregate_id(self) -> str:
        return self._spec.relationship_id

    def _told_of_failures(self) -> tuple[str, PersonId]:
        return self._spec.programme_id, self._spec.coordinator_id

    def _next_wakeup(self) -> datetime | None:
        return schedule.next_wakeup(self.state())
