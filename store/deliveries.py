"""The delivery record: one row per (notification, recipient), and the outbox rows they finish.

Sending a message and recording it cannot be one transaction, so a delivery is claimed first
(state ``sending``, with the Message-ID it will carry, under a lease: an owner and an expiry),
then sent, then finished: ``sent`` (with the relay's reply) or ``failed`` (final), or ``deferred``
(try again later) or ``held`` (the relay failed for the whole retry window: waiting for
``mentorflow mail resend``). A claim another owner holds is left alone until its lease expires;
an expired claim means a send may already have happened, see ``activities/mail/postman.py``.
"""

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from uuid import UUID

import asyncpg

from store.event_store import EVENT_COLUMNS, RecordedEvent


class DeliveryState(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DEFERRED = "deferred"
    HELD = "held"


FINAL = (DeliveryState.SENT, DeliveryState.FAILED)


@dataclass(frozen=True)
class Delivery:
    person_id: str
    message_id: str
    state: DeliveryState
    attempts: int
    smtp_code: int | None
    error: str | None
    fault: str | None = None


@dataclass(frozen=True)
class OutboxItem:
    """An outbox row with the event it announces."""

    kind: str
    recipients: tuple[str, ...]
    event: RecordedEvent
    delivered: bool


_RETURNING = "RETURNING person_id, message_id, state, attempts, smtp_code, error, fault"


class DeliveryLog:
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    async def item(self, event_id: UUID) -> OutboxItem | None:
        row = await self._pool.fetchrow(
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
        rows = await self._pool.fetch(
            "SELECT person_id, message_id, state, attempts, smtp_code, error, fault"
            " FROM deliveries WHERE event_id = $1",
            event_id,
        )
        return {r["person_id"]: _delivery(r) for r in rows}

    async def recorded_failures(self, stream_id: str, event_id: UUID) -> set[str]:
        """People whose failed delivery of ``event_id`` the stream has recorded already."""
        rows = await self._pool.fetch(
            "SELECT payload->>'person_id' AS person_id FROM events"
            " WHERE stream_id = $1 AND type = 'delivery_failed'"
            " AND payload->>'notification_of' = $2::text",
            stream_id,
            event_id,
        )
        return {r["person_id"] for r in rows}

    async def claim(
        self, event_id: UUID, person_id: str, message_id: str, owner: str, lease: timedelta
    ) -> Delivery | None:
        """Lease the send to ``owner`` (committed before it happens) and count the attempt.

        None when the delivery is final, held, or leased to another owner whose lease runs.
        """
        row = await self._pool.fetchrow(
            "INSERT INTO deliveries (event_id, person_id, message_id, state, lease_owner,"
            " lease_expires_at) VALUES ($1, $2, $3, 'sending', $4, clock_timestamp() + $5)"
            " ON CONFLICT (event_id, person_id) DO UPDATE"
            " SET state = 'sending', attempts = deliveries.attempts + 1,"
            " lease_owner = excluded.lease_owner,"
            " lease_expires_at = excluded.lease_expires_at, updated_at = clock_timestamp()"
            " WHERE deliveries.state = 'deferred' OR (deliveries.state = 'sending' AND"
            " (deliveries.lease_owner IS NULL OR deliveries.lease_owner = excluded.lease_owner"
            "  OR deliveries.lease_expires_at < clock_timestamp()))"
            f" {_RETURNING}",
            event_id,
            person_id,
            message_id,
            owner,
            lease,
        )
        return None if row is None else _delivery(row)

    async def finish(
        self,
        event_id: UUID,
        person_id: str,
        message_id: str,
        state: DeliveryState,
        smtp_code: int | None = None,
        error: str | None = None,
        *,
        fault: str | None = None,
        relay_reply: str | None = None,
    ) -> None:
        """Record an outcome (and release the lease); when every recipient's is final, the
        outbox row is done too."""
        if state is DeliveryState.SENDING:
            raise ValueError("finish needs an outcome")
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO deliveries (event_id, person_id, message_id, state, smtp_code, error,"
                " fault, relay_reply) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                " ON CONFLICT (event_id, person_id) DO UPDATE"
                " SET state = excluded.state, smtp_code = excluded.smtp_code,"
                " error = excluded.error, fault = excluded.fault,"
                " relay_reply = coalesce(excluded.relay_reply, deliveries.relay_reply),"
                " lease_owner = NULL, lease_expires_at = NULL, updated_at = clock_timestamp()",
                event_id,
                person_id,
                message_id,
                state.value,
                smtp_code,
                error,
                fault,
                relay_reply,
            )
            await conn.execute(
                "UPDATE outbox o SET delivered_at = clock_timestamp(),"
                " failed = (SELECT count(*) FROM deliveries d"
                "           WHERE d.event_id = o.event_id AND d.state = 'failed')"
                " WHERE o.event_id = $1 AND o.delivered_at IS NULL"
                " AND jsonb_array_length(o.recipients) = (SELECT count(*) FROM deliveries d"
                "     WHERE d.event_id = o.event_id AND d.state IN ('sent', 'failed'))",
                event_id,
            )

    async def undelivered(self, stream_id: str) -> list[UUID]:
        """Outbox rows of a stream not done yet (and not held for an operator), in order."""
        rows = await self._pool.fetch(
            "SELECT o.event_id FROM outbox o JOIN events e USING (event_id)"
            " WHERE o.stream_id = $1 AND o.delivered_at IS NULL AND NOT EXISTS"
            " (SELECT FROM deliveries d WHERE d.event_id = o.event_id AND d.state = 'held')"
            " ORDER BY e.global_position",
            stream_id,
        )
        return [r["event_id"] for r in rows]

    async def to_resend(
        self, programme_id: str | None, failed: bool, idle: timedelta
    ) -> list[tuple[str, UUID]]:
        """(programme, event id) of what an operator's resend takes up, in log order, and put back
        to ``deferred``: held deliveries; outbox rows not done and untouched for ``idle`` (their
        workflow was reset or terminated between append and delivery, or stopped retrying); and
        with ``failed`` also the deliveries that failed for good."""
        redo = ["held", "deferred"] + (["failed"] if failed else [])
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "WITH owners AS (SELECT stream_id, CASE WHEN type = 'relationship_started'"
                "  THEN payload->>'programme_id' ELSE substr(stream_id, length('programme:') + 1)"
                "  END AS programme_id FROM events WHERE version = 1)"
                " SELECT w.programme_id, o.event_id FROM outbox o JOIN events e USING (event_id)"
                " JOIN owners w ON w.stream_id = o.stream_id"
                " WHERE ($1::text IS NULL OR w.programme_id = $1)"
                " AND (EXISTS (SELECT FROM deliveries d WHERE d.event_id = o.event_id"
                "              AND (d.state = 'held' OR ($2 AND d.state = 'failed')))"
                "  OR (o.delivered_at IS NULL AND o.created_at < clock_timestamp() - $3::interval"
                "      AND NOT EXISTS (SELECT FROM deliveries d WHERE d.event_id = o.event_id"
                "      AND d.updated_at >= clock_timestamp() - $3::interval)))"
                " ORDER BY e.global_position",
                programme_id,
                failed,
                idle,
            )
            ids = [r["event_id"] for r in rows]
            await conn.execute(
                "UPDATE deliveries SET state = 'deferred', updated_at = clock_timestamp()"
                " WHERE event_id = ANY($1::uuid[]) AND state = ANY($2::text[])",
                ids,
                redo,
            )
            await conn.execute(
                "UPDATE outbox SET delivered_at = NULL, failed = 0"
                " WHERE event_id = ANY($1::uuid[]) AND EXISTS (SELECT FROM deliveries d"
                " WHERE d.event_id = outbox.event_id AND d.state = 'deferred')",
                ids,
            )
        return [(r["programme_id"], r["event_id"]) for r in rows]

    async def states_of(self, event_ids: list[UUID]) -> dict[str, int]:
        """How many deliveries of ``event_ids`` are in each state."""
        rows = await self._pool.fetch(
            "SELECT state, count(*) AS n FROM deliveries WHERE event_id = ANY($1::uuid[])"
            " GROUP BY state",
            event_ids,
        )
        return {s.value: 0 for s in DeliveryState} | {r["state"]: r["n"] for r in rows}

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
        fault=row["fault"],
    )
