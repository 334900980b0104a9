"""Which groups a person was placed in, read from the log (the ``relationship_started`` events,
and the ``member_added`` events of people the coordinator added later)."""

import asyncpg


async def groups_of(pool: asyncpg.Pool, programme_id: str, person_id: str) -> list[str]:
    """Ids of the relationships ``person_id`` was placed in, oldest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id FROM ("
            " SELECT payload->>'relationship_id' AS id, global_position FROM events"
            " WHERE type = 'relationship_started' AND payload->>'programme_id' = $1"
            " AND payload->'members'"
            " @> jsonb_build_array(jsonb_build_object('person_id', $2::text))"
            " UNION ALL"
            " SELECT s.payload->>'relationship_id', a.global_position FROM events a"
            " JOIN events s ON s.stream_id = a.stream_id AND s.version = 1"
            " WHERE a.type = 'member_added' AND a.payload->>'person_id' = $2"
            " AND s.type = 'relationship_started' AND s.payload->>'programme_id' = $1"
            ") placed ORDER BY global_position",
            programme_id,
            person_id,
        )
    ids = [str(r["id"]) for r in rows]
    return list(dict.fromkeys(ids))  # a member who left and was added again: once
