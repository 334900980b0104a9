"""Retention: the people of closed programmes past ``retention.personal_data`` are erased.

The retention workflow asks :meth:`RetentionKeeping.due_erasures` who is due (a pure decision,
:func:`due`, over the directory and the programmes' closures), then erases each person with
:meth:`RetentionKeeping.erase_for_retention`, through ``store.privacy.erase``, the same code path
as ``mentorflow privacy erase``: data key, directory rows, deliveries' errors, and a
``personal_data_erased`` event in ``privacy:erasures`` naming ``system:retention`` and why.
"""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.durations import parse_duration
from domain.model import Frozen
from store import privacy
from store.retention import RegisteredProgramme, programmes_and_people

RETENTION_ACTOR = "system:retention"
"""Who the erasure events of the retention schedule name."""


class DueInput(Frozen):
    now: datetime


class DueErasure(Frozen):
    """One person to erase, and the reason the erasure event records."""

    person_id: str
    reason: str


class KeptPerson(Frozen):
    """A person of a programme past its retention who is kept, and why."""

    person_id: str
    why: str


class DueErasures(Frozen):
    erase: list[DueErasure]
    kept: list[KeptPerson]


class ErasedForRetention(Frozen):
    person_id: str
    erased: bool
    """False when the person had been erased already (by someone else, or a retried attempt)."""


class RetentionResult(Frozen):
    """What one run of the retention workflow did."""

    erased: list[str]
    """Person ids erased by this run."""
    kept: list[str]
    """Person ids of programmes past retention kept (another programme still needs them)."""


def expires_on(programme: RegisteredProgramme) -> datetime | None:
    """When the programme's personal data is due for erasure: its retention after it closed,
    on the programme's wall clock (P2Y after 2026-06-30 10:00 in Helsinki is 2028-06-30
    10:00 there); None while it runs."""
    if programme.closed_at is None:
        return None
    local = programme.closed_at.astimezone(ZoneInfo(programme.timezone))
    value: Any = parse_duration(programme.retention)
    due: datetime = local + value
    return due


def due(programmes: list[RegisteredProgramme], now: datetime) -> DueErasures:
    """Who is erased at ``now``: the people of programmes past their retention, except those
    also in a programme still open or still within its retention (kept, with the reason)."""
    past: dict[str, tuple[RegisteredProgramme, date]] = {}
    held: dict[str, str] = {}
    for p in programmes:
        expires = expires_on(p)
        for person in p.people:
            if expires is not None and expires <= now:
                past.setdefault(person, (p, _local_day(p)))
            elif expires is None:
                held[person] = f"still in programme {p.programme_id}, which is open"
            else:
                held.setdefault(
                    person,
                    f"still in programme {p.programme_id}, kept until {expires.date()}",
                )
    erase, kept = [], []
    for person, (p, closed_on) in sorted(past.items()):
        if person in held:
            kept.append(KeptPerson(person_id=person, why=held[person]))
            continue
        reason = f"retention {p.retention} after programme {p.programme_id} closed on {closed_on}"
        erase.append(DueErasure(person_id=person, reason=reason))
    return DueErasures(erase=erase, kept=kept)


def _local_day(p: RegisteredProgramme) -> date:
    assert p.closed_at is not None
    return p.closed_at.astimezone(ZoneInfo(p.timezone)).date()


class RetentionKeeping:
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    @activity.defn
    async def due_erasures(self, request: DueInput) -> DueErasures:
        return due(await programmes_and_people(self._pool), request.now)

    @activity.defn
    async def erase_for_retention(self, request: DueErasure) -> ErasedForRetention:
        """Erase one person; already erased (a retry after the commit, or an operator since)
        counts as done."""
        try:
            await privacy.erase(self._pool, request.person_id, RETENTION_ACTOR, request.reason)
        except privacy.AlreadyErased:
            return ErasedForRetention(person_id=request.person_id, erased=False)
        except privacy.PrivacyError as e:
            raise ApplicationError(str(e), type="PrivacyError", non_retryable=True) from e
        activity.logger.info("retention_erased", extra={"person_id": request.person_id})
        return ErasedForRetention(person_id=request.person_id, erased=True)
