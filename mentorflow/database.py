"""Opening the configured database: what every command that reads or writes the record needs.

Apart from ``mentorflow.runtime`` (workers, activities, workflows) so that a command that only
opens the database (``staff key list``, ``audit replay``...) does not import the whole worker
first: a second of start-up for each such command.
"""

from urllib.parse import urlsplit

import asyncpg

from mentorflow import embedded
from mentorflow.errors import DatabaseUnavailable
from mentorflow.settings import Settings
from store.migrate import migrate, pending
from store.pool import create_pool


def database_url(settings: Settings) -> str:
    """The configured database, or the embedded PostgreSQL (started on first use)."""
    return settings.database_url or embedded.start_postgres(settings.data_dir)


async def open_database(url: str, migrate_schema: bool = True) -> asyncpg.Pool:
    """A pool to ``url``, migrated to the current schema (or checked to be current: a worker
    logging in as a ``mentorflow_writer`` member may not change the schema).

    Raises ``DatabaseUnavailable`` (a ``StackError``) with what to do when it cannot."""
    where = urlsplit(url)._replace(netloc=urlsplit(url).hostname or "").geturl()
    try:
        pool = await create_pool(url)
    except (OSError, asyncpg.PostgresError) as e:
        raise DatabaseUnavailable(f"cannot reach the database at {where}: {e}") from e
    except ValueError as e:  # asyncpg's parser; its message may quote the URL, password too
        raise DatabaseUnavailable(f"the database URL for {where} is not valid") from e
    if migrate_schema:
        try:
            await migrate(pool)
        except asyncpg.PostgresError as e:
            await pool.close()
            raise DatabaseUnavailable(
                f"cannot migrate the database at {where} ({e}): run `mentorflow migrate` as its"
                " owner, and MENTORFLOW_MIGRATE=false for this login"
            ) from e
        return pool
    try:
        missing = await pending(pool)
    except asyncpg.UndefinedTableError as e:
        await pool.close()
        raise DatabaseUnavailable(
            f"the database at {where} has no Mentorflow schema: run `mentorflow migrate` as its"
            " owner first"
        ) from e
    except asyncpg.PostgresError as e:
        await pool.close()
        raise DatabaseUnavailable(f"cannot read the schema version at {where}: {e}") from e
    if missing:
        await pool.close()
        raise DatabaseUnavailable(
            f"the database at {where} lacks migrations {missing}: run `mentorflow migrate` as"
            " its owner first"
        )
    return pool
