"""What people ask a relationship to do, and the rules that accept or refuse it.

Each command is the input of one workflow Update. :func:`decide` either returns the events to
record or raises :class:`RuleViolation` with a stable code and a sentence for the person; the
workflow's Update validator runs the same function, so a refused command writes nothing.
"""

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, assert_never

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from domain import durations
from domain.envelope import Outcome
from domain.errors import RuleViolation
from domain.factory import EventFactory
from domain.feedback import check as check_answers
from domain.localtime import ZoneOffsets, local_date
from domain.model import Authority, Frozen, Member, PersonId, Role, steers
from domain.policy import RelationshipPolicy
from domain.relationship.events import (
    RULES,
    AgendaItemAdded,
    AgreementRecorded,
    DeadlineExtended,
    EscalationKind,
    EscalationResolved,
    FeedbackRound,
    FeedbackSubmitted,
    MeetingCancelled,
    MeetingPlanned,
    MeetingRecorded,
    MemberAdded,
    MemberWithdrew,
    Paused,
    RelationshipClosed,
    RelationshipEvent,
    RelationshipStarted,
    Resolution,
    Resumed,
)
from domain.relationship.fold import initial_state
from domain.relationship.schedule import at_risk_events
from domain.relationship.state import MeetingSlot, MeetingStatus, RelationshipState
from domain.text import MAX_ITEMS, Actor, Code, Key, Text

# The workflow keeps UTC and cannot see the programme's zone; a date is "in the future" only when
# it is after today everywhere on Earth (UTC+14), so nobody's "today" is ever refused.
_EARLIEST_ZONE_AHEAD = timedelta(hours=14)


RELATIONSHIP_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$"


class RelationshipSpec(Frozen):
    """Everything needed to start a relationship (the programme or a person fills it in)."""

    relationship_id: Annotated[str, StringConstraints(pattern=RELATIONSHIP_ID)]
    """A programme's id, ``:`` and the group's number (``pilot-2020:3``): letters, digits and
    ``._:-`` only, so that it is one whole segment of a page's URL (a ``/`` would split it)."""
    programme_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    coordinator_id: PersonId
    members: tuple[Member, ...] = Field(min_length=2)
    policy: RelationshipPolicy = RelationshipPolicy()
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    zone: ZoneOffsets | None = None
    """The programme's zone offsets (``domain.calendar.zone_offsets``): local dates and calendar
    months are reckoned in it."""
    report_to: str | None = None
    """Workflow id (the programme's) told by signal when the relationship closes."""

    @model_validator(mode="after")
    def _check(self) -> "RelationshipSpec":
        ids = [m.person_id for m in self.members]
        if len(set(ids)) != len(ids):
            raise ValueError("a person can be in a group only once")
        if self.coordinator_id in ids:
            raise ValueError("the coordinator cannot be a member of the group")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class RecordAgreement(Frozen):
    by: Actor
    goals: tuple[Text, ...] = Field(min_length=1, max_length=MAX_ITEMS)
    agreement: Text


class RecordMeeting(Frozen):
    by: Actor
    held_on: date
    held: bool = True
    attendees: tuple[Actor, ...] = Field(default=(), max_length=MAX_ITEMS)
    reason: Text | None = None


class SubmitFeedback(Frozen):
    by: Actor
    round: FeedbackRound
    answers: dict[Key, Text] = Field({}, max_length=MAX_ITEMS)
    """Text answers by question id."""
    choices: dict[Key, Code] = Field({}, max_length=MAX_ITEMS)
    """Scale (``"1"``..``"5"``) and choice (option id) answers by question id."""

    @model_validator(mode="after")
    def _something(self) -> "SubmitFeedback":
        if not self.answers and not self.choices:
            raise ValueError("a feedback needs at least one answer")
        return self


class Withdraw(Frozen):
    person_id: Actor
    by: Actor
    reason: Text


class Pause(Frozen):
    by: Actor
    reason: Text


