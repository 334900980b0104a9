"""Versioned SQL migrations, applied at start-up by every entry point.

Files are ``store/migrations/NNNN_name.sql``, applied in order, each in its own transaction and
recorded in ``schema_migrations``. An advisory lock lets several workers start at once safely.
"""

from importlib import resources

import asyncpg
import structlog

log = structlog.get_logger(__name__)

_LOCK_KEY = 0x6D656E746F72  # "mentor": any constant the app uses for nothing else


def available() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped with the package, in order."""
    found = []
    for entry in resources.files("store.migrations").iterdir():
        if entry.name.endswith(".sql"):
            number, _, name = entry.name.removesuffix(".sql").partition("_")
            found.append((int(number), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


async def migrate(pool: asyncpg.Pool) -> list[int]:
    """Apply what is not applied yet; return the versions applied now."""
    applied_now = []
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, name, sql in available():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name
                )
            log.info("migration_applied", version=version, name=name)
            applied_now.append(version)
    return applied_now


async def schema_version(pool: asyncpg.Pool) -> int:
    """The latest migration the database has applied (0 for none)."""
    version = await pool.fetchval("SELECT max(version) FROM schema_migrations")
    return int(version or 0)


async def pending(pool: asyncpg.Pool) -> list[int]:
    """Versions shipped with the package that the database has not applied (read-only)."""
    done = {r["version"] for r in await pool.fetch("SELECT version FROM schema_migrations")}
    return [version for version, _, _ in available() if version not in done]
