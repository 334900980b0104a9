"""The staff overviews' projection: each stream's folded state and the position reached.

The functions taking a connection run in the caller's transaction (the projector's batch, under
its advisory lock).
"""

from typing import Any

import asyncpg

_LOCK_KEY = 0x73746166  # "staf": one projector at a time


async def lock(conn: Any) -> None:
    """Wait until no other projector runs (until the caller's transaction ends)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)


async def position(conn: Any) -> int:
    """The global position the projection has applied up to."""
    reached: int = await conn.fetchval("SELECT position FROM staff_view_position")
    return reached


async def set_position(conn: Any, reached: int) -> None:
    await conn.execute("UPDATE staff_view_position SET position = $1", reached)


async def events_after(conn: Any, after: int, limit: int) -> list[asyncpg.Record]:
    """Up to ``limit`` events past global position ``after``, in order."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT global_position, stream_id, version, type, schema_version, event_id,"
        " occurred_at, actor, payload FROM events WHERE global_position > $1"
        " ORDER BY global_position LIMIT $2",
        after,
        limit,
    )
    return rows


async def stream_events(conn: Any, stream_id: str, up_to: int) -> list[asyncpg.Record]:
    """The events of ``stream_id`` up to version ``up_to``, in order."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT stream_id, version, type, schema_version, event_id, occurred_at, actor,"
        " payload FROM events WHERE stream_id = $1 AND version <= $2 ORDER BY version",
        stream_id,
        up_to,
    )
    return rows


async def held(conn: Any, stream_id: str) -> asyncpg.Record | None:
    """The stream's folded state and its version (None: not projected)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT version, state FROM staff_views WHERE stream_id = $1", stream_id
    )
    return row


async def save(conn: Any, stream_id: str, programme_id: str, version: int, state: str) -> None:
    """Keep ``state`` (JSON) as the stream's folded state at ``version``."""
    await conn.execute(
        "INSERT INTO staff_views (stream_id, programme_id, version, state)"
        " VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (stream_id) DO UPDATE"
        " SET version = excluded.version, state = excluded.state",
        stream_id,
        programme_id,
        version,
        state,
    )


async def states(pool: asyncpg.Pool, programme_ids: list[str] | None) -> list[asyncpg.Record]:
    """(stream_id, programme_id, state) of the programmes ``programme_ids`` (None: all)."""
    rows: list[asyncpg.Record] = await pool.fetch(
        "SELECT stream_id, programme_id, state FROM staff_views"
        " WHERE $1::text[] IS NULL OR programme_id = ANY($1) ORDER BY stream_id",
        programme_ids,
    )
    return rows


async def with_members_added(pool: asyncpg.Pool, programme_id: str) -> list[str]:
    """The folded states (JSON) of the programme's groups that took a member since they started
    (``joined_at`` set): the few a programme page needs, found by the database rather than by
    reading every group of the programme."""
    # ``state`` holds pydantic's compact JSON text as a jsonb string (``save`` passes the text
    # through the pool's codec), so it is searched as text: parsing every group's state to search
    # it as jsonb took as long as reading them all (a regular expression, twice as long as this
    # LIKE). Whether the member is still in the group is left to the caller.
    rows = await pool.fetch(
        "SELECT state FROM staff_views WHERE programme_id = $1"
        " AND stream_id LIKE 'relationship:%' AND state #>> '{}' LIKE '%\"joined_at\":\"%'"
        " ORDER BY stream_id",
        programme_id,
    )
    return [row["state"] for row in rows]


async def state_of(pool: asyncpg.Pool, stream_id: str) -> str | None:
    """The folded state (JSON) of one stream, None when it is not projected."""
    state: str | None = await pool.fetchval(
        "SELECT state FROM staff_views WHERE stream_id = $1", stream_id
    )
    return state
