"""Recorded grants: an auditor reads a relationship's texts only when a grant says so.

Auditors see the structure of a relationship's record (who did what, when, why) with every
free text ``[sealed]``. ``mentorflow privacy grant`` records a ``text_access_granted`` event
(who granted, to which staff member, for which relationship, why, until when) in the stream
:data:`GRANTS`; the auditor's pages, exports and API open that relationship's texts for that
staff member while the grant runs, and for nobody else. A stream of its own, like the erasures:
grants are decisions of the deployment, not of a programme's workflow, and the global hash chain
covers them like every other event. The event holds the staff id, never the address.
"""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from domain.text import PlainText
from mentorflow.audit.records import AuditError, relationship_as_of, relationship_id_of
from mentorflow.privacy import PrivacyError
from store.event_store import EventStore, NewEvent
from store.staff import Role, StaffRegister

GRANTS = "privacy:grants"
"""The stream of every grant of access to a relationship's texts."""

GRANTED_EVENT = "text_access_granted"

_REASON: TypeAdapter[str] = TypeAdapter(PlainText)


class GrantError(PrivacyError):
    """A grant refused: unknown auditor or relationship, bad reason or date."""


class Grant(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    staff_id: str
    relationship_id: str
    granted_by: str
    granted_at: datetime
    reason: str
    until: date | None
    """The last day (in the programme's zone) the grant covers; None: no end."""
    expires_at: datetime | None
    """The end of ``until`` in the programme's zone, as an instant."""


async def grant(
    pool: asyncpg.Pool,
    auditor_email: str,
    relationship_id: str,
    by: str,
    reason: str,
    until: date | None,
    now: datetime,
) -> Grant:
    """Record that ``auditor_email`` may read ``relationship_id``'s texts (until ``until``)."""
    try:
        reason = _REASON.validate_python(reason)
    except ValidationError as e:
        raise GrantError(f"--reason: {e.errors()[0]['msg']}") from None
    member = await StaffRegister(pool).by_email(auditor_email)
    if member is None or member.role not in (Role.AUDITOR, Role.ADMIN):
        raise GrantError(f"--auditor: {auditor_email!r} is not an auditor or admin on the staff")
    try:
        relationship = await relationship_as_of(pool, relationship_id, None)
    except AuditError as e:
        raise GrantError(f"--relationship: {e}") from None
    expires = None if until is None else _end_of(until, relationship.timezone)
    if expires is not None and expires <= now:
        raise GrantError(f"--until: {until} is already past in {relationship.timezone}")
    event = NewEvent(
        event_id=uuid.uuid4(),
        type=GRANTED_EVENT,
        schema_version=1,
        occurred_at=now,
        actor=by,
        payload={
            "staff_id": member.staff_id,
            "relationship_id": relationship.relationship_id,
            "reason": reason,
            "until": None if until is None else until.isoformat(),
            "expires_at": None if expires is None else expires.isoformat(),
        },
    )
    async with pool.acquire() as conn, conn.transaction():
        await EventStore.append_in(conn, GRANTS, [event])
    return _grant_of(event.actor, event.occurred_at, event.payload)


async def grants(pool: asyncpg.Pool) -> list[Grant]:
    """Every grant recorded, in order."""
    records = await EventStore(pool).read_stream(GRANTS)
    return [
        _grant_of(r.actor, r.occurred_at, r.payload) for r in records if r.type == GRANTED_EVENT
    ]


async def covers(pool: asyncpg.Pool, staff_id: str, relationship_id: str, now: datetime) -> bool:
    """Whether a grant running at ``now`` lets ``staff_id`` read ``relationship_id``'s texts."""
    rid = relationship_id_of(relationship_id.strip())
    return any(
        g.staff_id == staff_id
        and g.relationship_id == rid
        and (g.expires_at is None or now < g.expires_at)
        for g in await grants(pool)
    )


def _end_of(day: date, zone: str) -> datetime:
    start_of_next = datetime.combine(day + timedelta(days=1), time(), ZoneInfo(zone))
    return start_of_next.astimezone(UTC)


def _grant_of(actor: str, at: datetime, payload: dict[str, object]) -> Grant:
    return Grant.model_validate(
        {
            "staff_id": payload["staff_id"],
            "relationship_id": payload["relationship_id"],
            "granted_by": actor,
            "granted_at": at,
            "reason": payload["reason"],
            "until": payload["until"],
            "expires_at": payload["expires_at"],
        }
    )
