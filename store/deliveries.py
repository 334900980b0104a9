"""The delivery record: one row per (notification, recipient), and the outbox rows they finish.

Sending a message and recording it cannot be one transaction, so a delivery is claimed first
(state ``sending``, with the Message-ID it will carry), then sent, then finished (``sent`` or
``failed``). A retry that finds a claim knows a send may already have happened; see
``activities/mail/postman.py`` for how it tells.
"""

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

import asyncpg

from store.event_store import EVENT_COLUMNS, RecordedEvent


class DeliveryState(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    person_id: str
    message_id: str
    state: DeliveryState
    attempts: int
    smtp_code: int | None
    error: str | None


@dataclass(frozen=True)
class OutboxItem:
    """An outbox row with the event it announces."""

    kind: str
    recipients: tuple[str, ...]
    event: RecordedEvent
    delivered: bool


class DeliveryLog:
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    async def item(self, event_id: UUID) -> OutboxItem | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT o.kind, o.recipients, o.delivered_at, {_prefixed('e')}"
                " FROM outbox o JOIN events e USING (event_id) WHERE o.event_id = $1",
                event_id,
            )
        if row is None:
            return None
        event = RecordedEvent(**{k: row[k] for k in _COLUMN_NAMES})
        return OutboxItem(
            row["kind"], tuple(row["recipients"]), event, row["delivered_at"] is not None
        )

    async def deliveries(self, event_id: UUID) -> dict[str, Delivery]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT person_id, message_id, state, attempts, smtp_code, error"
                " FROM deliveries WHERE event_id = $1",
                event_id,
            )
        return {r["person_id"]: _delivery(r) for r in rows}

    async def claim(self, event_id: UUID, person_id: str, message_id: str) -> Delivery:
        """Mark a send as about to happen (committed before it does); count the attempt."""
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                "INSERT INTO deliveries (event_id, person_id, message_id, state)"
                " VALUES ($1, $2, $3, 'sending') ON CONFLICT (event_id, person_id) DO UPDATE"
                " SET attempts = deliveries.attempts + 1, updated_at = clock_timestamp()"
                " WHERE deliveries.state = 'sending'"
                " RETURNING person_id, message_id, state, attempts, smtp_code, error",
                event_id,
                person_id,
                message_id,
            )
        if row is None:
            raise ValueError(f"delivery of {event_id} to {person_id} is already final")
        return _delivery(row)

    async def finish(
        self,
        event_id: UUID,
        person_id: str,
        message_id: str,
        state: DeliveryState,
        smtp_code: int | None = None,
        error: str | None = None,
    ) -> None:
        """Record the outcome; when every recipient's is final, the outbox row is done too."""
        if state is DeliveryState.SENDING:
            raise ValueError("finish needs a final state")
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO deliveries (event_id, person_id, message_id, state, smtp_code, error)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id, person_id) DO UPDATE"
                " SET state = excluded.state, smtp_code = excluded.smtp_code,"
                " error = excluded.error, updated_at = clock_timestamp()",
                event_id,
                person_id,
                message_id,
                state.value,
                smtp_code,
                error,
            )
            await conn.execute(
                "UPDATE outbox o SET delivered_at = clock_timestamp(),"
                " failed = (SELECT count(*) FROM deliveries d"
                "           WHERE d.event_id = o.event_id AND d.state = 'failed')"
                " WHERE o.event_id = $1 AND o.delivered_at IS NULL"
                " AND jsonb_array_length(o.recipients) = (SELECT count(*) FROM deliveries d"
                "     WHERE d.event_id = o.event_id AND d.state <> 'sending')",
                event_id,
            )

    async def summary(self, stream_ids: list[str]) -> dict[str, int]:
        """Messages owed (one per recipient of each outbox row) and their states, for streams."""
        async with self._pool.acquire() as conn:
            owed = await conn.fetchval(
                "SELECT coalesce(sum(jsonb_array_length(recipients)), 0) FROM outbox"
                " WHERE stream_id = ANY($1::text[])",
                stream_ids,
            )
            states = await conn.fetch(
                "SELECT d.state, count(*) AS n FROM deliveries d JOIN outbox o USING (event_id)"
                " WHERE o.stream_id = ANY($1::text[]) GROUP BY d.state",
                stream_ids,
            )
        found = {r["state"]: r["n"] for r in states}
        return {"messages": owed, **{s.value: found.get(s.value, 0) for s in DeliveryState}}


_COLUMN_NAMES = [c.strip() for c in EVENT_COLUMNS.split(",")]


def _prefixed(alias: str) -> str:
    return ", ".join(f"{alias}.{c}" for c in _COLUMN_NAMES)


def _delivery(row: asyncpg.Record) -> Delivery:
    return Delivery(
        person_id=row["person_id"],
        message_id=row["message_id"],
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        smtp_code=row["smtp_code"],
        error=row["error"],
    )
