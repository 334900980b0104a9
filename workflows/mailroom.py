"""Delivery beside the decisions: a workflow's notifications go out in background tasks.

A workflow appends its events under its lock and hands their notifications to its ``Mailroom``,
which delivers them without that lock: a relay outage or one full mailbox never stops the
workflow's timers or its Updates. Each batch is retried on durable timers with back-off (only
the recipients still waiting), for the worker's retry window; a recipient refused for good, or
still deferred at the end, comes back to the workflow as ``delivery_failed`` events, recorded
under the lock like any decision (the coordinator escalation rule of ``domain.delivery``). A
relay fault at the end of the window is held for ``mentorflow mail resend``.

A run continues as new only between attempts (``quiet``); batches waiting for their next attempt
are left to the next run, which takes up every outbox row of its stream not delivered yet
(``take_up``). Histories recorded before this module delivered
inline, under the lock (``plumbing.deliver``); they replay on that path (``BESIDE_PATCH``).
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from uuid import UUID

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows import plumbing

with workflow.unsafe.imports_passed_through():
    from activities.mail.postman import DeliverInput, DeliveryReport, Postman, RetryTiming
    from domain.delivery import Undelivered, to_deliver
    from domain.envelope import Event

BESIDE_PATCH = "deliver-beside-decisions"


class Mailroom:
    def __init__(
        self,
        programme_id: str,
        stream_id: str,
        record_failures: Callable[[list[Undelivered]], Awaitable[None]],
    ):
        self._programme_id = programme_id
        self._stream_id = stream_id
        self._record_failures = record_failures
        self._tasks: set[asyncio.Task[None]] = set()
        self._busy = 0  # activities in flight and failures being recorded
        # One attempt at a time per workflow (batches waiting for a retry do not hold it): mail
        # goes out in decision order, and a busy programme does not flood the workers.
        self._turn = asyncio.Lock()

    @staticmethod
    def beside() -> bool:
        """Deliver beside the decisions (False only when replaying an older history)."""
        return workflow.patched(BESIDE_PATCH)

    def send(self, events: Sequence[Event]) -> None:
        """Deliver the notifications of events just recorded, in the background."""
        ids = to_deliver(events)
        if ids:
            self._start(ids)

    async def take_up(self) -> None:
        """At the start of a continued run: deliver what the previous run left undelivered."""
        if workflow.info().continued_run_id is None or not self.beside():
            return
        ids = await workflow.execute_activity_method(
            Postman.pending_notifications,
            self._stream_id,
            start_to_close_timeout=plumbing.ACTIVITY_TIMEOUT,
            retry_policy=plumbing.RETRY,
        )
        if ids:
            self._start(ids)

    @property
    def idle(self) -> bool:
        """No batch in delivery: the workflow may close."""
        return not self._tasks

    @property
    def quiet(self) -> bool:
        """No delivery attempt in flight and no failure waiting to be recorded (batches may be
        waiting for their next attempt): the workflow may continue as new, and the next run
        takes those batches up. A run never closes under a running attempt, so an attempt never
        outlives its run and races the next one for the same claims."""
        return self._busy == 0

    def _start(self, ids: list[UUID]) -> None:
        task = asyncio.create_task(self._deliver(ids))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, ids: list[UUID]) -> None:
        started, interval, final = workflow.now(), timedelta(0), False
        while True:
            async with self._turn:
                self._busy += 1
                try:
                    report = await self._attempt(ids, final)
                except ActivityError as e:  # a non-retryable fault: `mail resend` sweeps it up
                    workflow.logger.error("delivery_stopped", extra={"error": str(e.cause or e)})
                    return
                finally:
                    self._busy -= 1
            if report.failed:
                self._busy += 1
                try:
                    await self._record_failures(report.failed)
                finally:
                    self._busy -= 1
            if report.waiting == 0 or final:
                return
            timing = report.retry or RetryTiming()
            interval = min(max(interval * 2, timing.first_retry), timing.max_retry)
            left = started + timing.give_up_after - workflow.now()
            await workflow.sleep(max(min(interval, left), timedelta(milliseconds=1)))
            final = workflow.now() >= started + timing.give_up_after

    async def _attempt(self, ids: list[UUID], final: bool) -> DeliveryReport:
        return await workflow.execute_activity_method(
            Postman.deliver_notifications,
            DeliverInput(programme_id=self._programme_id, event_ids=ids, final=final),
            # A notification to everyone in a large programme is hundreds of messages.
            start_to_close_timeout=timedelta(minutes=10),
            # The activity heartbeats every 2 s, even during a slow send (see postman.py).
            heartbeat_timeout=timedelta(seconds=10),
            retry_policy=plumbing.RETRY,
        )
