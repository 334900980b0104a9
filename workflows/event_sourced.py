"""The event-sourced loop both workflows run: command -> decide -> record -> append -> fold.

``EventSourced`` holds what RelationshipWorkflow and ProgrammeWorkflow do the same way: the
state folded from the events the workflow records, the lock that serialises appends, the append
in doubt read back before anything more is decided, the notifications handed to the mailroom (or
delivered inline by histories recorded before it), the Update validators and handlers that run
the domain's ``decide``, and the main loop (a step per wake-up, a new run per phase). Each
workflow says what differs: its ``decide``, ``fold``/``apply``, its append and read activities,
its due events and its wake-up. The ``@workflow.update`` methods stay explicit in each workflow.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows import clock, plumbing
from workflows.mailroom import Mailroom

with workflow.unsafe.imports_passed_through():
    from domain.delivery import Undelivered, failure_events
    from domain.envelope import Event
    from domain.errors import RuleViolation
    from domain.factory import EventFactory
    from domain.model import PersonId

    from workflows.messages import CommandAccepted


class FoldedState(Protocol):
    """What the loop reads of an aggregate's state."""

    @property
    def version(self) -> int: ...
    @property
    def phase(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    @property
    def unreachable(self) -> list[PersonId]: ...


class Command(Protocol):
    @property
    def by(self) -> PersonId: ...


S = TypeVar("S", bound=FoldedState)
E = TypeVar("E", bound=Event)
C = TypeVar("C", bound=Command)


class EventSourced(Generic[S, E, C]):
    """Base of an event-sourced workflow over state ``S``, events ``E`` and commands ``C``."""

    NOT_STARTED_YET: ClassVar[str]
    """The query's refusal before the start is recorded (``the relationship has not ...``)."""
    WAIT_ON_FAILED_ACTIVITIES: ClassVar[bool] = False
    """A step whose activity failed is tried again later (the programme's I/O steps), rather
    than failing the workflow."""

    _state: S | None

    def _begin(self, state: S | None, programme_id: str, stream_id: str) -> None:
        self._state = state
        # Appends are serialised: each one must see the version the previous one left.
        self._lock = asyncio.Lock()
        self._woken = False
        self._alarm = clock.Alarm()
        # The last append failed in a way that may have committed: read the stream before deciding.
        self._in_doubt = False
        self._mail = Mailroom(programme_id, stream_id, self._failed)

    # What each workflow says.

    def _decide_command(self, state: S, command: C, factory: EventFactory) -> list[E]:
        raise NotImplementedError

    def _fold(self, state: S | None, events: list[E]) -> S:
        """``fold(events)`` from nothing, ``apply(state, events)`` after ``state``."""
        raise NotImplementedError

    async def _append_activity(self, expected_version: int, events: list[E]) -> None:
        """Run the activity that appends ``events`` at ``expected_version``."""
        raise NotImplementedError

    async def _read_activity(self, after_version: int) -> list[E]:
        """Run the activity that reads the stored events after ``after_version``."""
        raise NotImplementedError

    def _aggregate_id(self) -> str:
        raise NotImplementedError

    def _told_of_failures(self) -> tuple[str, PersonId]:
        """The programme and the coordinator who hears of undelivered notifications."""
        raise NotImplementedError

    def _next_wakeup(self) -> datetime | None:
        """When the schedule's next step is due (``None``: nothing is scheduled)."""
        raise NotImplementedError

    def _at_run_start(self) -> None:
        """Decisions taken once per run, after the previous run is archived."""

    # The loop.

    def _started(self) -> S:
        """The state for the query, refused until the start is recorded."""
        if self._state is None:
            raise ApplicationError(self.NOT_STARTED_YET, type=plumbing.NOT_STARTED)
        return self._state

    async def _run_loop(
        self,
        due: Callable[[], list[E]],
        next_run: Callable[[], Any],
        act: Callable[[], Awaitable[None]] | None = None,
    ) -> S:
        """Record what falls due (and ``act``), sleep until the next step, continue as new
        with ``next_run()`` at each phase boundary; return the closed state."""
        await plumbing.archive_previous_run()
        self._at_run_start()
        await self._mail.take_up()
        phase = self._started().phase
        while True:
            if not await self._step(due, act):
                await self._sleep_before_trying_again()
                continue
            if self._started().closed:
                break
            # A new run per phase, or sooner if the history grows long (weekly meetings for years).
            if self._started().phase != phase or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(
                    lambda: workflow.all_handlers_finished() and self._mail.quiet
                )
                workflow.continue_as_new(next_run())
            await self._sleep_until_next_step()
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and self._mail.idle)
        await plumbing.archive_this_run()
        return self._started()

    async def _step(
        self, due: Callable[[], list[E]], act: Callable[[], Awaitable[None]] | None = None
    ) -> bool:
        """Record what ``due`` decides (then ``act``), under the lock; False when the store (or
        an activity) could not do it.

        The workflow's own steps are never lost: it tries again after a while, without holding
        the lock (people's Updates are answered meanwhile, refused if the store is still down).
        """
        async with self._lock:
            try:
                await self._catch_up()
                await self._record(due())
                if act is not None:
                    await act()
            except ApplicationError as e:
                if e.type not in plumbing.RECORDING_FAILURES:
                    raise
                workflow.logger.warning("step_not_recorded", extra={"error": str(e)})
                return False
            except ActivityError as e:
                if not self.WAIT_ON_FAILED_ACTIVITIES:
                    raise
                workflow.logger.warning("step_failed", extra={"error": str(e)})
                return False
        return True

    async def _sleep_before_trying_again(self) -> None:
        await clock.sleep_until(workflow.now() + plumbing.TRY_AGAIN_AFTER, lambda: False)

    async def _sleep_until_next_step(self) -> None:
        self._woken = False
        await self._alarm.sleep_until(self._next_wakeup(), lambda: self._woken)

    def _validate(self, command: C) -> None:
        if self._state is None:
            return  # arrived before the start was recorded: the handler decides once it is
        self._decide(command, plumbing.validation_factory(command.by))

    async def _handle(self, command: C) -> CommandAccepted:
        await workflow.wait_condition(lambda: self._state is not None)
        async with self._lock:
            await self._catch_up()
            # The state may have moved since validation (another update, a deadline): decide again.
            events = self._decide(command, plumbing.factory(command.by))
            await self._record(events)
        self._woken = True  # the schedule may have changed: let the main loop look again
        return CommandAccepted(
            id=self._aggregate_id(),
            version=self._started().version,
            event_ids=[e.event_id for e in events],
        )

    def _decide(self, command: C, factory: EventFactory) -> list[E]:
        try:
            return self._decide_command(self._started(), command, factory)
        except RuleViolation as e:
            raise plumbing.rejected(e) from e

    async def _record(self, events: list[E]) -> None:
        """Append ``events`` and hand their notifications to the mailroom (histories recorded
        before it delivered here, under the lock, and recorded what failed)."""
        if not events:
            return
        await self._append(events)
        await self._notify(events)

    async def _notify(self, events: list[E]) -> None:
        """Deliver the notifications of ``events``, just recorded."""
        if not events:
            return
        if self._mail.beside():
            self._mail.send(events)
            return
        (programme_id, coordinator), unreachable = self._told_of_failures(), self._unreachable()
        failed = await plumbing.deliver(programme_id, coordinator, unreachable, events)
        await self._record(cast("list[E]", failed))  # delivery_failed is in every aggregate's E

    async def _failed(self, failures: list[Undelivered]) -> None:
        """Record the recipients the mailroom could not reach (and tell the coordinator)."""
        async with self._lock:
            coordinator = self._told_of_failures()[1]
            failed = failure_events(failures, coordinator, self._unreachable(), plumbing.factory())
            await self._record(cast("list[E]", list(failed)))

    def _unreachable(self) -> list[PersonId]:
        return self._started().unreachable

    async def _append(self, events: list[E]) -> None:
        expected = self._state.version if self._state is not None else 0
        try:
            await self._append_activity(expected, events)
        except ActivityError as e:
            refusal, self._in_doubt = plumbing.not_recorded(e)
            raise refusal from e
        self._apply(events)

    def _apply(self, events: list[E]) -> None:
        self._state = self._fold(self._state, events)

    async def _catch_up(self) -> list[E]:
        """After an append in doubt: take in whatever of it the store holds; return that."""
        if not self._in_doubt:
            return []
        try:
            events = await self._read_activity(
                self._state.version if self._state is not None else 0
            )
        except ActivityError as e:
            raise plumbing.not_recorded(e)[0] from e
        if events:
            self._apply(events)
        self._in_doubt = False
        return events
