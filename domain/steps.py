"""The engine behind time-driven behaviour: steps with due times, run in order as they fall due.

A schedule is a pure function ``pending(state) -> list[Due]``. The workflow sleeps until the
earliest step and then records :func:`run_due`: every step due by now, in (time, order) order,
each seeing the state the previous one left. Relationships and programmes both use it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Generic, TypeVar

from domain.errors import InvalidHistory
from domain.factory import EventFactory

S = TypeVar("S")
E = TypeVar("E")


class Order(IntEnum):
    """Steps due at the same instant run in this order, in relationships and programmes alike:
    phase changes, then new work, then reminders, then escalations, and closure last (an
    escalation due at the end date is still raised)."""

    PHASE = 0
    OPEN = 1
    REMIND = 2
    ESCALATE = 3
    CLOSE = 4


@dataclass(frozen=True)
class Due(Generic[E]):
    """One time-driven step: at ``at``, record what ``build`` returns."""

    at: datetime
    order: Order
    """Tie-break between steps due at the same instant (lower first)."""
    key: str
    build: Callable[[EventFactory], list[E]]
    stale_from: datetime | None = None
    """A reminder is not sent once the escalation of its deadline is due too (after an outage,
    "three days left" would arrive with the escalation)."""


def next_wakeup(steps: list[Due[E]]) -> datetime | None:
    """When the next step falls due; ``None`` when only people can move things on."""
    return min((d.at for d in steps), default=None)


def run_due(
    state: S,
    factory: EventFactory,
    pending: Callable[[S], list[Due[E]]],
    apply: Callable[[S, list[E]], S],
    skip_stale: bool = False,
) -> list[E]:
    """Every event due at ``factory.now``, in order, each step seeing the state the last left.

    With ``skip_stale``, steps past their ``stale_from`` are left out (the escalation that makes
    them stale is due in the same batch, and once recorded the schedule drops them).
    """
    now = factory.now
    events: list[E] = []
    for _ in range(10_000):
        ready = [
            d
            for d in pending(state)
            if d.at <= now and not (skip_stale and d.stale_from is not None and d.stale_from <= now)
        ]
        if not ready:
            return events
        step = min(ready, key=lambda d: (d.at, d.order, d.key))
        new = step.build(factory)
        events += new
        state = apply(state, new)
    raise InvalidHistory("schedule did not settle: a step keeps falling due")  # a bug, not input
