"""Bare Temporal workloads for comparison: workflows that only wait, sleep and call an activity.

``BareWorkflow`` is a relationship's year in its simplest shape (twelve 30-day timers, an activity
after each). ``ReplayedWorkload`` takes its shape from a run's own histories instead
(:func:`tally`): the same number of Updates, signals, timers and activities as one recorded run,
each trivial, so that the same server does the same amount of Temporal work without our code.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory


@activity.defn
async def bare_step(n: int) -> int:
    return n


@workflow.defn
class BareWorkflow:
    """Twelve monthly steps: a 30-day timer, then one activity (what a relationship's year is)."""

    @workflow.run
    async def run(self, steps: int) -> int:
        for n in range(steps):
            await workflow.sleep(timedelta(days=30))
            await workflow.execute_activity(
                bare_step, n, start_to_close_timeout=timedelta(seconds=30)
            )
        return steps


@dataclass(frozen=True)
class Shape:
    """What one workflow run did, counted from its history."""

    workflow_tasks: int = 0
    timers: int = 0
    activities: int = 0
    updates: int = 0
    signals: int = 0

    def __add__(self, other: "Shape") -> "Shape":
        return Shape(
            self.workflow_tasks + other.workflow_tasks,
            self.timers + other.timers,
            self.activities + other.activities,
            self.updates + other.updates,
            self.signals + other.signals,
        )


_COUNTED = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: "workflow_tasks",
    EventType.EVENT_TYPE_TIMER_STARTED: "timers",
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activities",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "updates",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signals",
}


def tally(history: WorkflowHistory) -> Shape:
    counts = dict.fromkeys(_COUNTED.values(), 0)
    for event in history.events:
        name = _COUNTED.get(event.event_type)
        if name is not None:
            counts[name] += 1
    return Shape(**counts)


def total(shapes: Iterable[Shape]) -> Shape:
    return sum(shapes, Shape())


@workflow.defn
class ReplayedWorkload:
    """One recorded run's Updates and signals (trivial handlers), then its timers and activities
    (one-day timers, an activity returning its argument), interleaved as evenly as they come."""

    def __init__(self) -> None:
        self._messages = 0

    @workflow.run
    async def run(self, shape: Shape) -> int:
        await workflow.wait_condition(lambda: self._messages >= shape.updates + shape.signals)
        steps = max(shape.timers, shape.activities)
        for n in range(steps):
            if n < shape.timers:
                await workflow.sleep(timedelta(days=1))
            if n < shape.activities:
                await workflow.execute_activity(
                    bare_step, n, start_to_close_timeout=timedelta(seconds=30)
                )
        return steps

    @workflow.update
    async def poke(self) -> int:
        self._messages += 1
        return self._messages

    @workflow.signal
    async def nudge(self) -> None:
        self._messages += 1
