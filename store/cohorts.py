"""Cohorts staged for a programme's start (``migrations/0012_staged_cohorts.sql``).

The starter stages the participants' profiles here; the programme's start activity reads them
into its first event and, once that event is stored, clears them (:func:`clear`): the record
holds them from then on. Erasing a person deletes their staged rows too (:func:`forget_person`).
Profiles are JSON objects (``domain.programme.model.Profile``), in file order (the pool's codec
turns ``jsonb`` into Python values and back).
"""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg


async def stage(pool: asyncpg.Pool, programme_id: str, profiles: Sequence[dict[str, Any]]) -> None:
    """Replace the cohort staged for ``programme_id`` with ``profiles``, in this order."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM staged_cohorts WHERE programme_id = $1", programme_id)
        await conn.executemany(
            "INSERT INTO staged_cohorts (programme_id, position, person_id, profile)"
            " VALUES ($1, $2, $3, $4)",
            [(programme_id, n, p["id"], p) for n, p in enumerate(profiles)],
        )


async def staged(pool: asyncpg.Pool, programme_id: str) -> list[dict[str, Any]]:
    """The profiles staged for ``programme_id``, in their order (none: nothing staged)."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT profile FROM staged_cohorts WHERE programme_id = $1 ORDER BY position",
            programme_id,
        )
    return [r["profile"] for r in rows]


async def start_recorded(pool: asyncpg.Pool, stream_id: str, event_id: UUID) -> int | None:
    """The global position of ``stream_id``'s first event when it is ``event_id`` (the start is
    recorded: its staged cohort is no longer needed), else None."""
    async with pool.acquire() as conn:
        position: int | None = await conn.fetchval(
            "SELECT global_position FROM events"
            " WHERE stream_id = $1 AND version = 1 AND event_id = $2",
            stream_id,
            event_id,
        )
    return position


async def clear(pool: asyncpg.Pool, programme_id: str) -> int:
    """Delete the cohort staged for ``programme_id`` (its start is recorded); rows deleted."""
    async with pool.acquire() as conn:
        done: str = await conn.execute(
            "DELETE FROM staged_cohorts WHERE programme_id = $1", programme_id
        )
    return int(done.split()[-1])


async def forget_person(conn: Any, person_id: str) -> int:
    """Delete ``person_id``'s staged profiles in the caller's transaction (an erasure); rows."""
    done: str = await conn.execute("DELETE FROM staged_cohorts WHERE person_id = $1", person_id)
    return int(done.split()[-1])


async def staged_of(conn: Any, person_id: str) -> list[dict[str, Any]]:
    """``person_id``'s staged profiles, by programme (what an export lists)."""
    rows = await conn.fetch(
        "SELECT programme_id, profile FROM staged_cohorts WHERE person_id = $1"
        " ORDER BY programme_id",
        person_id,
    )
    return [dict(r) for r in rows]
