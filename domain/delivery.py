"""What the workflows do about notifications: which events need delivering, and what a failed
delivery leads to (a record in the stream, and the coordinator told)."""

from collections.abc import Collection, Sequence
from uuid import UUID

from domain.envelope import DeliveryFailed, Event, Notifying
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
    failures: Sequence[Undelivered],
    coordinator_id: PersonId,
    unreachable: Collection[PersonId],
    f: EventFactory,
) -> list[DeliveryFailed]:
    """One event per failed delivery; the coordinator is told the first time a person fails.

    ``unreachable``: people already reported in this stream (a dead address is escalated once,
    not with every monthly message). Nobody is told when the coordinator is the one unreachable,
    or when the failed message was itself such a report: no endless chain of failures.
    """
    reported = set(unreachable)
    events = []
    for u in failures:
        tell = not (
            u.person_id == coordinator_id or u.kind == "delivery_failed" or u.person_id in reported
        )
        reported.add(u.person_id)
        events.append(
            f.make(
                DeliveryFailed,
                notification_of=u.notification_of,
                kind=u.kind,
                person_id=u.person_id,
                smtp_code=u.smtp_code,
                reason=u.reason,
                recipients=(coordinator_id,) if tell else (),
            )
        )
    return events
