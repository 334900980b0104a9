"""Domain events of a mentoring relationship: the record of everything that happened to it.

The envelope they share with the programme's events is ``domain.envelope``.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from domain.envelope import DeliveryFailed, Event, Notifying, Outcome
from domain.localtime import ZoneOffsets
from domain.model import Member, PersonId, Role
from domain.policy import RelationshipPolicy


class Phase(StrEnum):
    KICKOFF = "kickoff"
    FIRST_HALF = "first_half"
    SECOND_HALF = "second_half"
    FINAL_FEEDBACK = "final_feedback"
    CLOSED = "closed"


class FeedbackRound(StrEnum):
    MIDPOINT = "midpoint"
    FINAL = "final"


class ReminderKind(StrEnum):
    AGREEMENT = "agreement_reminder"
    MEETING_PREPARATION = "meeting_preparation_reminder"
    MEETING_UNSCHEDULED = "meeting_unscheduled_reminder"
    """Rules 3: the mentors' nudge when the preparation reminder finds the meeting unscheduled."""
    FEEDBACK = "feedback_reminder"


class EscalationKind(StrEnum):
    AGREEMENT_OVERDUE = "agreement_overdue"
    FEEDBACK_OVERDUE = "feedback_overdue"
    INACTIVE = "inactive"
    PAUSED_TOO_LONG = "paused_too_long"


class Resolution(StrEnum):
    """How the coordinator resolved an escalation."""

    ACKNOWLEDGED = "acknowledged"
    """Acknowledged with a note (nothing in the group changes)."""
    MEMBER_ADDED = "member_added"
    """A member was added to the group (``member_added`` just before it)."""
    MEMBER_REPLACED = "member_replaced"
    """A member left and another took their place (``member_withdrew``, ``member_added``)."""
    DEADLINE_EXTENDED = "deadline_extended"
    """The overdue deadline was moved later (``deadline_extended`` just before it)."""
    DISSOLVED = "dissolved"
    """The group was dissolved (``relationship_closed`` just after it)."""


class RelationshipStarted(Notifying):
    type: Literal["relationship_started"] = "relationship_started"
    relationship_id: str
    programme_id: str
    coordinator_id: PersonId
    members: tuple[Member, ...]
    policy: RelationshipPolicy
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    zone: ZoneOffsets | None = None
    """The programme's zone: local dates and calendar months are reckoned in it (none in
    relationships started before zones were carried: those reckon in UTC)."""
    rules: int = 1
    """Which rules the relationship runs by (``RULES``); histories recorded before a change of
    rules keep the rules they were recorded with."""


RULES = 3
"""The rules new relationships run by. 2: a pause never outlasts the programme (the group closes
at the programme's end, paused or not), a pause longer than ``policy.max_pause`` is escalated,
and every deadline whose grace or escalation was still ahead when the pause began moves with it.
3: a meeting nobody has scheduled by its preparation reminder gets a nudge to the mentors
(``ReminderKind.MEETING_UNSCHEDULED``) instead of the reminder.
"""


class PhaseChanged(Event):
    type: Literal["phase_changed"] = "phase_changed"
    phase: Phase


class AgreementRecorded(Event):
    type: Literal["agreement_recorded"] = "agreement_recorded"
    goals: tuple[str, ...]
    agreement: str
    late: bool


class MeetingScheduled(Notifying):
    """An invitation to the next meeting in the cycle."""

    type: Literal["meeting_scheduled"] = "meeting_scheduled"
    number: int
    due_at: AwareDatetime


class MeetingPlanned(Notifying):
    """A mentor set the meeting's time and place: the members get its invitation.

    Planned again (moved), the same meeting keeps its invitation's UID with a higher SEQUENCE.
    """

    type: Literal["meeting_planned"] = "meeting_planned"
    number: int
    starts_at: AwareDatetime
    minutes: int
    place: str
    """Where, or the video link: free text a mentor wrote."""


class MeetingCancelled(Notifying):
    """A mentor cancelled the planned time; the meeting is still due, to be planned again."""

    type: Literal["meeting_cancelled"] = "meeting_cancelled"
    number: int


class AgendaItemAdded(Event):
    """A member's question or topic for the next meeting (seen by the group only)."""

    type: Literal["agenda_item_added"] = "agenda_item_added"
    number: int
    text: str


class MeetingRecorded(Event):
    type: Literal["meeting_recorded"] = "meeting_recorded"
    number: int
    held: bool
    held_on: date
    attendees: tuple[PersonId, ...]
    reason: str | None = None
    """Why the meeting did not take place (required when ``held`` is false)."""


