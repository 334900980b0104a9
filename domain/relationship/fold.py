"""``state = fold(events)``: the one way a relationship's state is rebuilt.

The workflow applies each event it records with :func:`apply`; auditors run :func:`fold` over the
stored stream. Both go through :func:`_apply_in_place`, so they cannot disagree.
"""

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import assert_never

from domain import durations
from domain.envelope import DeliveryFailed
from domain.errors import InvalidHistory
from domain.relationship.events import (
    AgendaItemAdded,
    AgreementRecorded,
    DeadlineExtended,
    EscalationRaised,
    EscalationResolved,
    FeedbackRequested,
    FeedbackRound,
    FeedbackSubmitted,
    MarkedAtRisk,
    MeetingCancelled,
    MeetingMissed,
    MeetingPlanned,
    MeetingRecorded,
    MeetingScheduled,
    MemberAdded,
    MemberWithdrew,
    Paused,
    Phase,
    PhaseChanged,
    RelationshipClosed,
    RelationshipEvent,
    RelationshipStarted,
    ReminderIssued,
    Resumed,
)
from domain.relationship.state import (
    AgendaItem,
    AgreementState,
    Closure,
    EscalationRecord,
    FeedbackAnswer,
    FeedbackRoundState,
    MeetingSlot,
    MeetingStatus,
    MemberState,
    RelationshipState,
)


def reminder_key(subject: str, offset: str) -> str:
    """Identity of a reminder: one per deadline and offset, whenever the deadline moves."""
    return f"{subject}/{offset}"


def fold(events: Iterable[RelationshipEvent]) -> RelationshipState:
    """Rebuild the state from a stream that begins with ``RelationshipStarted``."""
    iterator = iter(events)
    first = next(iterator, None)
    if not isinstance(first, RelationshipStarted):
        raise InvalidHistory("a relationship's history must begin with relationship_started")
    return apply(initial_state(first), iterator)


def apply(state: RelationshipState, events: Iterable[RelationshipEvent]) -> RelationshipState:
    """A new state: ``state`` with ``events`` applied in order. ``state`` is left untouched."""
    new = state.model_copy(deep=True)
    for event in events:
        _apply_in_place(new, event)
    return new


def apply_in_place(
    state: RelationshipState, events: Iterable[RelationshipEvent]
) -> RelationshipState:
    """``apply`` without the copy, for a caller that owns ``state`` and keeps no earlier
    version of it (the domain engine of ``mentorflow simulate``): ``state``, changed."""
    for event in events:
        _apply_in_place(state, event)
    return state


def replay(
    events: Iterable[RelationshipEvent],
) -> Iterator[tuple[RelationshipEvent, RelationshipState]]:
    """Each event with the state just after it, for readers that walk a history step by step.

    One state is updated in place and yielded each time (no copy per step): read it before the
    next step, copy it to keep it.
    """
    iterator = iter(events)
    first = next(iterator, None)
    if not isinstance(first, RelationshipStarted):
        raise InvalidHistory("a relationship's history must begin with relationship_started")
    state = initial_state(first)
    yield first, state
    for event in iterator:
        _apply_in_place(state, event)
        yield event, state


def initial_state(started: RelationshipStarted) -> RelationshipState:
    policy, starts, ends, zone = started.policy, started.starts_at, started.ends_at, started.zone
    midpoint_opens = starts + (ends - starts) * policy.midpoint_at
    final_due = durations.subtract(ends, policy.overdue_after, zone=zone)
    rounds = {
        FeedbackRound.MIDPOINT: FeedbackRoundState(
            round=FeedbackRound.MIDPOINT,
            opens_at=midpoint_opens,
            due_at=durations.add(midpoint_opens, policy.midpoint_window, zone=zone),
        ),
        FeedbackRound.FINAL: FeedbackRoundState(
            round=FeedbackRound.FINAL,
            opens_at=durations.subtract(final_due, policy.final_window, zone=zone),
            due_at=final_due,
        ),
    }
    return RelationshipState(
        relationship_id=started.relationship_id,
        programme_id=started.programme_id,
        coordinator_id=started.coordinator_id,
        policy=policy,
        starts_at=starts,
        ends_at=ends,
        version=1,
        members={
            m.person_id: MemberState(person_id=m.person_id, role=m.role) for m in started.members
        },
        agreement=AgreementState(due_at=durations.add(starts, policy.agreement_due, zone=zone)),
        meeting_anchor=starts,
        feedback=rounds,
        zone=zone,
        rules=started.rules,
        programme_ends_at=ends if started.rules >= 2 else None,
    )


