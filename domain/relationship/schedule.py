"""What the relationship does on its own, and when: reminders, escalations, meetings, phases.

:func:`pending` lists every time-driven step still ahead, each with its due time. The workflow
sleeps until :func:`next_wakeup` and then records :func:`due_events`. Because the schedule is a
pure function of the state, a test can check it with literal times, and a pause that moves the
deadlines in the state moves every timer with them.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from domain import durations, steps
from domain.envelope import Outcome
from domain.factory import EventFactory
from domain.model import Role
from domain.relationship.events import (
    EscalationKind,
    EscalationRaised,
    FeedbackRequested,
    MarkedAtRisk,
    MeetingMissed,
    MeetingScheduled,
    Phase,
    PhaseChanged,
    RelationshipClosed,
    RelationshipEvent,
    RelationshipStarted,
    ReminderIssued,
    ReminderKind,
)
from domain.relationship.fold import apply, apply_in_place, initial_state, reminder_key
from domain.relationship.state import FeedbackRoundState, MeetingSlot, RelationshipState

Build = Callable[[EventFactory], list[RelationshipEvent]]
Due = steps.Due[RelationshipEvent]

PHASE, OPEN, REMIND, ESCALATE, CLOSE = steps.Order  # the order of steps due at the same instant


def pending(s: RelationshipState) -> list[Due]:
    """Every time-driven step still ahead (or overdue). Nothing runs while closed; while paused,
    only (rules 2) the escalation of a pause too long and the closure at the programme's end."""
    if s.closed:
        return []
    if s.paused_since is not None:
        return _paused_steps(s) if s.rules >= 2 else []
    return [
        *_phase_steps(s),
        *_agreement_steps(s),
        *_meeting_steps(s),
        *(step for r in s.feedback.values() for step in _feedback_steps(s, r)),
        _closure_step(s),
    ]


def next_wakeup(s: RelationshipState) -> datetime | None:
    """When the next step falls due; ``None`` when only people can move the relationship."""
    return steps.next_wakeup(pending(s))


def due_events(
    s: RelationshipState, factory: EventFactory, skip_stale: bool = False
) -> list[RelationshipEvent]:
    """Every event due at ``factory.now``, in order; with ``skip_stale``, no reminder whose
    escalation is due too (see ``steps.Due.stale_from``)."""
    return steps.run_due(s, factory, pending, apply, skip_stale)


def due_events_in_place(
    s: RelationshipState, factory: EventFactory, skip_stale: bool = False
) -> list[RelationshipEvent]:
    """``due_events``, applied to ``s`` itself as they are decided (no copy per step), for a
    caller that owns ``s`` and keeps no earlier version of it (the domain engine of
    ``mentorflow simulate``): ``s`` is then the state after them."""
    return steps.run_due(s, factory, pending, apply_in_place, skip_stale)


def opening(
    started: RelationshipStarted, factory: EventFactory, skip_stale: bool = False
) -> list[RelationshipEvent]:
    """The start and every step due at that same instant, to be recorded in one append.

    Recorded apart, the first meeting opened one workflow step after the start: a mentor who
    followed the welcome e-mail's link at once was told that no meeting was open to plan.
    """
    return [started, *due_events(initial_state(started), factory, skip_stale)]


def _phase_steps(s: RelationshipState) -> list[Due]:
    def enter(phase: Phase) -> Build:
        return lambda f: [f.make(PhaseChanged, phase=phase)]

    if s.phase == Phase.KICKOFF:
        at = s.agreement.recorded_at or s.agreement.due_at
        return [Due(at, PHASE, "phase:first_half", enter(Phase.FIRST_HALF))]
    nxt = {
        Phase.FIRST_HALF: ("midpoint", Phase.SECOND_HALF),
        Phase.SECOND_HALF: ("final", Phase.FINAL_FEEDBACK),
    }
    if s.phase in nxt:
        round_name, phase = nxt[s.phase]
        opens = next(r.opens_at for r in s.feedback.values() if r.round == round_name)
        return [Due(opens, PHASE, f"phase:{phase}", enter(phase))]
    return []


