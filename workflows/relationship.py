"""RelationshipWorkflow: one mentoring group or pair, for its whole life.

The state is one model, ``RelationshipState``, rebuilt by the domain's fold from the events this
workflow records. The main loop sleeps until the schedule's next step, records what fell due, and
continues as new at each phase boundary. People act through Updates whose validators run the same
domain rules as the handlers, so a refused request writes nothing and tells the caller why.
"""

import asyncio
from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows import clock, plumbing
from workflows.mailroom import Mailroom

with workflow.unsafe.imports_passed_through():
    from activities.record_keeping import AppendEventsInput, ReadEventsInput, RecordKeeping
    from domain import commands, schedule
    from domain.commands import (
        AddAgendaItem,
        CancelMeeting,
        Command,
        Pause,
        RecordAgreement,
        RecordMeeting,
        Resume,
        ScheduleMeeting,
        SubmitFeedback,
        Withdraw,
    )
    from domain.delivery import Undelivered, failure_events
    from domain.errors import RuleViolation
    from domain.events import RULES, RelationshipEvent
    from domain.factory import EventFactory
    from domain.fold import apply, fold
    from domain.state import RelationshipState

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

RELATIONSHIP_ENDED = "relationship_ended"
"""The signal a relationship sends to ``spec.report_to`` when it closes."""


@workflow.defn
class RelationshipWorkflow:
    @workflow.init
    def __init__(self, input: RelationshipInput) -> None:
        self._spec = input.spec
        self._state: RelationshipState | None = input.carried_state
        # Appends are serialised: each one must see the version the previous one left.
        self._lock = asyncio.Lock()
        self._woken = False
        # The last append failed in a way that may have committed: read the stream before deciding.
        self._in_doubt = False
        self._liveness = False
        self._mail = Mailroom(
            self._spec.programme_id, workflow_id(self._spec.relationship_id), self._failed
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
            # Under the lock: an Update may arrive while the start is being delivered.
            while not await self._step(lambda: [] if self._state is not None else [started]):
                await self._sleep_before_trying_again()
        await plumbing.archive_previous_run()
        await self._mail.take_up()
        phase = self.state().phase
        while True:
            if not await self._step(self._due_events):
                await self._sleep_before_trying_again()
                continue
            if self.state().closed:
                break
            # A new run per phase, or sooner if the history grows long (weekly meetings for years).
            if self.state().phase != phase or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(
                    lambda: workflow.all_handlers_finished() and self._mail.quiet
                )
                workflow.continue_as_new(
                    RelationshipInput(spec=self._spec, carried_state=self._state)
                )
            await self._sleep_until_next_step()
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and self._mail.idle)
        await plumbing.archive_this_run()
        closure = self.state().closure
        assert closure is not None
        result = RelationshipResult(
            relationship_id=self._spec.relationship_id,
            outcome=closure.outcome,
            reason=closure.reason,
            version=self.state().version,
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
        if self._state is None:
            raise ApplicationError(
                "the relationship has not started yet", type=plumbing.NOT_STARTED
            )
        return self._state

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

    def _validate(self, command: Command) -> None:
        if self._state is None:
            return  # arrived before the start was recorded: the handler decides once it is
        self._decide(command, plumbing.validation_factory(command.by))

    async def _step(self, due: Callable[[], list[RelationshipEvent]]) -> bool:
        """Record what ``due`` decides, under the lock; False when the store could not take it.

        The workflow's own steps are never lost: it tries again after a while, without holding
        the lock (people's Updates are answered meanwhile, refused if the store is still down).
        """
        async with self._lock:
            try:
                await self._catch_up()
                await self._record(due())
            except ApplicationError as e:
                if e.type not in plumbing.RECORDING_FAILURES:
                    raise
                workflow.logger.warning("step_not_recorded", extra={"error": str(e)})
                return False
        return True

    def _due_events(self) -> list[RelationshipEvent]:
        return schedule.due_events(self.state(), plumbing.factory(), skip_stale=self._liveness)

    async def _sleep_before_trying_again(self) -> None:
        await clock.sleep_until(workflow.now() + plumbing.TRY_AGAIN_AFTER, lambda: False)

    async def _handle(self, command: Command) -> CommandAccepted:
        await workflow.wait_condition(lambda: self._state is not None)
        async with self._lock:
            await self._catch_up()
            # The state may have moved since validation (another update, a deadline): decide again.
            events = self._decide(command, plumbing.factory(command.by))
            await self._record(events)
        self._woken = True  # the schedule may have changed: let the main loop look again
        return CommandAccepted(
            id=self._spec.relationship_id,
            version=self.state().version,
            event_ids=[e.event_id for e in events],
        )

    def _decide(self, command: Command, factory: EventFactory) -> list[RelationshipEvent]:
        try:
            return commands.decide(self.state(), command, factory)
        except RuleViolation as e:
            raise plumbing.rejected(e) from e

    async def _record(self, events: list[RelationshipEvent]) -> None:
        """Append ``events`` and hand their notifications to the mailroom (histories recorded
        before it delivered here, under the lock, and recorded what failed)."""
        if not events:
            return
        await self._append(events)
        if self._mail.beside():
            self._mail.send(events)
            return
        spec, unreachable = self._spec, self.state().unreachable
        failed = await plumbing.deliver(spec.programme_id, spec.coordinator_id, unreachable, events)
        await self._record(list(failed))

    async def _failed(self, failures: list[Undelivered]) -> None:
        """Record the recipients the mailroom could not reach (and tell the coordinator)."""
        async with self._lock:
            unreachable = self.state().unreachable
            coordinator = self._spec.coordinator_id
            await self._record(
                list(failure_events(failures, coordinator, unreachable, plumbing.factory()))
            )

    async def _append(self, events: list[RelationshipEvent]) -> None:
        expected = self._state.version if self._state is not None else 0
        try:
            await workflow.execute_activity_method(
                RecordKeeping.append_events,
                AppendEventsInput(
                    stream_id=workflow_id(self._spec.relationship_id),
                    expected_version=expected,
                    events=events,
                ),
                start_to_close_timeout=plumbing.ACTIVITY_TIMEOUT,
                retry_policy=plumbing.RECORD_RETRY,
            )
        except ActivityError as e:
            refusal, self._in_doubt = plumbing.not_recorded(e)
            raise refusal from e
        self._apply(events)

    def _apply(self, events: list[RelationshipEvent]) -> None:
        self._state = fold(events) if self._state is None else apply(self._state, events)

    async def _catch_up(self) -> None:
        """After an append in doubt: take in whatever of it the store holds."""
        if not self._in_doubt:
            return
        try:
            stored = await workflow.execute_activity_method(
                RecordKeeping.read_events_after,
                ReadEventsInput(
                    stream_id=workflow_id(self._spec.relationship_id),
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

    async def _sleep_until_next_step(self) -> None:
        self._woken = False
        await clock.sleep_until(schedule.next_wakeup(self.state()), lambda: self._woken)
