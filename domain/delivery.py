"""What the workflows do about notifications: which events need delivering, and what a failed
delivery leads to (a record in the stream, and the coordinator told)."""

from collections.abc import Sequence
from uuid import UUID

from domain.events import DeliveryFailed, Event, Notifying
from domain.factory import EventFactory
from domain.model import Frozen, PersonId


class Undelivered(Frozen):
    """One recipient a notification could not reach (the SMTP server refused it for good)."""

    notification_of: UUID
    kind: str
    person_id: PersonId
    smtp_code: int | None
    reason: str


def to_deliver(events: Sequence[Event]) -> list[UUID]:
    """Ids of the events that have an outbox row (someone to tell), in order."""
    return [e.event_id for e in events if isinstance(e, Notifying) and e.recipients]


def failure_events(
    failures: Sequence[Undelivered], coordinator_id: PersonId, f: EventFactory
) -> list[DeliveryFailed]:
    """One event per failed delivery, telling the coordinator.

    Nobody is told when the coordinator is the one unreachable, or when the failed message was
    itself such a report: a failure never causes an endless chain of failures.
    """
    return [
        f.make(
            DeliveryFailed,
            notification_of=u.notification_of,
            kind=u.kind,
            person_id=u.person_id,
            smtp_code=u.smtp_code,
            reason=u.reason,
            recipients=()
            if u.person_id == coordinator_id or u.kind == "delivery_failed"
            else (coordinator_id,),
        )
        for u in failures
    ]