class Resume(Frozen):
    by: Actor


MIN_MINUTES, MAX_MINUTES = 15, 8 * 60
"""How long a planned meeting may be."""


class ScheduleMeeting(Frozen):
    """A mentor sets (or moves) the time and place of a meeting: the next open one by default."""

    by: Actor
    starts_at: AwareDatetime
    minutes: int | None = Field(default=None, ge=MIN_MINUTES, le=MAX_MINUTES)
    """None: the policy's ``meeting_length``."""
    place: Text
    """Where, or the video link."""
    number: int | None = Field(default=None, ge=1)


class CancelMeeting(Frozen):
    """A mentor cancels a planned meeting's time (the meeting is still due: plan it again)."""

    by: Actor
    number: int | None = Field(default=None, ge=1)


class AddAgendaItem(Frozen):
    """A member's question or topic for the next open meeting."""

    by: Actor
    text: Text


class ResolveEscalation(Frozen):
    """The group's coordinator acknowledges an open escalation with a note: it is closed."""

    by: Actor
    authority: Authority = Authority.PERSON
    """A staff admin's (``domain.model.Authority``): they act as the coordinator would."""
    escalation: int = Field(ge=1)
    """Which: its number among the relationship's escalations (``open_escalations``)."""
    note: Text


class AddMember(Frozen):
    """The group's coordinator adds a person enrolled in the programme to the group, or has them
    take the place of an active member, who leaves (``replaces``).

    The caller checks that the person is enrolled (the domain knows the group, not the
    programme); the domain checks the group's rules.
    """

    by: Actor
    authority: Authority = Authority.PERSON
    """A staff admin's (``domain.model.Authority``): they act as the coordinator would."""
    member: Member
    replaces: Actor | None = None
    reason: Text
    escalation: int | None = Field(default=None, ge=1)
    """An open escalation the change resolves (``MEMBER_ADDED`` / ``MEMBER_REPLACED``)."""


DEADLINES = ("agreement", "feedback:midpoint", "feedback:final")
"""The deadlines a coordinator may extend, by their subject in reminders and escalations."""


class ExtendDeadline(Frozen):
    """The group's coordinator moves a deadline later, to the same local time on ``until``."""

    by: Actor
    authority: Authority = Authority.PERSON
    """A staff admin's (``domain.model.Authority``): they act as the coordinator would."""
    deadline: Annotated[str, StringConstraints(pattern=r"^(agreement|feedback:(midpoint|final))$")]
    until: date
    """The new due date, a local date in the programme's zone."""
    reason: Text
    escalation: int | None = Field(default=None, ge=1)
    """An open escalation the extension resolves (``DEADLINE_EXTENDED``)."""


DISSOLVED_BY_COORDINATOR = "dissolved by the coordinator"
"""The recorded reason of a dissolution (the coordinator's own words are its ``note``): what the
programme and its report read."""


class Dissolve(Frozen):
    """The group's coordinator dissolves the group: it closes now, outcome ``dissolved``."""

    by: Actor
    authority: Authority = Authority.PERSON
    """A staff admin's (``domain.model.Authority``): they act as the coordinator would."""
    reason: Text
    escalation: int | None = Field(default=None, ge=1)
    """An open escalation the dissolution resolves (``DISSOLVED``)."""


Command = (
    RecordAgreement
    | RecordMeeting
    | SubmitFeedback
    | Withdraw
    | Pause
    | Resume
    | ScheduleMeeting
    | CancelMeeting
    | AddAgendaItem
    | ResolveEscalation
    | AddMember
    | ExtendDeadline
    | Dissolve
)