def _apply_in_place(s: RelationshipState, event: RelationshipEvent) -> None:
    s.version += 1
    match event:
        case RelationshipStarted():
            raise InvalidHistory("relationship_started may only be the first event")
        case PhaseChanged(phase=phase):
            s.phase = phase
            if phase == Phase.FINAL_FEEDBACK:
                s.feedback[FeedbackRound.MIDPOINT].closed = True
        case AgreementRecorded():
            _record_agreement(s, event)
        case (
            MeetingScheduled()
            | MeetingPlanned()
            | MeetingCancelled()
            | AgendaItemAdded()
            | MeetingRecorded()
            | MeetingMissed()
        ):
            _apply_meeting(s, event)
        case MarkedAtRisk():
            s.at_risk = True
        case ReminderIssued():
            s.reminders_issued.append(reminder_key(event.subject, event.offset))
        case FeedbackRequested():
            s.feedback[event.round].requested_at = event.occurred_at
            s.feedback[event.round].due_at = event.due_at
        case FeedbackSubmitted():
            _record_answer(s, event)
        case EscalationRaised():
            _record_escalation(s, event)
        case EscalationResolved():
            _resolve_escalation(s, event)
        case MemberWithdrew():
            member = s.members[event.person_id]
            member.active = False
            member.withdrew_at, member.withdrawal_reason = event.occurred_at, event.reason
        case MemberAdded():
            s.members[event.person_id] = MemberState(
                person_id=event.person_id,
                role=event.role,
                joined_at=event.occurred_at,
                replaced=event.replaces,
            )
        case DeadlineExtended():
            _extend(s, event)
        case Paused():
            s.paused_since = event.occurred_at
        case Resumed():
            _resume(s, event)
        case DeliveryFailed():
            if event.person_id not in s.unreachable:
                s.unreachable.append(event.person_id)
        case RelationshipClosed():
            _close(s, event)
        case _:
            assert_never(event)


def _record_agreement(s: RelationshipState, event: AgreementRecorded) -> None:
    s.agreement.recorded_at = event.occurred_at
    s.agreement.recorded_by = event.actor
    s.agreement.goals = list(event.goals)
    s.agreement.late = event.late


def _record_answer(s: RelationshipState, event: FeedbackSubmitted) -> None:
    s.feedback[event.round].answers[event.actor] = FeedbackAnswer(
        submitted_at=event.occurred_at,
        late=event.late,
        answers=event.answers,
        choices=event.choices,
    )


def _record_escalation(s: RelationshipState, event: EscalationRaised) -> None:
    s.escalations.append(
        EscalationRecord(
            kind=event.kind,
            subject=event.subject,
            at=event.occurred_at,
            persons=list(event.persons),
            reason=event.reason,
        )
    )


def _resolve_escalation(s: RelationshipState, event: EscalationResolved) -> None:
    if not 1 <= event.number <= len(s.escalations):
        raise InvalidHistory(f"escalation {event.number} was never raised")
    escalation = s.escalations[event.number - 1]
    escalation.resolved_at, escalation.resolved_by = event.occurred_at, event.actor
    escalation.resolution, escalation.note = event.how, event.note


def _extend(s: RelationshipState, event: DeadlineExtended) -> None:
    if event.subject == "agreement":
        s.agreement.due_at = event.due_at
    elif event.subject.startswith("feedback:"):
        s.feedback[FeedbackRound(event.subject.removeprefix("feedback:"))].due_at = event.due_at
    else:
        raise InvalidHistory(f"no deadline {event.subject!r} to extend")
    s.extended[event.subject] = event.occurred_at
    # The reminders of the old deadline are spent: the new one is reminded of afresh.
    prefix = reminder_key(event.subject, "")
    s.reminders_issued = [k for k in s.reminders_issued if not k.startswith(prefix)]


def _resume(s: RelationshipState, event: Resumed) -> None:
    by = event.occurred_at - event.paused_since
    if s.rules >= 2:
        _shift_deadlines_within_programme(s, event.paused_since, by)
    else:
        _shift_deadlines(s, event.paused_since, by)
    s.paused_since = None


