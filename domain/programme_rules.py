"""What a programme does on its own and what people may ask of it.

Time-driven steps (:func:`pending`) produce events; the three steps that need I/O (computing the
matching, starting the groups' workflows, closing with a report) are :func:`next_action` for the
workflow to carry out. Commands from the coordinator go through :func:`decide`.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, assert_never
from uuid import UUID

from pydantic import Field, StringConstraints

from domain import commands, durations, steps
from domain.calendar import CLOSING_INVITATION_AHEAD, ProgrammeCalendar
from domain.commands import RelationshipSpec
from domain.errors import RuleViolation
from domain.factory import EventFactory
from domain.matching import GroupAssignment, MatchingResult, MatchingRules, ProposedGroup, assign
from domain.model import Frozen, Member, PersonId, Role
from domain.programme import Profile, Programme
from domain.programme_events import (
    ApprovalEscalated,
    GroupFinding,
    GroupsChecked,
    GroupStatus,
    MatchingApproved,
    MatchingProposed,
    MentorTrained,
    Milestone,
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
from domain.programme_state import ProgrammeState, apply_programme
from domain.text import Actor, Storable

Due = steps.Due[ProgrammeEvent]
Build = Callable[[EventFactory], list[ProgrammeEvent]]
PHASE, REMIND, ESCALATE = steps.Order.PHASE, steps.Order.REMIND, steps.Order.ESCALATE
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), Storable
]


class Action(StrEnum):
    MATCH = "match"
    LAUNCH = "launch"
    CHECK_GROUPS = "check_groups"
    CLOSE = "close"


GROUPS_REPORT_WITHIN = timedelta(days=1)
"""Groups close at the programme's end and report at once; after this, the programme asks
Temporal about those that have not (failed, terminated, or still running)."""


def start_programme(
    programme: Programme, cal: ProgrammeCalendar, people: tuple[Profile, ...], f: EventFactory
) -> ProgrammeStarted:
    return f.make(
        ProgrammeStarted,
        programme=programme,
        calendar=cal,
        participants=people,
        recipients=(programme.coordinator.id,),
    )


def relationship_id(programme_id: str, number: int) -> str:
    return f"{programme_id}:{number}"


def matching_rules(s: ProgrammeState) -> MatchingRules:
    p = s.programme
    deadline = p.training.deadline if p.training.required else None
    return MatchingRules(
        shape=p.group_shape,
        avoid=p.matching.avoid,
        training_required=p.training.required,
        training_deadline=deadline,
    )


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
    return steps.run_due(s, f, lambda state: pending(state, announce_start), apply_programme)


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


def proposal_events(
    s: ProgrammeState, result: MatchingResult, f: EventFactory
) -> list[ProgrammeEvent]:
    """The matching's result recorded; approved at once when the programme approves itself
    (and its groups can still run: if not, the coordinator gets the proposal, whose approval
    then says why it cannot be)."""
    coordinator = (s.programme.coordinator.id,)
    fits = group_calendar_problem(s.programme, s.calendar, max(f.now, s.calendar.starts_at))
    if s.programme.matching.approval == "automatic" and fits is None:
        return [
            f.make(MatchingProposed, result=result, approval_due=None, recipients=coordinator),
            f.make(
                MatchingApproved, groups=result.groups, edited=False, reason="automatic approval"
            ),
            f.make(PhaseEntered, phase=ProgrammePhase.RUNNING),
        ]
    due = durations.add(f.now, s.programme.matching.approval_window)
    return [
        f.make(MatchingProposed, result=result, approval_due=due, recipients=coordinator),
        f.make(PhaseEntered, phase=ProgrammePhase.APPROVAL),
    ]


def relationship_spec(
    s: ProgrammeState, group: ProposedGroup, now: datetime, report_to: str
) -> RelationshipSpec:
    members = (
        *(Member(person_id=m, role=Role.MENTOR) for m in group.mentors),
        *(Member(person_id=m, role=Role.MENTEE) for m in group.mentees),
    )
    return RelationshipSpec(
        relationship_id=relationship_id(s.programme.id, group.number),
        programme_id=s.programme.id,
        coordinator_id=s.programme.coordinator.id,
        members=members,
        policy=s.programme.relationship_policy(),
        # Whole seconds: a launch lands a few milliseconds after its decision, and the group's
        # whole calendar follows from its start.
        starts_at=max(_whole_second(now), s.calendar.starts_at),
        ends_at=s.calendar.ends_at,
        zone=s.calendar.zone,
        report_to=report_to,
    )


def group_calendar_problem(
    programme: Programme, cal: ProgrammeCalendar, starts_at: datetime
) -> str | None:
    """Why a group of ``programme`` starting at ``starts_at`` could not run, or ``None``.

    The same check a group's own start makes (``commands.start``): agreement, midpoint and final
    feedback must fit, in order, between its start and the programme's end. Asked by ``programme
    check`` and ``start`` (for the earliest launch), by approval (for a launch now) and before
    each launch, so that no group is launched to fail at its start.
    """
    shape = programme.group_shape
    members = (
        *(Member(person_id=f"mentor-{n}", role=Role.MENTOR) for n in range(shape.mentors)),
        *(Member(person_id=f"mentee-{n}", role=Role.MENTEE) for n in range(shape.mentees.min)),
    )
    trial = RelationshipSpec(
        relationship_id=relationship_id(programme.id, 0),
        programme_id=programme.id,
        coordinator_id=programme.coordinator.id,
        members=members,
        policy=programme.relationship_policy(),
        starts_at=min(starts_at, cal.ends_at - timedelta(seconds=1)),
        ends_at=cal.ends_at,
        zone=cal.zone,
    )
    try:
        commands.start(trial, EventFactory(starts_at, lambda: _NIL_ID))
    except RuleViolation as e:
        return f"groups starting on {starts_at.date()} cannot run: {e}"
    return None


def _whole_second(at: datetime) -> datetime:
    return at.replace(microsecond=0) + timedelta(seconds=1 if at.microsecond else 0)


def earliest_launch(cal: ProgrammeCalendar) -> datetime:
    """Groups start when the matching is approved, and not before the programme's start."""
    return max(cal.starts_at, cal.matching_at)


