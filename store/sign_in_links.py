"""Single-use sign-in links (``used_sign_in_links``): ids of the links used, nothing personal."""

from uuid import UUID

import asyncpg


async def use_once(pool: asyncpg.Pool, token_id: UUID) -> bool:
    """Record that the link ``token_id`` is used; False when it was used before."""
    try:
        await pool.execute("INSERT INTO used_sign_in_links (token_id) VALUES ($1)", token_id)
    except asyncpg.UniqueViolationError:
        return False
    return True
