"""``state = fold(events)``: the one way a programme's state is rebuilt (as for a relationship).

The workflow applies each event it records with :func:`apply`; readers run :func:`fold` over the
stored stream.
"""

from collections.abc import Iterable
from typing import assert_never

from domain.envelope import DeliveryFailed
from domain.errors import InvalidHistory
from domain.programme.events import (
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
    ProgrammeStarted,
    RelationshipEnded,
    RelationshipLaunched,
    UntrainedMentorsExcluded,
)
from domain.programme.state import Launched, ProgrammeState


def fold(events: Iterable[ProgrammeEvent]) -> ProgrammeState:
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
    return apply(state, iterator)


def apply(state: ProgrammeState, events: Iterable[ProgrammeEvent]) -> ProgrammeState:
    new = _copy(state)
    for event in events:
        _apply(new, event)
    return new


def apply_in_place(state: ProgrammeState, events: Iterable[ProgrammeEvent]) -> ProgrammeState:
    """``apply`` without the copy, for a caller that owns ``state`` and keeps no earlier
    version of it (the domain engine of ``mentorflow simulate``): ``state``, changed."""
    for event in events:
        _apply(state, event)
    return state


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