def _close(s: RelationshipState, event: RelationshipClosed) -> None:
    s.closure = Closure(
        outcome=event.outcome, reason=event.reason, closed_at=event.occurred_at, note=event.note
    )
    s.phase = Phase.CLOSED
    for feedback_round in s.feedback.values():
        feedback_round.closed = True


MeetingEvent = (
    MeetingScheduled
    | MeetingPlanned
    | MeetingCancelled
    | AgendaItemAdded
    | MeetingRecorded
    | MeetingMissed
)


def _apply_meeting(s: RelationshipState, event: MeetingEvent) -> None:
    """The events of the meeting cycle: invited, planned, cancelled, agenda, held or missed."""
    match event:
        case MeetingScheduled():
            s.meetings.append(MeetingSlot(number=event.number, due_at=event.due_at))
        case MeetingPlanned():
            slot = _slot(s, event.number)
            slot.starts_at, slot.minutes, slot.place = event.starts_at, event.minutes, event.place
            slot.planned_by = event.actor
        case MeetingCancelled():
            slot = _slot(s, event.number)
            slot.starts_at, slot.minutes, slot.place, slot.planned_by = None, None, None, None
        case AgendaItemAdded():
            s.agenda.append(
                AgendaItem(
                    number=event.number, by=event.actor, at=event.occurred_at, text=event.text
                )
            )
        case MeetingRecorded():
            _record_meeting(s, event)
        case MeetingMissed():
            slot = _slot(s, event.number)
            slot.status, slot.reason = MeetingStatus.MISSED, event.reason
            s.missed_in_a_row += 1
        case _:
            assert_never(event)


def _slot(s: RelationshipState, number: int) -> MeetingSlot:
    for slot in s.meetings:
        if slot.number == number:
            return slot
    raise InvalidHistory(f"meeting {number} was never scheduled")


def _record_meeting(s: RelationshipState, event: MeetingRecorded) -> None:
    slot = _slot(s, event.number)
    slot.status = MeetingStatus.HELD if event.held else MeetingStatus.NOT_HELD
    slot.held_on, slot.attendees = event.held_on, list(event.attendees)
    slot.recorded_by, slot.reason = event.actor, event.reason
    if event.held:
        s.missed_in_a_row, s.at_risk = 0, False
    else:
        s.missed_in_a_row += 1


def _shift_deadlines(s: RelationshipState, since: datetime, by: timedelta) -> None:
    """Move every deadline still ahead when the pause began by the pause's length."""
    if s.agreement.recorded_at is None and s.agreement.due_at > since:
        s.agreement.due_at += by
    for slot in s.open_meetings():
        if slot.due_at > since:
            slot.due_at += by
    for feedback_round in s.feedback.values():
        if feedback_round.opens_at > since:
            feedback_round.opens_at += by
        if feedback_round.due_at > since:
            feedback_round.due_at += by
    s.meeting_anchor += by
    s.ends_at += by


def _shift_deadlines_within_programme(s: RelationshipState, since: datetime, by: timedelta) -> None:
    """Rules 2: move every deadline whose grace or escalation was still ahead when the pause
    began (a meeting inside its recording grace is not found missed on resume), but never past
    the programme's end: the group's end moves only as far as that, and its final feedback with
    it."""
    p, z = s.policy, s.zone
    escalated = {e.subject for e in s.escalations}

    def ahead(deadline: datetime, grace: str) -> bool:
        return durations.add(deadline, grace, zone=z) > since

    agreement = s.agreement
    if (
        agreement.recorded_at is None
        and "agreement" not in escalated
        and ahead(agreement.due_at, p.overdue_after)
    ):
        agreement.due_at += by
    for slot in s.open_meetings():
        if ahead(slot.due_at, p.meeting_record_grace):
            slot.due_at += by
    for feedback_round in s.feedback.values():
        if feedback_round.opens_at > since:
            feedback_round.opens_at += by
        if (
            not feedback_round.closed
            and f"feedback:{feedback_round.round}" not in escalated
            and ahead(feedback_round.due_at, p.overdue_after)
        ):
            feedback_round.due_at += by
    s.meeting_anchor += by
    end = s.programme_ends_at or s.ends_at + by
    s.ends_at = min(s.ends_at + by, end)
    final = s.feedback[FeedbackRound.FINAL]
    if final.requested_at is None:
        final.due_at = min(final.due_at, durations.subtract(s.ends_at, p.overdue_after, zone=z))
        final.opens_at = min(
            final.opens_at, durations.subtract(final.due_at, p.final_window, zone=z)
        )
