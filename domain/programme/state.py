"""The state of a programme: what ``fold(events)`` rebuilds, as for a relationship."""

from datetime import date, datetime

from domain.calendar import ProgrammeCalendar
from domain.envelope import Outcome
from domain.matching import MatchingResult, ProposedGroup
from domain.model import PersonId, Role, State
from domain.programme.events import ProgrammePhase, ProgrammeReport
from domain.programme.model import Profile, Programme


class Launched(State):
    number: int
    mentors: list[PersonId]
    mentees: list[PersonId]
    outcome: Outcome | None = None
    reason: str | None = None
    abnormal: str | None = None
    """How the group ended when it did not close normally (``GroupStatus``), found at the end."""


class ProgrammeState(State):
    programme: Programme
    calendar: ProgrammeCalendar
    started_at: datetime
    version: int = 1
    phase: ProgrammePhase = ProgrammePhase.ENROLMENT
    participants: dict[PersonId, Profile]
    removed: dict[PersonId, str] = {}
    excluded: list[PersonId] = []
    proposal: MatchingResult | None = None
    approval_due: datetime | None = None
    approved: list[ProposedGroup] | None = None
    approved_at: datetime | None = None
    reminders_issued: list[str] = []
    approval_escalated: bool = False
    launched: dict[str, Launched] = {}
    milestones: list[str] = []
    unreachable: list[PersonId] = []
    """People a message could not be delivered to (the coordinator was told the first time)."""
    report: ProgrammeReport | None = None
    closed_at: datetime | None = None

    @property
    def closed(self) -> bool:
        return self.phase == ProgrammePhase.CLOSED

    def untrained_mentors(self, by: date | None = None) -> list[PersonId]:
        return [
            p.id
            for p in self.participants.values()
            if p.role == Role.MENTOR
            and (p.trained_on is None or (by is not None and p.trained_on > by))
        ]

    def everyone(self) -> tuple[PersonId, ...]:
        return (*self.participants, self.programme.coordinator.id)

    def open_relationships(self) -> list[str]:
        return [rid for rid, r in self.launched.items() if r.outcome is None and r.abnormal is None]

    def ended_abnormally(self) -> dict[str, str]:
        return {rid: r.abnormal for rid, r in self.launched.items() if r.abnormal is not None}
