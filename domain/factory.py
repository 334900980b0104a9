"""Builds events with their envelope: the id, the time and the actor come from the caller."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from domain.envelope import SYSTEM, Event
from domain.model import PersonId

E = TypeVar("E", bound=Event)


class EventFactory:
    """Stamps events with ``now`` and ``actor`` and an id from ``new_id``.

    The workflow passes ``workflow.now()`` and ``workflow.uuid4`` (deterministic on replay, so a
    retried append carries the same ids); tests pass literals.
    """

    def __init__(self, now: datetime, new_id: Callable[[], UUID], actor: PersonId = SYSTEM):
        self.now, self.new_id, self.actor = now, new_id, actor

    def make(self, cls: type[E], **fields: Any) -> E:
        return cls(event_id=self.new_id(), occurred_at=self.now, actor=self.actor, **fields)
