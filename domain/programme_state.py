"""The state of a programme, rebuilt by ``fold_programme(events)`` as for relationships."""

from collections.abc import Iterable
from datetime import date, datetime
from typing import assert_never

from pydantic import BaseModel, ConfigDict

from domain.calendar import ProgrammeCalendar
from domain.errors import InvalidHistory
from domain.events import DeliveryFailed, Outcome
from domain.matching import MatchingResult, ProposedGroup
from domain.model import PersonId, Role
from domain.programme import Profile, Programme
from domain.programme_events import (
    ApprovalEscalated,
    GroupsChecked,
    GroupStatus,
    MatchingApproved,
    MatchingProposed,
    MentorTrained,
    MilestoneReached,
    ParticipantEnrolled,
    ParticipantRemoved,
    ParticipantUpdated,
    PhaseEntered,
    ProgrammeClosed,
    ProgrammeEvent,
    ProgrammePhase,
    ProgrammeReminderIssued,
    ProgrammeReport,
    ProgrammeStarted,
    RelationshipEnded,
    RelationshipLaunched,
    UntrainedMentorsExcluded,
)


class Launched(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: int
    mentors: list[PersonId]
    mentees: list[PersonId]
    outcome: Outcome | None = None
    reason: str | None = None
    abnormal: str | None = None
    """How the group ended when it did not close normally (``GroupStatus``), found at the end."""


class ProgrammeState(BaseModel):
    # Not frozen: fold builds a private deep copy and applies events to it in place.
    model_config = ConfigDict(extra="forbid")

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


def fold_programme(events: Iterable[ProgrammeEvent]) -> ProgrammeState:
    iterator = iter(events)
    first = next(iterator, None)
    if not isinstance(first, ProgrammeStarted):
        raise InvalidHistory("a programme's history must begin with programme_started")
    state = ProgrammeState(
        programme=first.programme,
        calendar=first.calendar,
        started_at=first.occurred_at,
        participants={p.id: p for p in first.participants},
    )
    return apply_programme(state, iterator)


def apply_programme(state: ProgrammeState, events: Iterable[ProgrammeEvent]) -> ProgrammeState:
    new = _copy(state)
    for event in events:
        _apply(new, event)
    return new


def _copy(s: ProgrammeState) -> ProgrammeState:
    """A copy that ``_apply`` may change: new containers, sharing the frozen models they hold.

    A deep copy took seconds for a cohort of thousands (every profile and group copied at
    every event), longer than a workflow task may run.
    """
    return s.model_copy(
        update={
            "participants": dict(s.participants),
            "removed": dict(s.removed),
            "excluded": list(s.excluded),
            "approved": None if s.approved is None else list(s.approved),
            "reminders_issued": list(s.reminders_issued),
            "launched": {rid: group.model_copy() for rid, group in s.launched.items()},
            "milestones": list(s.milestones),
            "unreachable": list(s.unreachable),
        }
    )


def _apply(s: ProgrammeState, event: ProgrammeEvent) -> None:
    s.version += 1
    match event:
        case ProgrammeStarted():
            raise InvalidHistory("programme_started may only be the first event")
        case PhaseEntered():
            s.phase = event.phase
        case ParticipantEnrolled():
            s.participants[event.profile.id] = event.profile
            s.removed.pop(event.profile.id, None)
        case ParticipantUpdated():
            s.participants[event.profile.id] = event.profile
        case ParticipantRemoved():
            del s.participants[event.person_id]
            s.removed[event.person_id] = event.reason
        case MentorTrained():
            s.participants[event.person_id] = s.participants[event.person_id].model_copy(
                update={"trained_on": event.trained_on}
            )
        case ProgrammeReminderIssued():
            s.reminders_issued.append(f"{event.subject}/{event.offset}")
        case UntrainedMentorsExcluded():
            s.excluded = list(event.persons)
        case MatchingProposed():
            s.proposal, s.approval_due = event.result, event.approval_due
        case ApprovalEscalated():
            s.approval_escalated = True
        case MatchingApproved():
            s.approved, s.approved_at = list(event.groups), event.occurred_at
        case RelationshipLaunched():
            s.launched[event.relationship_id] = Launched(
                number=event.number, mentors=list(event.mentors), mentees=list(event.mentees)
            )
        case MilestoneReached():
            s.milestones.append(event.milestone)
        case RelationshipEnded():
            s.launched[event.relationship_id].outcome = event.outcome
            s.launched[event.relationship_id].reason = event.reason
        case GroupsChecked():
            for finding in event.findings:
                group = s.launched[finding.relationship_id]
                group.outcome, group.reason = finding.outcome, finding.reason
                if finding.status != GroupStatus.COMPLETED:
                    group.abnormal = finding.status
        case DeliveryFailed():
            if event.person_id not in s.unreachable:
                s.unreachable.append(event.person_id)
        case ProgrammeClosed():
            s.report, s.closed_at, s.phase = event.report, event.occurred_at, ProgrammePhase.CLOSED
        case _:
            assert_never(event)
