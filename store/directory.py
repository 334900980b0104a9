"""Who a notification goes to: programmes and their people, with contact details.

Contact details live here and nowhere else: events and Temporal histories name people by id only,
so a name or an address can be corrected (or erased) without rewriting the audit record.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class Contact:
    person_id: str
    name: str
    email: str
    locale: str


@dataclass(frozen=True)
class ProgrammeEntry:
    programme_id: str
    name: str
    timezone: str
    coordinator_id: str
    retention: str = "P2Y"
    """How long personal data is kept after the programme closes (ISO-8601 duration)."""


class Directory:
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    async def register(self, programme: ProgrammeEntry, people: Sequence[Contact]) -> None:
        """Record a programme and its people (the coordinator among them); later details win."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO programmes (programme_id, name, timezone, coordinator_id, retention)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (programme_id) DO UPDATE"
                " SET name = excluded.name, timezone = excluded.timezone,"
                " coordinator_id = excluded.coordinator_id, retention = excluded.retention",
                programme.programme_id,
                programme.name,
                programme.timezone,
                programme.coordinator_id,
                programme.retention,
            )
            await conn.executemany(
                "INSERT INTO people (programme_id, person_id, name, email, locale)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (programme_id, person_id) DO UPDATE"
                " SET name = excluded.name, email = excluded.email, locale = excluded.locale",
                [(programme.programme_id, p.person_id, p.name, p.email, p.locale) for p in people],
            )

    async def forget(self, programme_id: str, person_id: str) -> None:
        """Remove one person's contact from a programme: one written for an enrolment that was
        then refused (not an erasure: nothing of theirs was recorded)."""
        await self._pool.execute(
            "DELETE FROM people WHERE programme_id = $1 AND person_id = $2",
            programme_id,
            person_id,
        )

    async def programme(self, programme_id: str) -> ProgrammeEntry | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT programme_id, name, timezone, coordinator_id, retention FROM programmes"
                " WHERE programme_id = $1",
                programme_id,
            )
        return None if row is None else ProgrammeEntry(**dict(row))

    async def timezones(self) -> dict[str, str]:
        """Every programme's time zone, by programme id."""
        rows = await self._pool.fetch("SELECT programme_id, timezone FROM programmes")
        return {r["programme_id"]: r["timezone"] for r in rows}

    async def people(self, programme_id: str, person_ids: Iterable[str]) -> dict[str, Contact]:
        """The contacts of those of ``person_ids`` the directory knows, by id."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT person_id, name, email, locale FROM people"
                " WHERE programme_id = $1 AND person_id = ANY($2::text[])",
                programme_id,
                sorted(set(person_ids)),
            )
        return {r["person_id"]: Contact(**dict(r)) for r in rows}

    async def registrations(self, email: str) -> list[tuple[str, Contact]]:
        """(programme id, contact) of everyone registered with ``email``, any case, by programme."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT programme_id, person_id, name, email, locale FROM people"
                " WHERE lower(email) = lower($1) ORDER BY programme_id",
                email,
            )
        return [
            (r["programme_id"], Contact(r["person_id"], r["name"], r["email"], r["locale"]))
            for r in rows
        ]
