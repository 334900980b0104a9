"""Which event store this is: a short id every process reaching the same database agrees on."""

import hashlib

import asyncpg


async def store_id(pool: asyncpg.Pool) -> str:
    """12 hex digits from the PostgreSQL cluster's system identifier (random at initdb) and the
    database's name: two embedded servers, or two databases of one server, never share it."""
    row = await pool.fetchval(
        "SELECT system_identifier::text || '/' || current_database() FROM pg_control_system()"
    )
    return hashlib.sha256(str(row).encode()).hexdigest()[:12]
