"""Sleeping on a durable timer until the schedule's next step, or until something changes."""

import asyncio
import contextlib
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

KEEP_TIMER_PATCH = "keep-the-step-timer"
"""Runs recorded before ``Alarm`` cancelled the step's timer at every wake-up and started the same
one again; they replay that way (``workflow.patched``)."""


def _timeout(wake_at: datetime) -> timedelta:
    """Until ``wake_at``, clamped at zero (a step already due runs now, it is not an error) and
    rounded up to whole milliseconds (Temporal's timer resolution: never before the step)."""
    timeout = max(wake_at - workflow.now(), timedelta(0))
    return timedelta(milliseconds=math.ceil(timeout / timedelta(milliseconds=1)))


async def sleep_until(wake_at: datetime | None, woken: Callable[[], bool]) -> None:
    """Until ``wake_at`` (forever when ``None``) or until ``woken()`` turns true."""
    timeout = None
    if wake_at is not None:
        timeout = _timeout(wake_at)
        if timeout == timedelta(0):
            return
    with contextlib.suppress(TimeoutError):
        await workflow.wait_condition(woken, timeout=timeout)


class Alarm:
    """The durable timer of the schedule's next step, never cancelled.

    A person's Update wakes the workflow's loop (the schedule may have changed). When the next
    step is still the same, the loop goes back to sleep on the same timer; when it moved, it
    starts a timer for the new step and leaves the old one to fire unheeded (one empty workflow
    task). The loop used to cancel the timer at every wake-up and start an identical one: two
    history events per Update, and a cancel that met the timer's firing made the Java
    time-skipping test server lose the workflow for good (temporalio/sdk-java#3088), which hung
    the test suite now and then. A group that closes early leaves its step's timer behind too:
    the run ends after its closing mail, and its timers with it.
    """

    def __init__(self) -> None:
        self._at: datetime | None = None
        self._timer: asyncio.Task[None] | None = None
        self._left: set[asyncio.Task[None]] = set()  # superseded timers, until they fire

    async def sleep_until(self, wake_at: datetime | None, woken: Callable[[], bool]) -> None:
        """As ``sleep_until``; the timer of the same ``wake_at`` is kept while it runs."""
        if not workflow.patched(KEEP_TIMER_PATCH):
            await sleep_until(wake_at, woken)
            return
        if self._timer is None or wake_at != self._at:
            self._leave()
            if wake_at is not None:
                timeout = _timeout(wake_at)
                if timeout == timedelta(0):
                    return
                self._timer, self._at = asyncio.create_task(workflow.sleep(timeout)), wake_at
        timer = self._timer
        await workflow.wait_condition(lambda: woken() or (timer is not None and timer.done()))
        if timer is not None and timer.done():
            self._timer = self._at = None  # rung: the next sleep starts the next step's timer

    def _leave(self) -> None:
        if self._timer is not None and not self._timer.done():
            self._left.add(self._timer)
            self._timer.add_done_callback(self._left.discard)
        self._timer = self._at = None
