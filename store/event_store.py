"""Append-only event store: one stream per aggregate, a gapless global log, an outbox.

An append is one transaction: lock the stream, check idempotency (the same event ids with the
same content were already written: success; the same ids with other content: error), check the
expected version, take the next global positions, insert the events and their outbox rows.
Conflicts are raised, never hidden behind ``ON CONFLICT DO NOTHING``.
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
        """Append ``events`` after version ``expected_version`` of ``stream_id``, atomically."""
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
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO streams (stream_id, version) VALUES ($1, 0)"
                " ON CONFLICT (stream_id) DO NOTHING",
                stream_id,
            )
            current = await conn.fetchval(
                "SELECT version FROM streams WHERE stream_id = $1 FOR UPDATE", stream_id
            )
            earlier = await self._already_recorded(conn, stream_id, expected_version, events)
            if earlier is not None:
                return earlier
            if current != expected_version:
                raise ConcurrencyConflict(
                    f"stream {stream_id} is at version {current}, expected {expected_version}"
                )
            return await self._insert(conn, stream_id, expected_version, events)

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

    async def _insert(
        self,
        conn: "Connection",
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
    ) -> AppendResult:
        last = await conn.fetchval(
            "UPDATE log_head SET position = position + $1 RETURNING position", len(events)
        )
        first = last - len(events) + 1
        await conn.executemany(
            "INSERT INTO events (global_position, stream_id, version, event_id, type,"
            " schema_version, occurred_at, actor, payload)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            [
                (
                    first + i,
                    stream_id,
                    expected_version + 1 + i,
                    e.event_id,
                    e.type,
                    e.schema_version,
                    e.occurred_at,
                    e.actor,
                    e.payload,
                )
                for i, e in enumerate(events)
            ],
        )
        await conn.executemany(
            "INSERT INTO outbox (event_id, stream_id, kind, recipients) VALUES ($1, $2, $3, $4)",
            [
                (e.event_id, stream_id, e.notification.kind, list(e.notification.recipients))
                for e in events
                if e.notification is not None
            ],
        )
        new_version = expected_version + len(events)
        await conn.execute(
            "UPDATE streams SET version = $2 WHERE stream_id = $1", stream_id, new_version
        )
        return AppendResult(new_version, first, last, already_recorded=False)

    async def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        """Every event of ``stream_id`` in version order."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY version",
                stream_id,
            )
        return [RecordedEvent(**dict(r)) for r in rows]

    async def outbox(self, stream_id: str) -> list[tuple[UUID, str, list[str]]]:
        """(event id, kind, recipients) of the stream's outbox rows, in event order."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT o.event_id, o.kind, o.recipients FROM outbox o"
                " JOIN events e USING (event_id) WHERE o.stream_id = $1"
                " ORDER BY e.global_position",
                stream_id,
            )
        return [(r["event_id"], r["kind"], r["recipients"]) for r in rows]
