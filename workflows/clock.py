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
    """The durable timer of the schedule's next step, kept across wake-ups that do not move it.

    A person's Update wakes the workflow's loop (the schedule may have changed); when the next
    step is still the same, the loop goes back to sleep on the same timer instead of cancelling
    it and starting an identical one: two history events fewer per such Update, and no cancel of
    a timer that may be firing at that very moment (the Java time-skipping test server then loses
    the workflow for good, temporalio/sdk-java#3088: a cancel is now sent only when the step moved).
    """

    def __init__(self) -> None:
        self._at: datetime | None = None
        self._timer: asyncio.Task[None] | None = None

    async def sleep_until(self, wake_at: datetime | None, woken: Callable[[], bool]) -> None:
        """As ``sleep_until``; a timer still running for the same ``wake_at`` is kept."""
        if not workflow.patched(KEEP_TIMER_PATCH):
            await sleep_until(wake_at, woken)
            return
        if self._timer is None or wake_at != self._at:
            self.stop()
            if wake_at is not None:
                timeout = _timeout(wake_at)
                if timeout == timedelta(0):
                    return
                self._timer = asyncio.create_task(workflow.sleep(timeout))
            self._at = wake_at
        timer = self._timer
        await workflow.wait_condition(lambda: woken() or (timer is not None and timer.done()))
        if timer is not None and timer.done():
            self._timer = self._at = None  # rung: the next sleep starts the next step's timer

    def stop(self) -> None:
        """Cancel the timer still running (the workflow closes before its step: a withdrawal
        dissolved the group). Left running, it would fire into the closing run, and on the
        time-skipping server carry the clock to it while the closing mail is delivered."""
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
        self._timer = self._at = None
