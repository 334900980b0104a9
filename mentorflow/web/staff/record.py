"""What the auditor's pages and the JSON API read: the relationship's record, never written.

One reader for both, over ``mentorflow.audit`` (the fold as of a moment, the timeline, the
verification the CLI runs), so a page and ``mentorflow audit ...`` always agree.
"""

from datetime import date

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mentorflow.audit.checkpoint import Checkpoint
from mentorflow.audit.records import (
    AuditError,
    RelationshipAsOf,
    relationship_as_of,
    relationship_id_of,
)
from mentorflow.audit.report import AuditExport, AuditReport, export, verify
from mentorflow.grants import covers
from mentorflow.web.i18n import N_
from mentorflow.web.identity import Refused
from mentorflow.web.pages import Web
from store.event_store import EventStore
from store.sealing import Sealer
from store.staff import StaffMember
from workflows.messages import workflow_id

__all__ = [
    "as_of",
    "checkpoint_of",
    "exported",
    "found",
    "log_verified",
    "parse_as_of",
    "sealer_for",
    "trusted_key",
    "verified",
]

NOT_FOUND = N_("There is no relationship with this id in the record.")
BAD_DATE = N_("Enter a date like 2026-03-01.")


def _workflows() -> list[type]:
    from mentorflow.runtime import WORKFLOWS  # the workflows today's code runs

    return list(WORKFLOWS)


def parse_as_of(value: str | None) -> date | None:
    """The as-of date a person typed (a local date), or a clear 400."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise Refused(400, BAD_DATE)


async def found(pool: asyncpg.Pool, relationship_id: str) -> str | None:
    """The relationship's id if its stream is in the record."""
    rid = relationship_id_of(relationship_id.strip())
    if not rid or not await EventStore(pool).read_stream(workflow_id(rid)):
        return None
    return rid


async def sealer_for(web: Web, member: StaffMember, relationship_id: str) -> Sealer | None:
    """The sealer that opens the relationship's texts, when a recorded grant running now covers
    ``member``; otherwise None: texts read ``[sealed]`` (see mentorflow/grants.py)."""
    if await covers(web.pool, member.staff_id, relationship_id, web.now()):
        # An erasure by another process shows at once: the record's reader asks about the
        # authors of the texts it opens (``Sealer.forget_erased``).
        return web.sealer
    return None


async def as_of(
    pool: asyncpg.Pool, relationship_id: str, when: date | None, sealer: Sealer | None = None
) -> RelationshipAsOf:
    """Texts ``[sealed]`` unless ``sealer`` is given (see :func:`sealer_for`)."""
    try:
        return await relationship_as_of(pool, relationship_id, when, sealer)
    except AuditError as e:
        raise Refused(404, NOT_FOUND) from e


async def verified(pool: asyncpg.Pool, relationship_id: str) -> AuditReport:
    try:
        return await verify(pool, _workflows(), relationship_id)
    except AuditError as e:
        raise Refused(404, NOT_FOUND) from e


def trusted_key(value: str) -> str | None:
    """An Ed25519 public key typed as 64 hex digits (never read as a path: this is web input)."""
    text = value.strip().lower()
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except ValueError:
        return None
    return text


def checkpoint_of(value: str) -> Checkpoint | None:
    try:
        return Checkpoint.model_validate_json(value)
    except ValueError:
        return None


async def log_verified(pool: asyncpg.Pool, taken: Checkpoint, key: str) -> AuditReport:
    """The whole log: both chains, positions, every archived run, and the checkpoint."""
    return await verify(pool, _workflows(), None, trusted_key=key, taken=taken)


async def exported(
    pool: asyncpg.Pool, relationship_id: str, sealer: Sealer | None = None
) -> AuditExport:
    try:
        return await export(pool, _workflows(), relationship_id, sealer)
    except AuditError as e:
        raise Refused(404, NOT_FOUND) from e