def start(spec: RelationshipSpec, f: EventFactory, rules: int = RULES) -> RelationshipStarted:
    """The first event of a relationship, once its calendar is shown to be coherent.

    ``rules``: the workflow passes the rules its run was recorded with (``RULES`` for new runs).
    """
    policy = spec.policy
    for role, minimum in ((Role.MENTOR, policy.min_mentors), (Role.MENTEE, policy.min_mentees)):
        if sum(m.role == role for m in spec.members) < minimum:
            raise RuleViolation("invalid_group", f"a group needs at least {minimum} {role}(s)")
    started = f.make(
        RelationshipStarted,
        recipients=(*(m.person_id for m in spec.members), spec.coordinator_id),
        rules=rules,
        **spec.model_dump(exclude={"report_to"}),
    )
    _check_calendar(started)
    return started


def _check_calendar(started: RelationshipStarted) -> None:
    s = initial_state(started)
    midpoint, final = s.feedback[FeedbackRound.MIDPOINT], s.feedback[FeedbackRound.FINAL]
    order = [
        ("start", s.starts_at),
        ("agreement due", s.agreement.due_at),
        ("midpoint feedback opens", midpoint.opens_at),
        (
            "midpoint feedback escalation",
            durations.add(midpoint.due_at, s.policy.overdue_after, zone=s.zone),
        ),
        ("final feedback opens", final.opens_at),
    ]
    for (a, at_a), (b, at_b) in itertools.pairwise(order):
        if at_a >= at_b:
            raise RuleViolation(
                "invalid_calendar",
                f"{a} ({at_a.isoformat()}) must come before {b} ({at_b.isoformat()}):"
                " the relationship is too short for its policy",
            )


def decide(s: RelationshipState, command: Command, f: EventFactory) -> list[RelationshipEvent]:
    """The events ``command`` records, or :class:`RuleViolation` saying why it is refused."""
    if s.closed:
        assert s.closure is not None
        raise RuleViolation(
            "relationship_closed",
            f"relationship {s.relationship_id} is closed ({s.closure.outcome}: {s.closure.reason})",
        )
    if s.paused_since is not None and not isinstance(
        command, Resume | Withdraw | ResolveEscalation | AddMember | Dissolve
    ):
        raise RuleViolation(
            "paused", f"relationship {s.relationship_id} is paused; resume it first"
        )
    match command:
        case RecordAgreement():
            return _record_agreement(s, command, f)
        case RecordMeeting():
            return _record_meeting(s, command, f)
        case SubmitFeedback():
            return _submit_feedback(s, command, f)
        case Withdraw():
            return _withdraw(s, command, f)
        case Pause():
            return _pause(s, command, f)
        case Resume():
            return _resume(s, command, f)
        case ScheduleMeeting():
            return _schedule_meeting(s, command, f)
        case CancelMeeting():
            return _cancel_meeting(s, command, f)
        case AddAgendaItem():
            return _add_agenda_item(s, command, f)
        case ResolveEscalation():
            return _resolve_escalation(s, command, f)
        case AddMember():
            return _add_member(s, command, f)
        case ExtendDeadline():
            return _extend_deadline(s, command, f)
        case Dissolve():
            return _dissolve(s, command, f)
        case _:
            assert_never(command)


def _require_member(s: RelationshipState, person: PersonId) -> None:
    if person not in s.active_members():
        raise RuleViolation(
            "not_a_member", f"{person} is not an active member of relationship {s.relationship_id}"
        )


def _require_member_or_coordinator(s: RelationshipState, person: PersonId) -> None:
    if person != s.coordinator_id:
        _require_member(s, person)


def _record_agreement(
    s: RelationshipState, c: RecordAgreement, f: EventFactory
) -> list[RelationshipEvent]:
    _require_member(s, c.by)
    if s.agreement.recorded_at is not None:
        raise RuleViolation(
            "duplicate",
            f"the group agreement was already recorded on {s.agreement.recorded_at.isoformat()}",
        )
    late = f.now > s.agreement.due_at
    return [f.make(AgreementRecorded, goals=c.goals, agreement=c.agreement, late=late)]


