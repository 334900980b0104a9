"""What an auditor reads: a relationship's state as of any moment, and its timeline.

The state is the same ``fold`` the workflow runs, over the stored events up to the moment; the
timeline names people by id and says why, as the events do.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from pydantic import BaseModel, ConfigDict

from domain.codec import RELATIONSHIP
from domain.relationship.events import RelationshipStarted
from domain.relationship.fold import fold
from domain.relationship.state import RelationshipState
from mentorflow.errors import MentorflowError
from mentorflow.timeline import TimelineEntry, timeline
from store.directory import Directory
from store.event_store import EventStore
from store.sealing import Sealer, authors_in, mask_tree
from workflows.messages import workflow_id

RELATIONSHIP_PREFIX = "relationship:"


def relationship_id_of(value: str) -> str:
    """A relationship's id from either form people see: ``pilot:1`` or the workflow (and
    stream) id ``relationship:pilot:1``."""
    return value.removeprefix(RELATIONSHIP_PREFIX)


Moment = datetime | date
"""What ``--as-of`` gives: a date, a local date-time (no zone), or an instant with its zone."""


def parse_moment(value: str) -> Moment:
    """``2026-12-01``, ``2026-12-01T12:00`` or ``2026-12-01T12:00+02:00``; ValueError otherwise."""
    if len(value) == 10:
        return date.fromisoformat(value)
    return datetime.fromisoformat(value)


def resolve(moment: Moment, zone: str) -> datetime:
    """The instant a person means, in the programme's zone ``zone``: a date is the end of that
    local day (everything recorded on it), a date-time without a zone is local time."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            return moment.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
        return moment
    next_day = datetime.combine(moment + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))
    return next_day.astimezone(UTC) - timedelta(microseconds=1)


class AuditError(MentorflowError, RuntimeError):
    """An audit request that cannot be answered; the message says why."""


class RelationshipAsOf(BaseModel):
    """``mentorflow audit replay --json``: stable, documented in the README."""

    model_config = ConfigDict(frozen=True)
    relationship_id: str
    stream_id: str
    timezone: str
    """The programme's zone: dates given without one are read in it, times are shown in it."""
    as_of: datetime | None
    """The moment asked for (None: now, every event)."""
    events: int
    """Events recorded up to ``as_of``."""
    total_events: int
    state: RelationshipState | None
    """None when the relationship had not started at ``as_of``."""
    timeline: list[TimelineEntry]


async def relationship_as_of(
    pool: asyncpg.Pool, relationship_id: str, as_of: Moment | None, sealer: Sealer | None = None
) -> RelationshipAsOf:
    """The relationship's state and timeline at ``as_of``; texts opened with ``sealer``, or
    shown as ``[sealed]`` without one (or when the database role may not read the data keys)."""
    relationship_id = relationship_id_of(relationship_id)
    stream = workflow_id(relationship_id)
    records = await EventStore(pool).read_stream(stream)
    if not records:
        raise AuditError(f"no relationship {relationship_id!r} in the event store")
    payloads = await _opened([r.payload for r in records], sealer)
    all_events = [RELATIONSHIP.decode(r, p) for r, p in zip(records, payloads, strict=True)]
    zone = await _zone(pool, all_events[0])
    moment = None if as_of is None else resolve(as_of, zone)
    events = [e for e in all_events if moment is None or e.occurred_at <= moment]
    return RelationshipAsOf(
        relationship_id=relationship_id,
        stream_id=stream,
        timezone=zone,
        as_of=moment,
        events=len(events),
        total_events=len(records),
        state=fold(events) if events else None,
        timeline=timeline(events),
    )


async def _opened(payloads: list[dict[str, Any]], sealer: Sealer | None) -> list[Any]:
    if sealer is not None:
        try:
            # A long-lived sealer (the web app's) may keep the key of someone erased since by
            # another process: ask about the authors of these texts only.
            await sealer.forget_erased(authors_in(payloads))
            return [await sealer.open_tree(p) for p in payloads]
        except asyncpg.InsufficientPrivilegeError:
            pass  # an auditor's role: structure only
    return [mask_tree(p) for p in payloads]


async def _zone(pool: asyncpg.Pool, first: object) -> str:
    """The programme's zone from the directory (UTC when the programme is not in it)."""
    if not isinstance(first, RelationshipStarted):
        return "UTC"
    try:
        entry = await Directory(pool).programme(first.programme_id)
    except asyncpg.InsufficientPrivilegeError:  # an auditor without access to the directory
        return "UTC"
    return entry.timezone if entry else "UTC"


def local(at: datetime, zone: str) -> str:
    """``at`` as people read it in ``zone``, labelled with the zone's abbreviation."""
    return f"{at.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M %Z}"
