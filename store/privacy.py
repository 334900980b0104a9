"""The privacy commands' reads and writes across tables (``mentorflow privacy`` erase, export).

Each function runs on the caller's connection, so the erasure's steps share its one transaction;
:func:`erase` is the erasure itself, shared by ``mentorflow privacy erase`` and the retention
workflow's activity.
"""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from store import cohorts
from store.event_store import EventStore, NewEvent
from store.sealing import erase_data_key

ERASURES = "privacy:erasures"
"""The stream of every erasure."""

ERASED_EVENT = "personal_data_erased"


class PrivacyError(ValueError):
    """A privacy command refused: unknown person, already erased, bad reason."""


class AlreadyErased(PrivacyError):
    """The person's personal data was erased before."""


async def erase(
    pool: asyncpg.Pool,
    person_id: str,
    by: str,
    reason: str,
    erase_key: Callable[[Any, str], Awaitable[datetime]] = erase_data_key,
) -> tuple[datetime, int, int]:
    """Erase ``person_id`` in one transaction: their data key (``erase_key``), their directory
    rows, their staged profiles (a programme not started yet), their deliveries' errors; record
    who and why in :data:`ERASURES`. (when, directory rows deleted, the event's global position)"""
    async with pool.acquire() as conn, conn.transaction():
        if not await known(conn, person_id):
            raise PrivacyError(
                f"unknown person {person_id!r}: not in the directory, the data keys or the record"
            )
        done = await already_erased(conn, person_id)
        if done is not None:
            raise AlreadyErased(f"{person_id} was already erased on {done:%Y-%m-%d %H:%M} UTC")
        erased_at = await erase_key(conn, person_id)
        rows = await forget_contacts(conn, person_id)
        await cohorts.forget_person(conn, person_id)
        event = NewEvent(
            event_id=uuid.uuid4(),
            type=ERASED_EVENT,
            schema_version=1,
            occurred_at=datetime.now(UTC),
            actor=by,
            payload={"person_id": person_id, "reason": reason},
        )
        await EventStore.append_in(conn, ERASURES, [event])
        position = await event_position(conn, event.event_id)
    return erased_at, rows, position


async def known(conn: Any, person_id: str) -> bool:
    """Whether the directory, the data keys or the record know ``person_id``."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT FROM people WHERE person_id = $1)"
            " OR EXISTS (SELECT FROM data_keys WHERE person_id = $1)"
            " OR EXISTS (SELECT FROM events WHERE actor = $1)",
            person_id,
        )
    )


async def already_erased(conn: Any, person_id: str) -> Any:
    """When ``person_id`` was erased, if their key is erased and the directory holds nothing."""
    return await conn.fetchval(
        "SELECT erased_at FROM data_keys WHERE person_id = $1 AND erased_at IS NOT NULL"
        " AND NOT EXISTS (SELECT FROM people WHERE person_id = $1)",
        person_id,
    )


async def forget_contacts(conn: Any, person_id: str) -> int:
    """Delete ``person_id``'s directory rows and mask their deliveries' errors; rows deleted."""
    rows: str = await conn.execute("DELETE FROM people WHERE person_id = $1", person_id)
    # A relay's refusal may quote the address.
    await conn.execute(
        "UPDATE deliveries SET error = '[erased]' WHERE person_id = $1 AND error IS NOT NULL",
        person_id,
    )
    return int(rows.split()[-1])


async def event_position(conn: Any, event_id: UUID) -> int:
    """The global position of the event ``event_id``."""
    position: int = await conn.fetchval(
        "SELECT global_position FROM events WHERE event_id = $1", event_id
    )
    return position


async def held_about(
    conn: Any, person_id: str
) -> tuple[list[asyncpg.Record], asyncpg.Record | None, list[asyncpg.Record], list[asyncpg.Record]]:
    """(directory rows, data key row, events, deliveries) held about ``person_id``."""
    people = await conn.fetch(
        "SELECT programme_id, name, email, locale FROM people WHERE person_id = $1"
        " ORDER BY programme_id",
        person_id,
    )
    key = await conn.fetchrow(
        "SELECT created_at, erased_at FROM data_keys WHERE person_id = $1", person_id
    )
    # The id as a JSON string anywhere in a payload (members, attendees, recipients...).
    events = await conn.fetch(
        "SELECT global_position, stream_id, type, occurred_at, actor, payload FROM events"
        " WHERE actor = $1 OR strpos(payload::text, to_jsonb($1::text)::text) > 0"
        " ORDER BY global_position",
        person_id,
    )
    deliveries = await conn.fetch(
        "SELECT d.event_id, o.kind, d.state, d.attempts, d.smtp_code, d.error, d.updated_at"
        " FROM deliveries d JOIN outbox o USING (event_id) WHERE d.person_id = $1"
        " ORDER BY d.updated_at",
        person_id,
    )
    return people, key, events, deliveries
