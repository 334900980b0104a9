"""What an auditor reads: a relationship's state as of any moment, and its timeline.

The state is the same ``fold`` the workflow runs, over the stored events up to the moment; the
timeline names people by id and says why, as the events do.
"""

from datetime import datetime

import asyncpg
from pydantic import BaseModel, ConfigDict

from domain.events import from_record
from domain.fold import fold
from domain.state import RelationshipState
from mentorflow.timeline import TimelineEntry, timeline
from store.event_store import EventStore
from workflows.messages import workflow_id


class AuditError(RuntimeError):
    """An audit request that cannot be answered; the message says why."""


class RelationshipAsOf(BaseModel):
    """``mentorflow audit replay --json``: stable, documented in the README."""

    model_config = ConfigDict(frozen=True)
    relationship_id: str
    stream_id: str
    as_of: datetime | None
    """The moment asked for (None: now, every event)."""
    events: int
    """Events recorded up to ``as_of``."""
    total_events: int
    state: RelationshipState | None
    """None when the relationship had not started at ``as_of``."""
    timeline: list[TimelineEntry]


async def relationship_as_of(
    pool: asyncpg.Pool, relationship_id: str, as_of: datetime | None
) -> RelationshipAsOf:
    stream = workflow_id(relationship_id)
    records = await EventStore(pool).read_stream(stream)
    if not records:
        raise AuditError(f"no relationship {relationship_id!r} in the event store")
    if as_of is not None and as_of.tzinfo is None:
        raise AuditError(f"--as-of {as_of.isoformat()} has no time zone (add Z or +02:00)")
    events = [
        from_record(r.type, r.event_id, r.occurred_at, r.actor, r.payload)
        for r in records
        if as_of is None or r.occurred_at <= as_of
    ]
    return RelationshipAsOf(
        relationship_id=relationship_id,
        stream_id=stream,
        as_of=as_of,
        events=len(events),
        total_events=len(records),
        state=fold(events) if events else None,
        timeline=timeline(events),
    )
