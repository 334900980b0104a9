"""What people may ask of a programme (:func:`decide`), its start, and the events of the steps
the workflow carries out with I/O (the proposal, each launch, the end of a group, the check of
the groups after the end, the closure with its report).
"""

from datetime import date, datetime, timedelta
from typing import assert_never
from uuid import UUID

from pydantic import Field

from domain import durations
from domain.calendar import ProgrammeCalendar
from domain.errors import RuleViolation
from domain.factory import EventFactory
from domain.matching import GroupAssignment, MatchingResult, MatchingRules, ProposedGroup, assign
from domain.model import Authority, Frozen, Member, PersonId, Role, steers
from domain.programme.events import (
    GroupFinding,
    GroupsChecked,
    GroupStatus,
    MatchingApproved,
    MatchingProposed,
    MentorTrained,
    ParticipantEnrolled,
    ParticipantRemoved,
    ParticipantUpdated,
    PhaseEntered,
    ProgrammeClosed,
    ProgrammeEvent,
    ProgrammePhase,
    ProgrammeReport,
    ProgrammeStarted,
    RelationshipEnded,
    RelationshipLaunched,
)
from domain.programme.model import Profile, Programme
from domain.programme.state import ProgrammeState
from domain.relationship import commands
from domain.relationship.commands import RelationshipSpec
from domain.text import Actor, Text

Reason = Text
"""Why the coordinator did it. Free text like any person's (it may say "long sick leave"): entry
points that take it as typed seal it with the coordinator's data key (the CLI's
``approve-matching --reason``, the simulation); the web pages offer a choice of codes instead."""


def start(
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
    authority: Authority = Authority.PERSON
    profile: Profile
    reason: Reason | None = None


class UpdateProfile(Frozen):
    """Replace a participant's profile (unit, manager, competences, capacity...)."""

    by: PersonId
    profile: Profile
    authority: Authority = Authority.PERSON
    reason: Reason


class Remove(Frozen):
    by: Actor
    authority: Authority = Authority.PERSON
    person_id: PersonId
    reason: Reason


class MarkTrained(Frozen):
    by: Actor
    authority: Authority = Authority.PERSON
    person_id: PersonId
    trained_on: date


class ApproveMatching(Frozen):
    by: Actor
    authority: Authority = Authority.PERSON
    groups: tuple[GroupAssignment, ...] | None = Field(
        None, description="An edited assignment; none approves the proposal as it is"
    )
    reason: Reason | None = None


ProgrammeCommand = Enrol | Remove | UpdateProfile | MarkTrained | ApproveMatching


def decide(s: ProgrammeState, command: ProgrammeCommand, f: EventFactory) -> list[ProgrammeEvent]:
    if s.closed:
        raise RuleViolation("programme_closed", f"programme {s.programme.id} is closed")
    if not steers(command.by, command.authority, s.programme.coordinator.id):
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