_NIL_ID = UUID(int=0)


def relationship_launched(
    spec: RelationshipSpec, group: ProposedGroup, f: EventFactory
) -> RelationshipLaunched:
    """The record that a group's relationship was started with ``spec``."""
    return f.make(
        RelationshipLaunched,
        relationship_id=spec.relationship_id,
        number=group.number,
        mentors=group.mentors,
        mentees=group.mentees,
    )


def programme_closed(
    s: ProgrammeState, report: ProgrammeReport, f: EventFactory
) -> ProgrammeClosed:
    """The programme's end with its report (counted from the groups' streams), completed with
    how the groups that did not close normally ended; the coordinator is told."""
    if s.ended_abnormally():
        report = report.model_copy(update={"ended_abnormally": s.ended_abnormally()})
    return f.make(ProgrammeClosed, report=report, recipients=(s.programme.coordinator.id,))


def relationship_ended(
    s: ProgrammeState, rid: str, outcome: str, reason: str, f: EventFactory
) -> list[ProgrammeEvent]:
    launched = s.launched.get(rid)
    if s.closed or launched is None or launched.outcome is not None or launched.abnormal:
        return []  # not ours, or told twice: signals cannot be refused, so they are ignored
    return [f.make(RelationshipEnded, relationship_id=rid, outcome=outcome, reason=reason)]


def groups_checked(
    s: ProgrammeState, findings: list[GroupFinding], f: EventFactory
) -> list[ProgrammeEvent]:
    """What the check after the end found of the groups still open; the coordinator is told
    when any of them did not end normally."""
    still_open = set(s.open_relationships())
    found = tuple(g for g in findings if g.relationship_id in still_open)
    if not found:
        return []
    abnormal = any(g.status != GroupStatus.COMPLETED for g in found)
    to = (s.programme.coordinator.id,) if abnormal else ()
    return [f.make(GroupsChecked, findings=found, recipients=to)]


# --- commands from people -----------------------------------------------------------------


class Enrol(Frozen):
    by: Actor
    profile: Profile
    reason: Reason | None = None


class UpdateProfile(Frozen):
    """Replace a participant's profile (unit, manager, competences, capacity...)."""

    by: PersonId
    profile: Profile
    reason: Reason


