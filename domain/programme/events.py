"""Domain events of a programme (cohort): enrolment, training, matching, launch, closure."""

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from domain.calendar import ProgrammeCalendar
from domain.envelope import DeliveryFailed, Event, Notifying, Outcome
from domain.matching import MatchingResult, ProposedGroup
from domain.model import Frozen, PersonId
from domain.programme.model import Profile, Programme


class ProgrammePhase(StrEnum):
    ENROLMENT = "enrolment"
    """Participants join and leave; mentors complete training (until the training deadline)."""
    MATCHING = "matching"
    """Untrained mentors are excluded; groups are proposed on the matching date."""
    APPROVAL = "approval"
    """The coordinator reviews the proposal (skipped when approval is automatic)."""
    RUNNING = "running"
    """One RelationshipWorkflow per group runs; programme milestones go out."""
    CLOSED = "closed"


class Milestone(StrEnum):
    PROGRAMME_START = "programme_start"
    """The first day: the coordinator is told (the set-up message came at ``programme start``)."""
    MIDPOINT_SURVEY = "midpoint_survey"
    CLOSING_INVITATION = "closing_invitation"


class ProgrammeStarted(Notifying):
    type: Literal["programme_started"] = "programme_started"
    programme: Programme
    calendar: ProgrammeCalendar
    participants: tuple[Profile, ...]


class PhaseEntered(Event):
    type: Literal["programme_phase_entered"] = "programme_phase_entered"
    phase: ProgrammePhase


class ParticipantEnrolled(Event):
    type: Literal["participant_enrolled"] = "participant_enrolled"
    profile: Profile
    reason: str | None = None


class ParticipantUpdated(Event):
    """A participant's profile replaced (before matching), e.g. from a new HR export."""

    type: Literal["participant_updated"] = "participant_updated"
    profile: Profile
    reason: str


class ParticipantRemoved(Event):
    type: Literal["participant_removed"] = "participant_removed"
    person_id: PersonId
    reason: str


class MentorTrained(Event):
    type: Literal["mentor_trained"] = "mentor_trained"
    person_id: PersonId
    trained_on: date


class ProgrammeReminderIssued(Notifying):
    type: Literal["programme_reminder_issued"] = "programme_reminder_issued"
    subject: Literal["training", "approval"]
    deadline: AwareDatetime
    offset: str
    scheduled_for: AwareDatetime


class UntrainedMentorsExcluded(Notifying):
    """At the training deadline: these mentors are not matched; the coordinator is told."""

    type: Literal["untrained_mentors_excluded"] = "untrained_mentors_excluded"
    persons: tuple[PersonId, ...]


class MatchingProposed(Notifying):
    type: Literal["matching_proposed"] = "matching_proposed"
    result: MatchingResult
    approval_due: AwareDatetime | None
    """None when the programme approves automatically."""


class ApprovalEscalated(Notifying):
    type: Literal["approval_escalated"] = "approval_escalated"
    reason: str
    scheduled_for: AwareDatetime


class MatchingApproved(Event):
    """The groups that will run; ``edited`` when the coordinator changed the proposal."""

    type: Literal["matching_approved"] = "matching_approved"
    groups: tuple[ProposedGroup, ...]
    edited: bool
    reason: str | None = None


class RelationshipLaunched(Event):
    type: Literal["relationship_launched"] = "relationship_launched"
    relationship_id: str
    number: int
    mentors: tuple[PersonId, ...]
    mentees: tuple[PersonId, ...]


class MilestoneReached(Notifying):
    type: Literal["milestone_reached"] = "milestone_reached"
    milestone: Milestone

    @property
    def notification_kind(self) -> str:
        return self.milestone.value


class RelationshipEnded(Event):
    type: Literal["relationship_ended"] = "relationship_ended"
    relationship_id: str
    outcome: Outcome
    reason: str


class GroupStatus(StrEnum):
    """What Temporal says of a group's workflow when the programme checks it after its end."""

    COMPLETED = "completed"
    """Closed normally, but its report never reached the programme."""
    FAILED = "failed"
    TERMINATED = "terminated"
    TIMED_OUT = "timed_out"
    CANCELED = "canceled"
    RUNNING = "running"
    """Still running after the programme's end (it never reported back)."""
    NOT_FOUND = "not_found"


class GroupFinding(Frozen):
    relationship_id: str
    status: GroupStatus
    outcome: Outcome | None = None
    """The group's own outcome, when it completed."""
    reason: str


class GroupsChecked(Notifying):
    """After the programme's end: the groups that had not reported back, and what became of
    them. The coordinator is told of those that did not end normally (escalation)."""

    type: Literal["groups_checked"] = "groups_checked"
    findings: tuple[GroupFinding, ...]


class ProgrammeReport(Frozen):
    """The programme's numbers, counted from the stored events of its relationships."""

    groups: int
    meetings_held: int
    meetings_missed: int
    feedback: dict[str, dict[str, int]]
    """Per round: answered, late, missing."""
    escalations: dict[str, int]
    """Per kind."""
    closures: dict[str, int]
    """Per outcome."""
    closure_reasons: dict[str, str]
    """Per relationship id."""
    unmatched: int
    scales: dict[str, dict[str, dict[str, int]]] = {}
    """Per round and scale question, how many answered 1, 2 ... 5 (only where at least three
    people answered: ``domain.summary.MIN_AGGREGATE``)."""
    ended_abnormally: dict[str, str] = {}
    """Per relationship id, how a group ended that did not close normally (failed, terminated,
    never reported back), as the programme found it after its end."""


class ProgrammeClosed(Notifying):
    type: Literal["programme_closed"] = "programme_closed"
    report: ProgrammeReport


ProgrammeEvent = Annotated[
    ProgrammeStarted
    | PhaseEntered
    | ParticipantEnrolled
    | ParticipantRemoved
    | ParticipantUpdated
    | MentorTrained
    | ProgrammeReminderIssued
    | UntrainedMentorsExcluded
    | MatchingProposed
    | ApprovalEscalated
    | MatchingApproved
    | RelationshipLaunched
    | MilestoneReached
    | RelationshipEnded
    | GroupsChecked
    | ProgrammeClosed
    | DeliveryFailed,
    Field(discriminator="type"),
]
