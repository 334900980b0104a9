"""Connection pool with JSON codecs, so ``jsonb`` columns read and write Python values."""

import json
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    AnyConnection: TypeAlias = (
        asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
    )
    """A connection of its own, or one borrowed from a pool."""


async def _init(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def create_pool(dsn: str, **kwargs: Any) -> asyncpg.Pool:
    """A pool to ``dsn`` whose connections decode JSON columns."""
    pool = await asyncpg.create_pool(dsn, init=_init, **kwargs)
    assert pool is not None
    return pool
