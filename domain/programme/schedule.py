"""What a programme does on its own: the steps that fall due by time (:func:`pending`) produce
events; the three that need I/O (computing the matching, starting the groups' workflows, closing
with a report) are :func:`next_action`, for the workflow to carry out (the events it records of
them are built in ``domain.programme.commands``).
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from domain import durations, steps
from domain.calendar import CLOSING_INVITATION_AHEAD
from domain.factory import EventFactory
from domain.model import PersonId
from domain.programme.events import (
    ApprovalEscalated,
    Milestone,
    MilestoneReached,
    PhaseEntered,
    ProgrammeEvent,
    ProgrammePhase,
    ProgrammeReminderIssued,
    UntrainedMentorsExcluded,
)
from domain.programme.fold import apply, apply_in_place
from domain.programme.state import ProgrammeState

Due = steps.Due[ProgrammeEvent]
Build = Callable[[EventFactory], list[ProgrammeEvent]]
PHASE, REMIND, ESCALATE = steps.Order.PHASE, steps.Order.REMIND, steps.Order.ESCALATE


class Action(StrEnum):
    MATCH = "match"
    LAUNCH = "launch"
    CHECK_GROUPS = "check_groups"
    CLOSE = "close"


GROUPS_REPORT_WITHIN = timedelta(days=1)
"""Groups close at the programme's end and report at once; after this, the programme asks
Temporal about those that have not (failed, terminated, or still running)."""


def pending(s: ProgrammeState, announce_start: bool = True) -> list[Due]:
    """``announce_start``: tell the coordinator on the first day (runs recorded before that
    message existed pass False, so that they replay)."""
    if s.closed:
        return []
    found = _start_announcement(s) if announce_start else []
    match s.phase:
        case ProgrammePhase.ENROLMENT:
            return [*found, *_training_reminders(s), _training_deadline(s)]
        case ProgrammePhase.APPROVAL:
            return [*found, *_approval_steps(s)]
        case ProgrammePhase.RUNNING:
            return [*found, *_milestones(s)]
    return found


def next_wakeup(
    s: ProgrammeState, check_groups: bool = True, announce_start: bool = True
) -> datetime | None:
    action = next_action(s, check_groups)
    times = [d.at for d in pending(s, announce_start)] + ([action[0]] if action else [])
    return min(times, default=None)


def due_events(
    s: ProgrammeState, f: EventFactory, announce_start: bool = True
) -> list[ProgrammeEvent]:
    return steps.run_due(s, f, lambda state: pending(state, announce_start), apply)


def due_events_in_place(
    s: ProgrammeState, f: EventFactory, announce_start: bool = True
) -> list[ProgrammeEvent]:
    """``due_events``, applied to ``s`` itself as they are decided (no copy per step), for a
    caller that owns ``s`` (the domain engine of ``mentorflow simulate``)."""
    return steps.run_due(s, f, lambda state: pending(state, announce_start), apply_in_place)


def _start_announcement(s: ProgrammeState) -> list[Due]:
    """The coordinator hears "the programme starts today" on its first day, unless it was set up
    on or after that day (then the set-up message was that news)."""
    starts = s.calendar.starts_at
    if Milestone.PROGRAMME_START in s.milestones or s.started_at >= starts:
        return []
    to = (s.programme.coordinator.id,)
    return [Due(starts, REMIND, "programme_start", _milestone(Milestone.PROGRAMME_START, to))]


def next_action(s: ProgrammeState, check_groups: bool = True) -> tuple[datetime, Action] | None:
    """The next step that needs I/O, and when; the workflow performs it.

    ``check_groups``: after the end, ask about groups that never reported back, and close a
    programme never approved (runs recorded before that existed replay without it).
    """
    if s.phase == ProgrammePhase.MATCHING:
        return s.calendar.matching_at, Action.MATCH
    if s.phase == ProgrammePhase.RUNNING:
        if (
            s.approved_at is not None
            and s.approved is not None
            and len(s.launched) < len(s.approved)
        ):
            return s.approved_at, Action.LAUNCH  # as soon as approved
        if not s.open_relationships():
            return s.calendar.ends_at, Action.CLOSE
        if check_groups:
            return s.calendar.ends_at + GROUPS_REPORT_WITHIN, Action.CHECK_GROUPS
    if s.phase == ProgrammePhase.APPROVAL and check_groups:
        # Never approved: at the end there is nothing left to run, and the programme closes.
        return s.calendar.ends_at, Action.CLOSE
    return None


def _training_reminders(s: ProgrammeState) -> list[Due]:
    p = s.programme
    untrained = tuple(s.untrained_mentors())
    if not p.training.required or not untrained:
        return []
    deadline = s.calendar.training_deadline
    reminders = []
    for offset in p.reminders:
        at = durations.subtract(deadline, offset, zone=s.calendar.zone)
        if f"training/{offset}" in s.reminders_issued or at < s.started_at:
            continue  # a reminder that fell due before the programme existed is not sent late
        reminders.append(
            Due(
                at,
                REMIND,
                f"training/{offset}",
                _remind("training", deadline, offset, at, untrained),
            )
        )
    return reminders


def _remind(
    subject: str, deadline: datetime, offset: str, at: datetime, to: tuple[PersonId, ...]
) -> Build:
    return lambda f: [
        f.make(
            ProgrammeReminderIssued,
            subject=subject,
            deadline=deadline,
            offset=offset,
            scheduled_for=at,
            recipients=to,
        )
    ]


def _training_deadline(s: ProgrammeState) -> Due:
    p = s.programme
    excluded = tuple(s.untrained_mentors(by=p.training.deadline)) if p.training.required else ()

    def build(f: EventFactory) -> list[ProgrammeEvent]:
        told = (p.coordinator.id,) if excluded else ()
        return [
            f.make(UntrainedMentorsExcluded, persons=excluded, recipients=told),
            f.make(PhaseEntered, phase=ProgrammePhase.MATCHING),
        ]

    return Due(s.calendar.training_deadline, PHASE, "training_deadline", build)


def _approval_steps(s: ProgrammeState) -> list[Due]:
    due = s.approval_due
    if due is None:
        return []
    coordinator = (s.programme.coordinator.id,)
    found: list[Due] = []
    if "approval/PT0S" not in s.reminders_issued:
        found.append(
            Due(due, REMIND, "approval/PT0S", _remind("approval", due, "PT0S", due, coordinator))
        )
    if not s.approval_escalated:
        at = durations.add(due, s.programme.escalation.overdue_after, zone=s.calendar.zone)
        overdue = s.programme.escalation.overdue_after
        reason = f"the matching proposal is not approved {overdue} after it was due"
        found.append(
            Due(
                at,
                ESCALATE,
                "approval/escalation",
                lambda f: [
                    f.make(
                        ApprovalEscalated, reason=reason, scheduled_for=at, recipients=coordinator
                    )
                ],
            )
        )
    return found


def _milestones(s: ProgrammeState) -> list[Due]:
    cal = s.calendar
    found: list[Due] = []
    everyone = s.everyone()
    if Milestone.MIDPOINT_SURVEY not in s.milestones:
        found.append(
            Due(
                cal.midpoint_survey_at,
                REMIND,
                "midpoint_survey",
                # Members hear of the midpoint in their group's feedback request, in one e-mail.
                _milestone(Milestone.MIDPOINT_SURVEY, (s.programme.coordinator.id,)),
            )
        )
    if cal.closing_event_at is not None and Milestone.CLOSING_INVITATION not in s.milestones:
        at = cal.closing_event_at - CLOSING_INVITATION_AHEAD
        found.append(
            Due(
                at, REMIND, "closing_invitation", _milestone(Milestone.CLOSING_INVITATION, everyone)
            )
        )
    return found


def _milestone(milestone: Milestone, to: tuple[PersonId, ...]) -> Build:
    return lambda f: [f.make(MilestoneReached, milestone=milestone, recipients=to)]
