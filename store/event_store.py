"""Append-only event store: one stream per aggregate, a gapless global log, an outbox.

An append checks idempotency (the same event ids with the same content were already written:
success; the same ids with other content: error), then calls the database's ``mentorflow_append``
(one transaction: lock the stream, check the expected version, insert the events, whose
positions, versions and recorded_at a trigger assigns, and their outbox rows). The writer role
can append only through that function. Conflicts are raised, never hidden behind ``ON CONFLICT
DO NOTHING``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias
from uuid import UUID

import asyncpg

from store.errors import ConcurrencyConflict, EventIdReused, InvalidEventData

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = PoolConnectionProxy[asyncpg.Record]


@dataclass(frozen=True)
class Notification:
    """An outbox row: who must be told about an event, and what kind of message it is."""

    kind: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class NewEvent:
    event_id: UUID
    type: str
    schema_version: int
    occurred_at: datetime
    actor: str
    payload: dict[str, Any]
    notification: Notification | None = None


@dataclass(frozen=True)
class RecordedEvent:
    global_position: int
    stream_id: str
    version: int
    event_id: UUID
    type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class AppendResult:
    version: int
    """The stream's version after the append."""
    first_position: int
    last_position: int
    already_recorded: bool
    """True when this exact batch had been stored before (a retried append)."""


EVENT_COLUMNS = (
    "global_position, stream_id, version, event_id, type, schema_version,"
    " occurred_at, recorded_at, actor, payload"
)


class EventStore:
    """The event store over an asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult:
        """Append ``events`` after version ``expected_version`` of ``stream_id``, atomically.

        Through ``mentorflow_append`` (``migrations/0007_append_function.sql``): the database
        locks the stream, checks the version and assigns positions, versions and recorded_at.
        """
        if not events:
            raise ValueError("nothing to append")
        try:
            return await self._append(stream_id, expected_version, events)
        except asyncpg.DataError as e:
            # The transaction rolled back: nothing of the batch is stored.
            raise InvalidEventData(
                f"stream {stream_id}: the database refused the events' content"
                f" ({e.sqlstate}: {type(e).__name__})"
            ) from e

    async def _append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult:
        async with self._pool.acquire() as conn:
            earlier = await self._already_recorded(conn, stream_id, expected_version, events)
            if earlier is not None:
                return earlier
            try:
                row = await conn.fetchrow(
                    "SELECT * FROM mentorflow_append($1, $2, $3::jsonb)",
                    stream_id,
                    expected_version,
                    [_as_json(e) for e in events],
                )
            except asyncpg.PostgresError as e:
                if getattr(e, "sqlstate", None) not in (_CONFLICT, _UNIQUE):
                    raise
                # A retried batch that committed meanwhile is a success; anything else conflicts.
                earlier = await self._already_recorded(conn, stream_id, expected_version, events)
                if earlier is not None:
                    return earlier
                raise ConcurrencyConflict(str(e)) from e
        assert row is not None
        return AppendResult(
            row["new_version"], row["first_position"], row["last_position"], already_recorded=False
        )

    async def _already_recorded(
        self,
        conn: "Connection",
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
    ) -> AppendResult | None:
        """The earlier result if this very batch is stored; error if its ids hold other content."""
        ids = [e.event_id for e in events]
        rows = await conn.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE event_id = ANY($1::uuid[])", ids
        )
        if not rows:
            return None
        by_id = {r["event_id"]: r for r in rows}
        for offset, event in enumerate(events, start=1):
            row = by_id.get(event.event_id)
            expected = (
                stream_id,
                expected_version + offset,
                event.type,
                event.actor,
                event.payload,
            )
            found = (
                None
                if row is None
                else (row["stream_id"], row["version"], row["type"], row["actor"], row["payload"])
            )
            if found != expected or row is None or row["occurred_at"] != event.occurred_at:
                raise EventIdReused(
                    f"event {event.event_id} is already stored with other content"
                    f" (stream {stream_id}, version {expected_version + offset})"
                )
        positions = [by_id[i]["global_position"] for i in ids]
        return AppendResult(
            version=expected_version + len(events),
            first_position=min(positions),
            last_position=max(positions),
            already_recorded=True,
        )

    @staticmethod
    async def append_in(conn: "Connection", stream_id: str, events: Sequence[NewEvent]) -> int:
        """Append ``events`` at the end of ``stream_id`` in the caller's transaction (for a
        record written beside other changes, such as an erasure); the stream's new version."""
        version = await conn.fetchval("SELECT version FROM streams WHERE stream_id = $1", stream_id)
        row = await conn.fetchrow(
            "SELECT * FROM mentorflow_append($1, $2, $3::jsonb)",
            stream_id,
            version or 0,
            [_as_json(e) for e in events],
        )
        assert row is not None
        return int(row["new_version"])

    async def read_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        """The events of ``stream_id`` after ``after_version`` (every one by default), in order."""
        rows = await self._pool.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND version > $2"
            " ORDER BY version",
            stream_id,
            after_version,
        )
        return [RecordedEvent(**dict(r)) for r in rows]

    async def outbox(self, stream_id: str) -> list[tuple[UUID, str, list[str]]]:
        """(event id, kind, recipients) of the stream's outbox rows, in event order."""
        rows = await self._pool.fetch(
            "SELECT o.event_id, o.kind, o.recipients FROM outbox o"
            " JOIN events e USING (event_id) WHERE o.stream_id = $1"
            " ORDER BY e.global_position",
            stream_id,
        )
        return [(r["event_id"], r["kind"], r["recipients"]) for r in rows]


_CONFLICT = "MF409"
_UNIQUE = "23505"


def _as_json(e: NewEvent) -> dict[str, Any]:
    """One event as ``mentorflow_append`` reads it."""
    notification = e.notification
    return {
        "event_id": str(e.event_id),
        "type": e.type,
        "schema_version": e.schema_version,
        "occurred_at": e.occurred_at.isoformat(),
        "actor": e.actor,
        "payload": e.payload,
        "notification": None
        if notification is None
        else {"kind": notification.kind, "recipients": list(notification.recipients)},
    }
