"""Which groups a person was placed in, read from the log (the ``relationship_started`` events)."""

import asyncpg


async def groups_of(pool: asyncpg.Pool, programme_id: str, person_id: str) -> list[str]:
    """Ids of the relationships ``person_id`` was placed in, oldest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT payload->>'relationship_id' AS id FROM events"
            " WHERE type = 'relationship_started' AND payload->>'programme_id' = $1"
            " AND payload->'members'"
            " @> jsonb_build_array(jsonb_build_object('person_id', $2::text))"
            " ORDER BY global_position",
            programme_id,
            person_id,
        )
    return [str(r["id"]) for r in rows]
