"""Staff of the web app: who may sign in as coordinator, auditor or admin, and for what.

Roles:
    coordinator  sees and acts on the programmes listed with them only;
    auditor      reads every programme's record, acts on nothing;
    admin        sees and acts on every programme.

The address is kept here only (to mail sign-in links); sessions, logs and URLs carry the
staff id.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import asyncpg

__all__ = ["Role", "StaffError", "StaffMember", "StaffRegister"]


class Role(StrEnum):
    COORDINATOR = "coordinator"
    AUDITOR = "auditor"
    ADMIN = "admin"


class StaffError(ValueError):
    """A staff change that cannot be made; the message says why (nothing was changed)."""


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    email: str
    role: Role
    programmes: tuple[str, ...]

    def reads(self, programme_id: str) -> bool:
        """Whether this member may read ``programme_id``'s pages and record."""
        return self.role != Role.COORDINATOR or programme_id in self.programmes

    def acts_on(self, programme_id: str) -> bool:
        """Whether this member may change ``programme_id`` (send it Updates)."""
        if self.role == Role.AUDITOR:
            return False
        return self.role == Role.ADMIN or programme_id in self.programmes


_COLUMNS = "staff_id, email, role, programmes"


def _member(row: asyncpg.Record) -> StaffMember:
    return StaffMember(
        str(row["staff_id"]), row["email"], Role(row["role"]), tuple(row["programmes"])
    )


class StaffRegister:
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    async def add(self, email: str, role: Role, programmes: Sequence[str]) -> StaffMember:
        """Add a member, or change the role and programmes of the one with this address."""
        programmes = tuple(dict.fromkeys(programmes))
        if role == Role.COORDINATOR and not programmes:
            raise StaffError("a coordinator needs at least one --programme")
        if role != Role.COORDINATOR and programmes:
            raise StaffError(f"an {role} sees every programme: give no --programme")
        row = await self._pool.fetchrow(
            f"INSERT INTO staff ({_COLUMNS}) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (lower(email)) DO UPDATE"
            " SET role = excluded.role, programmes = excluded.programmes"
            f" RETURNING {_COLUMNS}",
            uuid.uuid4(),
            email,
            str(role),
            list(programmes),
        )
        assert row is not None  # RETURNING always gives the row
        return _member(row)

    async def remove(self, email: str) -> StaffMember:
        row = await self._pool.fetchrow(
            f"DELETE FROM staff WHERE lower(email) = lower($1) RETURNING {_COLUMNS}", email
        )
        if row is None:
            raise StaffError(f"no staff member with the address {email}")
        return _member(row)

    async def all(self) -> list[StaffMember]:
        rows = await self._pool.fetch(f"SELECT {_COLUMNS} FROM staff ORDER BY lower(email)")
        return [_member(r) for r in rows]

    async def by_email(self, email: str) -> StaffMember | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM staff WHERE lower(email) = lower($1)", email
        )
        return None if row is None else _member(row)

    async def by_id(self, staff_id: str) -> StaffMember | None:
        try:
            key = uuid.UUID(staff_id)
        except ValueError:
            return None
        row = await self._pool.fetchrow(f"SELECT {_COLUMNS} FROM staff WHERE staff_id = $1", key)
        return None if row is None else _member(row)
