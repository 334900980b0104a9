"""What the retention workflow reads: each registered programme, when it closed, its people."""

from dataclasses import dataclass
from datetime import datetime

import asyncpg

__all__ = ["RegisteredProgramme", "programmes_and_people"]


@dataclass(frozen=True)
class RegisteredProgramme:
    programme_id: str
    timezone: str
    retention: str
    """``retention.personal_data`` of the programme file (ISO-8601 duration)."""
    closed_at: datetime | None
    """When its ``programme_closed`` event was recorded; None while it runs."""
    people: frozenset[str]
    """The person ids in its directory (the coordinator among them); erased ones are gone."""


async def programmes_and_people(pool: asyncpg.Pool) -> list[RegisteredProgramme]:
    """Every programme of the directory with its closure and its people, by programme id."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT p.programme_id, p.timezone, p.retention,"
            " (SELECT min(e.occurred_at) FROM events e"
            "   WHERE e.stream_id = 'programme:' || p.programme_id"
            "   AND e.type = 'programme_closed') AS closed_at,"
            " coalesce((SELECT array_agg(pe.person_id ORDER BY pe.person_id) FROM people pe"
            "   WHERE pe.programme_id = p.programme_id), '{}') AS people"
            " FROM programmes p ORDER BY p.programme_id"
        )
    return [
        RegisteredProgramme(
            r["programme_id"], r["timezone"], r["retention"], r["closed_at"], frozenset(r["people"])
        )
        for r in rows
    ]
