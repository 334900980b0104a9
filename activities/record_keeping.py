"""Record keeping: append a workflow's domain events to the event store, with their outbox rows.

The event ids come from the workflow (``workflow.uuid4()``), so a retried activity presents the
same batch again and the store recognises it: it is written once and reported as success.
"""

from collections.abc import Sequence

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import metrics
from contracts import errors
from domain.codec import PROGRAMME, RELATIONSHIP, encode
from domain.envelope import Event, Notifying
from domain.model import Frozen
from domain.programme.events import ProgrammeEvent
from domain.relationship.events import RelationshipEvent
from store.errors import ConcurrencyConflict, EventIdReused, InvalidEventData
from store.event_store import EventStore, NewEvent, Notification


class AppendEventsInput(Frozen):
    stream_id: str
    expected_version: int
    events: list[RelationshipEvent]


class AppendProgrammeEventsInput(Frozen):
    stream_id: str
    expected_version: int
    events: list[ProgrammeEvent]


class ReadEventsInput(Frozen):
    stream_id: str
    after_version: int


class StoredEvents(Frozen):
    events: list[RelationshipEvent]


class StoredProgrammeEvents(Frozen):
    events: list[ProgrammeEvent]


class AppendEventsResult(Frozen):
    version: int
    first_position: int
    last_position: int
    already_recorded: bool


log = structlog.get_logger(__name__)

NON_RETRYABLE = list(errors.APPEND_FAILURES)
"""Error types retrying cannot fix: the workflow's callers name them in their retry policy."""


def to_new_event(event: Event) -> NewEvent:
    notification = None
    if isinstance(event, Notifying) and event.recipients:  # nobody to tell: no outbox row
        notification = Notification(event.notification_kind, event.recipients)
    stored = encode(event)
    return NewEvent(
        event_id=event.event_id,
        type=stored.type,
        schema_version=stored.schema_version,
        occurred_at=event.occurred_at,
        actor=event.actor,
        payload=stored.payload,
        notification=notification,
    )


class RecordKeeping:
    """Activities that write the audit record."""

    def __init__(self, store: EventStore):
        self._store = store

    @activity.defn
    async def append_events(self, request: AppendEventsInput) -> AppendEventsResult:
        """Append a relationship's events."""
        return await self._append(request.stream_id, request.expected_version, request.events)

    @activity.defn
    async def append_programme_events(
        self, request: AppendProgrammeEventsInput
    ) -> AppendEventsResult:
        """Append a programme's events."""
        return await self._append(request.stream_id, request.expected_version, request.events)

    @activity.defn
    async def read_events_after(self, request: ReadEventsInput) -> StoredEvents:
        """A relationship's stored events after a version: how a workflow whose last append is
        in doubt (it timed out, or gave up retrying) learns what the store really holds."""
        records = await self._store.read_stream(request.stream_id)
        return StoredEvents(
            events=[RELATIONSHIP.decode(r) for r in records if r.version > request.after_version]
        )

    @activity.defn
    async def read_programme_events_after(self, request: ReadEventsInput) -> StoredProgrammeEvents:
        """A programme's stored events after a version (see :meth:`read_events_after`)."""
        records = await self._store.read_stream(request.stream_id)
        return StoredProgrammeEvents(
            events=[PROGRAMME.decode(r) for r in records if r.version > request.after_version]
        )

    async def append_programme(
        self, stream_id: str, expected_version: int, events: Sequence[ProgrammeEvent]
    ) -> AppendEventsResult:
        """For activities that build a programme's events themselves (``activities.cohort``)."""
        return await self._append(stream_id, expected_version, events)

    async def _append(
        self, stream_id: str, expected_version: int, events: Sequence[Event]
    ) -> AppendEventsResult:
        try:
            result = await self._store.append(
                stream_id, expected_version, [to_new_event(e) for e in events]
            )
        except ConcurrencyConflict as e:
            raise ApplicationError(
                str(e), type=errors.CONCURRENCY_CONFLICT, non_retryable=True
            ) from e
        except EventIdReused as e:
            raise ApplicationError(str(e), type=errors.EVENT_ID_REUSED, non_retryable=True) from e
        except InvalidEventData as e:
            log.error("events_refused", stream_id=stream_id, error=str(e))
            raise ApplicationError(
                str(e), type=errors.INVALID_EVENT_DATA, non_retryable=True
            ) from e
        if not result.already_recorded:
            kind = stream_id.partition(":")[0]
            metrics.EVENTS_APPENDED.labels(kind).inc(len(events))
            for event in events:
                if (type_ := getattr(event, "type", "")) in metrics.ESCALATION_TYPES:
                    metrics.ESCALATIONS.labels(getattr(event, "kind", type_)).inc()
        log.info(
            "events_appended",
            stream_id=stream_id,
            version=result.version,
            count=len(events),
            already_recorded=result.already_recorded,
        )
        return AppendEventsResult(
            version=result.version,
            first_position=result.first_position,
            last_position=result.last_position,
            already_recorded=result.already_recorded,
        )