def _reminders(
    s: RelationshipState,
    subject: str,
    deadline: datetime,
    kind: ReminderKind,
    recipients: tuple[str, ...],
    not_before: datetime,
    escalated_at: datetime,
) -> list[Due]:
    """One reminder per offset before ``deadline``; none that would fall before ``not_before``;
    each stale once the deadline's escalation (at ``escalated_at``) is due."""
    if _escalated(s, subject):
        return []  # a reminder left unsent as stale (see run_due) stays unsent
    offsets = (
        (s.policy.preparation_reminder,)
        if kind in (ReminderKind.MEETING_PREPARATION, ReminderKind.MEETING_UNSCHEDULED)
        else s.policy.reminders
    )
    steps = []
    for offset in offsets:
        at = durations.subtract(deadline, offset, zone=s.zone)
        if reminder_key(subject, offset) in s.reminders_issued or at < not_before or not recipients:
            continue
        build = _issue_reminder(
            recipients,
            kind=kind,
            subject=subject,
            deadline=deadline,
            offset=offset,
            scheduled_for=at,
        )
        steps.append(Due(at, REMIND, reminder_key(subject, offset), build, escalated_at))
    return steps


def _issue_reminder(recipients: tuple[str, ...], **fields: Any) -> Build:
    return lambda f: [f.make(ReminderIssued, recipients=recipients, **fields)]


def _escalated(s: RelationshipState, subject: str) -> bool:
    """Whether the deadline ``subject`` was escalated (since it was last extended)."""
    since = s.extended.get(subject)
    return any(e.subject == subject and (since is None or e.at > since) for e in s.escalations)


def _not_before(s: RelationshipState, subject: str, start: datetime) -> datetime:
    """No reminder of a deadline before ``start``, nor before it was last extended."""
    extended = s.extended.get(subject)
    return start if extended is None else max(start, extended)


def _escalation(
    s: RelationshipState,
    subject: str,
    kind: EscalationKind,
    at: datetime,
    persons: tuple[str, ...],
    reason: str,
) -> Due:
    def build(f: EventFactory) -> list[RelationshipEvent]:
        return [
            f.make(
                EscalationRaised,
                kind=kind,
                subject=subject,
                persons=persons,
                reason=reason,
                scheduled_for=at,
                recipients=(s.coordinator_id,),
            )
        ]

    return Due(at, ESCALATE, f"escalation:{subject}", build)


def _agreement_steps(s: RelationshipState) -> list[Due]:
    agreement = s.agreement
    if agreement.recorded_at is not None:
        return []
    members = tuple(s.active_members())
    at = durations.add(agreement.due_at, s.policy.overdue_after, zone=s.zone)
    not_before = _not_before(s, "agreement", s.starts_at)
    steps = _reminders(
        s, "agreement", agreement.due_at, ReminderKind.AGREEMENT, members, not_before, at
    )
    if not _escalated(s, "agreement"):
        # Reasons name durations, not dates: the dates are in the event's own fields, and a
        # simulation shifted in time then reads the same.
        reason = f"group agreement not recorded {s.policy.overdue_after} after it was due"
        steps.append(
            _escalation(s, "agreement", EscalationKind.AGREEMENT_OVERDUE, at, members, reason)
        )
    return steps


def _meeting_steps(s: RelationshipState) -> list[Due]:
    steps = [step for slot in s.open_meetings() for step in _open_meeting_steps(s, slot)]
    number = len(s.meetings) + 1
    due = durations.add(s.meeting_anchor, s.policy.cadence, number, zone=s.zone)
    if due < s.ends_at:
        at = durations.add(s.meeting_anchor, s.policy.cadence, number - 1, zone=s.zone)
        build: Build = lambda f: [  # noqa: E731
            f.make(
                MeetingScheduled, number=number, due_at=due, recipients=tuple(s.active_members())
            )
        ]
        steps.append(Due(at, OPEN, f"meeting:{number}:schedule", build))
    return steps


