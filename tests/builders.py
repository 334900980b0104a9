"""Test data: a group, a spec, literal times."""

from datetime import UTC, datetime

import asyncpg

from domain.model import Member, Role
from domain.policy import RelationshipPolicy
from domain.relationship.commands import RelationshipSpec
from store.directory import Contact, Directory, ProgrammeEntry

SHORT = RelationshipPolicy(
    cadence="P7D",
    preparation_reminder="P1D",
    meeting_record_grace="P1D",
    agreement_due="P3D",
    midpoint_window="P2D",
    final_window="P2D",
    reminders=("P1D",),
    overdue_after="P1D",
)
"""A two-month relationship with weekly meetings: enough to cross every phase quickly."""

IN_SECONDS = RelationshipPolicy(
    cadence="PT4S",
    meeting_length="PT1S",
    preparation_reminder="PT1S",
    meeting_record_grace="PT1S",
    agreement_due="PT3S",
    midpoint_window="PT2S",
    final_window="PT2S",
    reminders=("PT1S",),
    overdue_after="PT1S",
)
"""A twenty-second relationship for real-time tests on the dev server: same rules, in seconds."""

MENTORS = ("m1", "m2")
MENTEES = ("a1", "a2", "a3")
COORDINATOR = "hr1"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def group(
    mentors: tuple[str, ...] = MENTORS, mentees: tuple[str, ...] = MENTEES
) -> tuple[Member, ...]:
    return (
        *(Member(person_id=p, role=Role.MENTOR) for p in mentors),
        *(Member(person_id=p, role=Role.MENTEE) for p in mentees),
    )


def spec(
    relationship_id: str,
    starts_at: datetime,
    ends_at: datetime,
    policy: RelationshipPolicy | None = None,
    members: tuple[Member, ...] | None = None,
) -> RelationshipSpec:
    return RelationshipSpec(
        relationship_id=relationship_id,
        programme_id="test",
        coordinator_id=COORDINATOR,
        members=members or group(),
        policy=policy or RelationshipPolicy(),
        starts_at=starts_at,
        ends_at=ends_at,
    )


LOCALES = {"m1": "fi", "m2": "sv", "a1": "en", "a2": "fi", "a3": "sv", COORDINATOR: "en"}
"""Every language is in every group test."""


async def register_test_people(pool: asyncpg.Pool) -> None:
    """The directory entries of programme ``test`` (what `programme start` registers)."""
    people = [
        Contact(p, f"Person {p.upper()}", f"{p}@example.org", lang) for p, lang in LOCALES.items()
    ]
    entry = ProgrammeEntry("test", "Test programme", "Europe/Helsinki", COORDINATOR)
    await Directory(pool).register(entry, people)


async def known_people(pool: asyncpg.Pool, *person_ids: str) -> None:
    """Directory entries (programme ``known``) for ``person_ids``: a data key is made only for a
    person the system holds (``store.sealing.AUTHORS``)."""
    people = [Contact(p, f"Person {p}", f"{p}@example.org", "en") for p in person_ids]
    entry = ProgrammeEntry("known", "Known people", "Europe/Helsinki", COORDINATOR)
    await Directory(pool).register(entry, people)