def _record_meeting(
    s: RelationshipState, c: RecordMeeting, f: EventFactory
) -> list[RelationshipEvent]:
    _require_member_or_coordinator(s, c.by)
    _check_meeting_date(s, c.held_on, f.now)
    for person in c.attendees:
        _require_member(s, person)
    if len(set(c.attendees)) != len(c.attendees):
        raise RuleViolation("invalid_attendance", "an attendee is listed twice")
    if c.held and not c.attendees:
        raise RuleViolation("invalid_attendance", "a meeting that was held needs its attendees")
    if not c.held and (c.attendees or not c.reason):
        raise RuleViolation(
            "invalid_attendance",
            "a meeting that did not take place needs a reason and no attendees",
        )
    for slot in s.meetings:
        if slot.held_on == c.held_on and slot.status in (
            MeetingStatus.HELD,
            MeetingStatus.NOT_HELD,
        ):
            raise RuleViolation(
                "duplicate", f"meeting {slot.number} on {c.held_on} is already recorded"
            )
    slot_number = _slot_for(s, c.held_on)
    recorded = f.make(
        MeetingRecorded,
        number=slot_number,
        held=c.held,
        held_on=c.held_on,
        attendees=c.attendees,
        reason=c.reason,
    )
    if c.held:
        return [recorded]
    return [recorded, *at_risk_events(s, slot_number, f, f.now)]


def _check_meeting_date(s: RelationshipState, held_on: date, now: datetime) -> None:
    if held_on > (now + _EARLIEST_ZONE_AHEAD).date():
        raise RuleViolation("future_date", f"meeting date {held_on} is in the future")
    started_on = local_date(s.starts_at, s.zone)
    if held_on < started_on:
        raise RuleViolation(
            "before_start",
            f"meeting date {held_on} is before the relationship started ({started_on})",
        )


def _slot_for(s: RelationshipState, held_on: date) -> int:
    """The open meeting a record belongs to: the earliest one due on or after its date."""
    open_slots = s.open_meetings()
    if not open_slots:
        raise RuleViolation("no_open_meeting", "no meeting is open for recording")
    for slot in open_slots:
        # Both local dates: the day the invitation names is the meeting's own day.
        if held_on <= local_date(slot.due_at, s.zone):
            return slot.number
    return open_slots[-1].number


def _submit_feedback(
    s: RelationshipState, c: SubmitFeedback, f: EventFactory
) -> list[RelationshipEvent]:
    _require_member(s, c.by)
    feedback_round = s.feedback[c.round]
    if feedback_round.requested_at is None:
        raise RuleViolation(
            "round_not_open",
            f"{c.round} feedback opens on {feedback_round.opens_at.isoformat()}",
        )
    if feedback_round.closed:
        raise RuleViolation("round_closed", f"{c.round} feedback is closed")
    if c.by in feedback_round.answers:
        raise RuleViolation("duplicate", f"{c.by} has already answered the {c.round} feedback")
    questions = s.policy.feedback_questions
    if questions is not None:
        check_answers(questions.of(c.round), c.answers, c.choices)
    late = f.now > feedback_round.due_at
    return [
        f.make(FeedbackSubmitted, round=c.round, answers=c.answers, choices=c.choices, late=late)
    ]


def _withdraw(s: RelationshipState, c: Withdraw, f: EventFactory) -> list[RelationshipEvent]:
    _require_member(s, c.person_id)
    if c.by not in (c.person_id, s.coordinator_id):
        raise RuleViolation(
            "not_allowed", "only the person themselves or the coordinator can withdraw a member"
        )
    remaining = [p for p in s.active_members() if p != c.person_id]
    withdrew = f.make(
        MemberWithdrew,
        person_id=c.person_id,
        reason=c.reason,
        # The person leaving is told too: their invitations to coming meetings are cancelled.
        recipients=(*remaining, c.person_id, s.coordinator_id),
    )
    role = s.members[c.person_id].role
    minimum = s.policy.min_mentors if role == Role.MENTOR else s.policy.min_mentees
    left = sum(1 for p in remaining if s.members[p].role == role)
    if left >= minimum:
        return [withdrew]
    reason = f"{left} {role}(s) left, below the minimum of {minimum}, after {c.person_id} withdrew"
    closed = f.make(
        RelationshipClosed,
        outcome=Outcome.DISSOLVED,
        reason=reason,
        recipients=(*remaining, s.coordinator_id),
    )
    return [withdrew, closed]