class Remove(Frozen):
    by: Actor
    person_id: PersonId
    reason: Reason


class MarkTrained(Frozen):
    by: Actor
    person_id: PersonId
    trained_on: date


class ApproveMatching(Frozen):
    by: Actor
    groups: tuple[GroupAssignment, ...] | None = Field(
        None, description="An edited assignment; none approves the proposal as it is"
    )
    reason: Reason | None = None


ProgrammeCommand = Enrol | Remove | UpdateProfile | MarkTrained | ApproveMatching


def decide(s: ProgrammeState, command: ProgrammeCommand, f: EventFactory) -> list[ProgrammeEvent]:
    if s.closed:
        raise RuleViolation("programme_closed", f"programme {s.programme.id} is closed")
    if command.by != s.programme.coordinator.id:
        raise RuleViolation("not_allowed", f"only the coordinator can do this, not {command.by}")
    match command:
        case Enrol():
            _before_matching(s, "enrol participants")
            if (
                command.profile.id in s.participants
                or command.profile.id == s.programme.coordinator.id
            ):
                raise RuleViolation(
                    "duplicate", f"{command.profile.id} is already in the programme"
                )
            return [f.make(ParticipantEnrolled, profile=command.profile, reason=command.reason)]
        case UpdateProfile():
            _before_matching(s, "change participants")
            if _require_participant(s, command.profile.id) == command.profile:
                raise RuleViolation("unchanged", f"{command.profile.id} has these details already")
            trained = command.profile.trained_on
            if trained is not None and trained > (f.now + timedelta(hours=14)).date():
                raise RuleViolation("future_date", f"training date {trained} is in the future")
            return [f.make(ParticipantUpdated, profile=command.profile, reason=command.reason)]
        case Remove():
            _before_matching(s, "remove participants")
            _require_participant(s, command.person_id)
            return [f.make(ParticipantRemoved, person_id=command.person_id, reason=command.reason)]
        case MarkTrained():
            return _mark_trained(s, command, f)
        case ApproveMatching():
            return _approve(s, command, f)
        case _:
            assert_never(command)


def _before_matching(s: ProgrammeState, what: str) -> None:
    if s.phase not in (ProgrammePhase.ENROLMENT, ProgrammePhase.MATCHING):
        raise RuleViolation("matching_done", f"cannot {what} after the matching")


def _require_participant(s: ProgrammeState, pid: PersonId) -> Profile:
    if pid not in s.participants:
        raise RuleViolation("not_a_participant", f"{pid} is not a participant of {s.programme.id}")
    return s.participants[pid]


def _mark_trained(s: ProgrammeState, c: MarkTrained, f: EventFactory) -> list[ProgrammeEvent]:
    if s.phase != ProgrammePhase.ENROLMENT:
        raise RuleViolation("training_closed", "the training deadline has passed")
    if _require_participant(s, c.person_id).role != Role.MENTOR:
        raise RuleViolation("not_a_mentor", f"{c.person_id} is not a mentor")
    if c.trained_on > (f.now + timedelta(hours=14)).date():
        raise RuleViolation("future_date", f"training date {c.trained_on} is in the future")
    return [f.make(MentorTrained, person_id=c.person_id, trained_on=c.trained_on)]


def _approve(s: ProgrammeState, c: ApproveMatching, f: EventFactory) -> list[ProgrammeEvent]:
    if s.phase != ProgrammePhase.APPROVAL or s.proposal is None:
        raise RuleViolation(
            "nothing_to_approve", "there is no matching proposal waiting for approval"
        )
    problem = group_calendar_problem(s.programme, s.calendar, max(f.now, s.calendar.starts_at))
    if problem is not None:
        raise RuleViolation("invalid_calendar", problem)
    if c.groups is None:
        groups = s.proposal.groups
    else:
        try:
            groups = tuple(assign(c.groups, list(s.participants.values()), matching_rules(s)))
        except ValueError as e:
            raise RuleViolation("invalid_assignment", str(e)) from e
    return [
        f.make(MatchingApproved, groups=groups, edited=c.groups is not None, reason=c.reason),
        f.make(PhaseEntered, phase=ProgrammePhase.RUNNING),
    ]