class MeetingMissed(Event):
    """Nobody recorded the meeting before its grace period ended."""

    type: Literal["meeting_missed"] = "meeting_missed"
    number: int
    reason: str


class ReminderIssued(Notifying):
    type: Literal["reminder_issued"] = "reminder_issued"
    kind: ReminderKind
    subject: str
    """What the reminder is about: ``agreement``, ``meeting:3``, ``feedback:midpoint``."""
    deadline: AwareDatetime
    offset: str
    scheduled_for: AwareDatetime
    """deadline - offset: when the policy says the reminder is due."""

    @property
    def notification_kind(self) -> str:
        return self.kind.value


class FeedbackRequested(Notifying):
    type: Literal["feedback_requested"] = "feedback_requested"
    round: FeedbackRound
    due_at: AwareDatetime


class FeedbackSubmitted(Event):
    type: Literal["feedback_submitted"] = "feedback_submitted"
    round: FeedbackRound
    answers: dict[str, str]
    """Text answers by question id (free text)."""
    late: bool
    choices: dict[str, str] = {}
    """Scale and choice answers by question id: codes (``"4"``, an option id), not free text."""


class MarkedAtRisk(Event):
    type: Literal["marked_at_risk"] = "marked_at_risk"
    missed_in_a_row: int
    reason: str


class EscalationRaised(Notifying):
    type: Literal["escalation_raised"] = "escalation_raised"
    kind: EscalationKind
    subject: str
    persons: tuple[PersonId, ...] = ()
    """Whom the escalation is about (e.g. who has not answered), as ids."""
    reason: str
    scheduled_for: AwareDatetime
    """When the policy says the escalation is due (deadline + overdue_after, or the miss)."""


class EscalationResolved(Event):
    """The coordinator resolved an open escalation: it is no longer open (``actor``: who)."""

    type: Literal["escalation_resolved"] = "escalation_resolved"
    number: int
    """Which escalation: its position among the relationship's escalations, from 1."""
    kind: EscalationKind
    subject: str
    how: Resolution
    note: str
    """Why, in the coordinator's words: free text (sealed)."""


class MemberWithdrew(Notifying):
    type: Literal["member_withdrew"] = "member_withdrew"
    person_id: PersonId
    reason: str


class MemberAdded(Notifying):
    """The coordinator added a person enrolled in the programme to the group, possibly in the
    place of a member who left (``replaces``: their ``member_withdrew`` comes just before).

    The new member gets the group's welcome; the others and the coordinator are told.
    """

    type: Literal["member_added"] = "member_added"
    person_id: PersonId
    role: Role
    replaces: PersonId | None = None
    reason: str
    """Why, in the coordinator's words: free text (sealed)."""


class DeadlineExtended(Event):
    """The coordinator moved a deadline later: reminders and the escalation follow the new one.

    ``subject`` is the deadline's name in reminders and escalations (``agreement``,
    ``feedback:midpoint``, ``feedback:final``).
    """

    type: Literal["deadline_extended"] = "deadline_extended"
    subject: str
    due_at: AwareDatetime
    previous_due_at: AwareDatetime
    reason: str
    """Why, in the coordinator's words: free text (sealed)."""


class Paused(Event):
    type: Literal["paused"] = "paused"
    reason: str


class Resumed(Notifying):
    """Every deadline after the pause began moves by the pause's length.

    The members are told, with updated invitations for the meetings that moved (events recorded
    before resumptions were announced have no recipients).
    """

    type: Literal["resumed"] = "resumed"
    paused_since: datetime
    recipients: tuple[PersonId, ...] = ()


class RelationshipClosed(Notifying):
    type: Literal["relationship_closed"] = "relationship_closed"
    outcome: Outcome
    reason: str
    """Why, in the domain's words (``dissolved by the coordinator``, ``end date reached``...)."""
    note: str | None = None
    """The coordinator's own words when they dissolved the group: free text (sealed)."""


RelationshipEvent = Annotated[
    RelationshipStarted
    | PhaseChanged
    | AgreementRecorded
    | MeetingScheduled
    | MeetingPlanned
    | MeetingCancelled
    | AgendaItemAdded
    | MeetingRecorded
    | MeetingMissed
    | ReminderIssued
    | FeedbackRequested
    | FeedbackSubmitted
    | MarkedAtRisk
    | EscalationRaised
    | EscalationResolved
    | MemberWithdrew
    | MemberAdded
    | DeadlineExtended
    | Paused
    | Resumed
    | RelationshipClosed
    | DeliveryFailed,
    Field(discriminator="type"),
]
