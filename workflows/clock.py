"""Sleeping on a durable timer until the schedule's next step, or until something changes."""

import contextlib
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow


async def sleep_until(wake_at: datetime | None, woken: Callable[[], bool]) -> None:
    """Until ``wake_at`` (forever when ``None``) or until ``woken()`` turns true.

    Clamped at zero: a step already due runs now, it is not an error. Rounded up to whole
    milliseconds (Temporal's timer resolution), so the wake-up is never before the step.
    """
    timeout = None
    if wake_at is not None:
        timeout = max(wake_at - workflow.now(), timedelta(0))
        if timeout == timedelta(0):
            return
        timeout = timedelta(milliseconds=math.ceil(timeout / timedelta(milliseconds=1)))
    with contextlib.suppress(TimeoutError):
        await workflow.wait_condition(woken, timeout=timeout)
