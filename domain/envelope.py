"""What every aggregate's events share: the envelope (``Event``), notifying events, the
``system`` actor, how a group ends, and the one event both streams record (``DeliveryFailed``).

Every event says who (``actor``: a person id, or ``system`` for a decision the workflow took on a
deadline), when (``occurred_at``, workflow time) and, where a person decided, why (``reason``).
Events that someone must hear about carry their ``recipients``; record keeping turns them into
outbox rows. ``domain.codec`` stores and reads them.
"""

from enum import StrEnum
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime

from domain.model import Frozen, PersonId

SYSTEM: PersonId = "system"
"""The actor of decisions the workflow takes by itself on a deadline."""


class Outcome(StrEnum):
    COMPLETED = "completed"
    DISSOLVED = "dissolved"


class Event(Frozen):
    """Envelope every event carries."""

    SCHEMA_VERSION: ClassVar[int] = 1
    """The version of the class's fields; ``domain.codec`` upcasts records of older ones."""
    type: str
    """What happened: each concrete event narrows it to its own literal (the discriminator)."""
    event_id: UUID
    occurred_at: AwareDatetime
    actor: PersonId


class Notifying(Event):
    """An event that someone must be told about."""

    recipients: tuple[PersonId, ...]

    @property
    def notification_kind(self) -> str:
        """What kind of message the recipients get: one template per kind and language
        (``activities/mail/templates/<language>/<kind>.txt``)."""
        return self.type


class DeliveryFailed(Notifying):
    """A notification could not be delivered to one recipient: the coordinator is told.

    Recorded in the stream of the event whose notification failed. When the coordinator is the one
    who cannot be reached, nobody is left to tell and ``recipients`` is empty.
    """

    type: Literal["delivery_failed"] = "delivery_failed"
    notification_of: UUID
    """The event whose notification failed."""
    kind: str
    person_id: PersonId
    smtp_code: int | None
    reason: str
