"""API keys of machine clients: each acts with one role (coordinator or auditor) on one programme.

A key is ``mfk_`` and 43 URL-safe characters (256 random bits), shown once when it is made; the
table keeps its SHA-256 only (a key this random needs no slow hash: it cannot be guessed from a
dictionary). A revoked key stays listed with the time it was revoked and is refused.
"""

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from store.staff import Role, StaffError

__all__ = ["KEY_ROLES", "ApiKey", "ApiKeys"]

KEY_PREFIX = "mfk_"
KEY_ROLES = (Role.COORDINATOR, Role.AUDITOR)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,59}")
_PROGRAMME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    programme_id: str
    role: Role
    name: str
    created_at: datetime
    revoked_at: datetime | None


_COLUMNS = "key_id, programme_id, role, name, created_at, revoked_at"


def _key(row: asyncpg.Record) -> ApiKey:
    return ApiKey(
        str(row["key_id"]),
        row["programme_id"],
        Role(row["role"]),
        row["name"],
        row["created_at"],
        row["revoked_at"],
    )


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _checked(programme_id: str, role: Role, name: str) -> None:
    if role not in KEY_ROLES:
        raise StaffError("an API key's role is coordinator or auditor")
    if not _PROGRAMME.fullmatch(programme_id):
        raise StaffError(f"{programme_id!r} is not a programme id (letters, digits, . _ -)")
    if name and not _NAME.fullmatch(name):
        raise StaffError("--name is a label of up to 60 letters, digits, spaces, . _ -")


class ApiKeys:
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    async def create(self, programme_id: str, role: Role, name: str = "") -> tuple[ApiKey, str]:
        """A new key for ``role`` on ``programme_id``: the record and the key itself (the only
        time it is seen: only its hash is kept)."""
        _checked(programme_id, role, name)
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        row = await self._pool.fetchrow(
            "INSERT INTO api_keys (key_id, key_hash, programme_id, role, name)"
            f" VALUES ($1, $2, $3, $4, $5) RETURNING {_COLUMNS}",
            uuid.uuid4(),
            _hash(secret),
            programme_id,
            str(role),
            name,
        )
        assert row is not None  # RETURNING always gives the row
        return _key(row), secret

    async def all(self) -> list[ApiKey]:
        rows = await self._pool.fetch(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at")
        return [_key(r) for r in rows]

    async def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key: every request carrying it is refused from now on."""
        try:
            key = uuid.UUID(key_id.strip())
        except ValueError:
            raise StaffError(
                f"{key_id!r} is not a key id (see mentorflow staff key list)"
            ) from None
        row = await self._pool.fetchrow(
            "UPDATE api_keys SET revoked_at = coalesce(revoked_at, clock_timestamp())"
            f" WHERE key_id = $1 RETURNING {_COLUMNS}",
            key,
        )
        if row is None:
            raise StaffError(f"no API key with the id {key_id}")
        return _key(row)

    async def by_secret(self, secret: str) -> ApiKey | None:
        """The key a client presents, if it is one and not revoked."""
        if not secret.startswith(KEY_PREFIX) or len(secret) > 100:
            return None
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
            _hash(secret),
        )
        return None if row is None else _key(row)
