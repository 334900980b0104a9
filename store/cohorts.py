"""Cohorts staged for a programme's start (``migrations/0012_staged_cohorts.sql``).

The starter stages the participants' profiles here; the programme's start activity reads them
into its first event. Profiles are JSON objects (``domain.programme.model.Profile``), in file order
(the pool's codec turns ``jsonb`` into Python values and back).
"""

from collections.abc import Sequence
from typing import Any

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