def _pause(s: RelationshipState, c: Pause, f: EventFactory) -> list[RelationshipEvent]:
    _require_member_or_coordinator(s, c.by)
    return [f.make(Paused, reason=c.reason)]


def _resume(s: RelationshipState, c: Resume, f: EventFactory) -> list[RelationshipEvent]:
    _require_member_or_coordinator(s, c.by)
    if s.paused_since is None:
        raise RuleViolation("not_paused", f"relationship {s.relationship_id} is not paused")
    return [f.make(Resumed, paused_since=s.paused_since, recipients=tuple(s.active_members()))]


def default_minutes(s: RelationshipState) -> int:
    """The policy's meeting length, in whole minutes (at least one)."""
    length = durations.add(s.starts_at, s.policy.meeting_length) - s.starts_at
    return max(1, int(length.total_seconds()) // 60)


def _require_mentor(s: RelationshipState, person: PersonId) -> None:
    if person not in s.active_members(Role.MENTOR):
        raise RuleViolation(
            "not_a_mentor", f"{person} is not an active mentor of relationship {s.relationship_id}"
        )


def _open_slot(s: RelationshipState, number: int | None) -> MeetingSlot:
    """Meeting ``number`` if it is open, else the earliest open one."""
    open_slots = s.open_meetings()
    if not open_slots:
        raise RuleViolation("no_open_meeting", "no meeting is open for planning")
    if number is None:
        return open_slots[0]
    for slot in open_slots:
        if slot.number == number:
            return slot
    raise RuleViolation("no_open_meeting", f"meeting {number} is not open")


def _schedule_meeting(
    s: RelationshipState, c: ScheduleMeeting, f: EventFactory
) -> list[RelationshipEvent]:
    _require_mentor(s, c.by)
    slot = _open_slot(s, c.number)
    minutes = c.minutes if c.minutes is not None else default_minutes(s)
    ends_at = c.starts_at + timedelta(minutes=minutes)
    if c.starts_at <= f.now:
        raise RuleViolation("in_the_past", f"the meeting time {c.starts_at.isoformat()} has passed")
    if c.starts_at < s.starts_at or ends_at > s.ends_at:
        raise RuleViolation(
            "outside_programme",
            f"the meeting must be between {s.starts_at.isoformat()} and {s.ends_at.isoformat()}",
        )
    if (slot.starts_at, slot.minutes, slot.place) == (c.starts_at, minutes, c.place):
        raise RuleViolation("duplicate", f"meeting {slot.number} is already planned so")
    planned = f.make(
        MeetingPlanned,
        number=slot.number,
        starts_at=c.starts_at,
        minutes=minutes,
        place=c.place,
        recipients=tuple(s.active_members()),
    )
    return [planned]


def _cancel_meeting(
    s: RelationshipState, c: CancelMeeting, f: EventFactory
) -> list[RelationshipEvent]:
    _require_mentor(s, c.by)
    slot = _open_slot(s, c.number)
    if slot.starts_at is None:
        raise RuleViolation("not_planned", f"meeting {slot.number} has no planned time")
    return [f.make(MeetingCancelled, number=slot.number, recipients=tuple(s.active_members()))]


def _add_agenda_item(
    s: RelationshipState, c: AddAgendaItem, f: EventFactory
) -> list[RelationshipEvent]:
    _require_member(s, c.by)
    slot = _open_slot(s, None)
    if sum(item.number == slot.number for item in s.agenda) >= MAX_ITEMS:
        raise RuleViolation(
            "agenda_full", f"meeting {slot.number} already has {MAX_ITEMS} agenda items"
        )
    return [f.make(AgendaItemAdded, number=slot.number, text=c.text)]


def _resolve_escalation(
    s: RelationshipState, c: ResolveEscalation, f: EventFactory
) -> list[RelationshipEvent]:
    require_coordinator(s, c.by, c.authority)
    return [_resolution(s, c.escalation, Resolution.ACKNOWLEDGED, c.note, f)]


def require_coordinator(
    s: RelationshipState, person: PersonId, authority: Authority = Authority.PERSON
) -> None:
    """Refuse unless ``person`` is the group's coordinator or a staff admin (``authority``), the
    only ones who may change the group or resolve its escalations (the web checks it before
    sealing a note too, so that a refused person gets no data key)."""
    if not steers(person, authority, s.coordinator_id):
        raise RuleViolation(
            "not_allowed",
            "only the group's coordinator can change the group or resolve its escalations",
        )


def _resolution(
    s: RelationshipState, number: int, how: Resolution, note: str, f: EventFactory
) -> EscalationResolved:
    """The event resolving open escalation ``number``, or why it cannot be resolved."""
    if number > len(s.escalations):
        raise RuleViolation(
            "no_such_escalation",
            f"relationship {s.relationship_id} has no escalation {number}",
        )
    escalation = s.escalations[number - 1]
    if escalation.resolved_at is not None:
        raise RuleViolation(
            "escalation_resolved",
            f"escalation {number} was already resolved on {escalation.resolved_at.isoformat()}",
        )
    return f.make(
        EscalationResolved,
        number=number,
        kind=escalation.kind,
        subject=escalation.subject,
        how=how,
        note=note,
    )


def _resolving(
    s: RelationshipState, number: int | None, how: Resolution, note: str, f: EventFactory
) -> list[RelationshipEvent]:
    return [] if number is None else [_resolution(s, number, how, note, f)]


def _add_member(s: RelationshipState, c: AddMember, f: EventFactory) -> list[RelationshipEvent]:
    require_coordinator(s, c.by, c.authority)
    new = c.member.person_id
    if new in s.active_members():
        raise RuleViolation("already_a_member", f"{new} is already in the group")
    if new == s.coordinator_id:
        raise RuleViolation("invalid_group", "the coordinator cannot be a member of the group")
    events: list[RelationshipEvent] = []
    if c.replaces is not None:
        if c.replaces not in s.active_members():
            raise RuleViolation(
                "not_a_member", f"{c.replaces} is not an active member of the group"
            )
        remaining = [p for p in s.active_members() if p != c.replaces]
        events.append(
            f.make(
                MemberWithdrew,
                person_id=c.replaces,
                reason=c.reason,
                recipients=(*remaining, c.replaces, s.coordinator_id),
            )
        )
    else:
        remaining = s.active_members()
    _check_shape(s, [*remaining, new], c.member)
    how = Resolution.MEMBER_ADDED if c.replaces is None else Resolution.MEMBER_REPLACED
    resolved = _resolving(s, c.escalation, how, c.reason, f)
    added = f.make(
        MemberAdded,
        person_id=new,
        role=c.member.role,
        replaces=c.replaces,
        reason=c.reason,
        recipients=(new, *remaining, s.coordinator_id),
    )
    return [*events, added, *resolved]


def _check_shape(s: RelationshipState, members: list[PersonId], new: Member) -> None:
    """The group after the change keeps within the policy's minimum and maximum of each role."""
    roles = {p: s.members[p].role for p in members if p in s.members} | {new.person_id: new.role}
    policy = s.policy
    for role, least, most in (
        (Role.MENTOR, policy.min_mentors, policy.max_mentors),
        (Role.MENTEE, policy.min_mentees, policy.max_mentees),
    ):
        count = sum(r == role for r in roles.values())
        if count < least:
            raise RuleViolation(
                "invalid_group", f"the group would have fewer than {least} {role}(s)"
            )
        if most is not None and count > most:
            raise RuleViolation("invalid_group", f"the group would have more than {most} {role}(s)")


def _extend_deadline(
    s: RelationshipState, c: ExtendDeadline, f: EventFactory
) -> list[RelationshipEvent]:
    require_coordinator(s, c.by, c.authority)
    if c.deadline == "agreement":
        if s.agreement.recorded_at is not None:
            raise RuleViolation("duplicate", "the group agreement is already recorded")
        current = s.agreement.due_at
    else:
        feedback_round = s.feedback[FeedbackRound(c.deadline.removeprefix("feedback:"))]
        if feedback_round.requested_at is None or feedback_round.closed:
            raise RuleViolation("round_not_open", f"{c.deadline} is not open")
        current = feedback_round.due_at
    _check_resolves(s, c)
    if c.until > local_date(s.ends_at, s.zone):
        raise RuleViolation("too_late", f"the new date {c.until} is after the group's end")
    # The same local time of day as the deadline it replaces, on the new local date.
    wall = datetime.combine(c.until, _wall(s, current).time())
    due = s.zone.from_local(wall) if s.zone is not None else wall.replace(tzinfo=UTC)
    _check_new_deadline(s, c, current, due, f.now)
    extended = f.make(
        DeadlineExtended,
        subject=c.deadline,
        due_at=due,
        previous_due_at=current,
        reason=c.reason,
    )
    return [extended, *_resolving(s, c.escalation, Resolution.DEADLINE_EXTENDED, c.reason, f)]


def _wall(s: RelationshipState, instant: datetime) -> datetime:
    return s.zone.to_local(instant) if s.zone is not None else instant.astimezone(UTC)


def _check_resolves(s: RelationshipState, c: ExtendDeadline) -> None:
    """An overdue deadline's escalation is resolved by extending that deadline, not another
    (it would stay escalated, and the deadline it names would never be escalated again)."""
    if c.escalation is None or c.escalation > len(s.escalations):
        return  # nothing to resolve, or no such escalation (refused with the resolution)
    escalation = s.escalations[c.escalation - 1]
    overdue = (EscalationKind.AGREEMENT_OVERDUE, EscalationKind.FEEDBACK_OVERDUE)
    if escalation.kind in overdue and escalation.subject != c.deadline:
        raise RuleViolation(
            "escalation_mismatch",
            f"escalation {c.escalation} is about {escalation.subject}, not {c.deadline}",
        )


def _check_new_deadline(
    s: RelationshipState, c: ExtendDeadline, current: datetime, due: datetime, now: datetime
) -> None:
    if local_date(due, s.zone) <= local_date(current, s.zone):
        raise RuleViolation(
            "not_later",
            f"the new date {c.until} must be after the current one ({local_date(current, s.zone)})",
        )
    if due <= now:
        raise RuleViolation("in_the_past", f"the new deadline {due.isoformat()} has passed")
    # Its escalation must still fall inside the group's life (and the midpoint's before the
    # final round opens), or it would never be escalated.
    end = s.ends_at
    if c.deadline == "feedback:midpoint":
        end = min(end, s.feedback[FeedbackRound.FINAL].opens_at)
    if durations.add(due, s.policy.overdue_after, zone=s.zone) >= end:
        last = local_date(durations.subtract(end, s.policy.overdue_after, zone=s.zone), s.zone)
        raise RuleViolation("too_late", f"the new date {c.until} must be before {last}")


def _dissolve(s: RelationshipState, c: Dissolve, f: EventFactory) -> list[RelationshipEvent]:
    require_coordinator(s, c.by, c.authority)
    resolved = _resolving(s, c.escalation, Resolution.DISSOLVED, c.reason, f)
    closed = f.make(
        RelationshipClosed,
        outcome=Outcome.DISSOLVED,
        reason=DISSOLVED_BY_COORDINATOR,
        note=c.reason,
        recipients=s.everyone(),
    )
    return [*resolved, closed]