def _open_meeting_steps(s: RelationshipState, slot: MeetingSlot) -> list[Due]:
    subject = f"meeting:{slot.number}"
    mentors = tuple(s.active_members(Role.MENTOR))
    at = durations.add(slot.due_at, s.policy.meeting_record_grace, zone=s.zone)
    # Rules 3: a meeting with no planned time by then gets the mentors' nudge to plan it instead
    # (one reminder either way: both share the key).
    kind = (
        ReminderKind.MEETING_UNSCHEDULED
        if s.rules >= 3 and slot.starts_at is None
        else ReminderKind.MEETING_PREPARATION
    )
    steps = _reminders(s, subject, slot.due_at, kind, mentors, s.starts_at, at)
    reason = f"not recorded within {s.policy.meeting_record_grace} of its due date"
    build: Build = lambda f: [  # noqa: E731
        f.make(MeetingMissed, number=slot.number, reason=reason),
        *at_risk_events(s, slot.number, f, at),
    ]
    steps.append(Due(at, ESCALATE, f"{subject}:missed", build))
    return steps


def at_risk_events(
    s: RelationshipState, missed_meeting: int, f: EventFactory, at: datetime
) -> list[RelationshipEvent]:
    """Mark the group at risk and tell the coordinator, once, when misses reach the threshold.

    Called as meeting ``missed_meeting`` is found missed (by its deadline ``at``, or by a member
    recording that it did not take place), before that miss is applied to ``s``.
    """
    missed_in_a_row = s.missed_in_a_row + 1
    if s.at_risk or missed_in_a_row < s.policy.inactive_after_missed_meetings:
        return []
    reason = f"{missed_in_a_row} meetings in a row not held"
    subject = f"inactive:meeting:{missed_meeting}"
    members = tuple(s.active_members())
    escalation = _escalation(s, subject, EscalationKind.INACTIVE, at, members, reason)
    return [
        f.make(MarkedAtRisk, missed_in_a_row=missed_in_a_row, reason=reason),
        *escalation.build(f),
    ]


def _feedback_steps(s: RelationshipState, r: FeedbackRoundState) -> list[Due]:
    if r.closed:
        return []
    subject = f"feedback:{r.round}"
    if r.requested_at is None:
        members = tuple(s.active_members())
        build: Build = lambda f: [  # noqa: E731
            f.make(FeedbackRequested, round=r.round, due_at=r.due_at, recipients=members)
        ]
        return [Due(r.opens_at, OPEN, f"{subject}:request", build)]
    missing = tuple(p for p in _asked(s, r) if p not in r.answers)
    at = durations.add(r.due_at, s.policy.overdue_after, zone=s.zone)
    not_before = _not_before(s, subject, r.opens_at)
    steps = _reminders(s, subject, r.due_at, ReminderKind.FEEDBACK, missing, not_before, at)
    if missing and not _escalated(s, subject):
        reason = (
            f"{r.round} feedback missing from {len(missing)} member(s)"
            f" {s.policy.overdue_after} after it was due"
        )
        steps.append(_escalation(s, subject, EscalationKind.FEEDBACK_OVERDUE, at, missing, reason))
    return steps


def _asked(s: RelationshipState, r: FeedbackRoundState) -> list[str]:
    """The active members round ``r`` was requested from: a member who joined the group after
    the request was never asked, so is not reminded or counted missing (they may still answer)."""
    requested = r.requested_at
    return [
        p
        for p in s.active_members()
        if requested is None or (s.members[p].joined_at or requested) <= requested
    ]


def _paused_steps(s: RelationshipState) -> list[Due]:
    assert s.paused_since is not None
    steps = []
    subject = "pause"
    escalated = (e for e in s.escalations if e.kind == EscalationKind.PAUSED_TOO_LONG)
    if not any(e.at >= s.paused_since for e in escalated):  # once per pause
        at = durations.add(s.paused_since, s.policy.max_pause, zone=s.zone)
        reason = f"paused for longer than {s.policy.max_pause} and not resumed"
        members = tuple(s.active_members())
        steps.append(_escalation(s, subject, EscalationKind.PAUSED_TOO_LONG, at, members, reason))
    end = s.programme_ends_at or s.ends_at
    steps.append(_closure_step(s, end, "the programme ended while the group was paused"))
    return steps


def _closure_step(
    s: RelationshipState, at: datetime | None = None, reason: str = "end date reached"
) -> Due:
    build: Build = lambda f: [  # noqa: E731
        f.make(
            RelationshipClosed,
            outcome=Outcome.COMPLETED,
            reason=reason,
            recipients=s.everyone(),
        )
    ]
    return Due(at or s.ends_at, CLOSE, "closure", build)
