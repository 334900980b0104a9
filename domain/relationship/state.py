"""The state of a relationship: what ``fold(events)`` rebuilds.

The workflow holds exactly this model and rebuilds it the same way an auditor does, so the two can
be compared. It is a value: ``fold``/``apply`` return new instances and never touch their input.
"""

from datetime import date, datetime
from enum import StrEnum

from domain.envelope import Outcome
from domain.localtime import ZoneOffsets
from domain.model import PersonId, Role, State
from domain.policy import RelationshipPolicy
from domain.relationship.events import EscalationKind, FeedbackRound, Phase, Resolution


class MemberState(State):
    person_id: PersonId
    role: Role
    active: bool = True
    withdrew_at: datetime | None = None
    withdrawal_reason: str | None = None
    joined_at: datetime | None = None
    """When the coordinator added them (none: a member from the start)."""
    replaced: PersonId | None = None
    """The member whose place they took."""


class AgreementState(State):
    due_at: datetime
    recorded_at: datetime | None = None
    recorded_by: PersonId | None = None
    goals: list[str] = []
    late: bool = False


class MeetingStatus(StrEnum):
    OPEN = "open"
    HELD = "held"
    NOT_HELD = "not_held"
    MISSED = "missed"


class MeetingSlot(State):
    number: int
    due_at: datetime
    status: MeetingStatus = MeetingStatus.OPEN
    held_on: date | None = None
    attendees: list[PersonId] = []
    recorded_by: PersonId | None = None
    reason: str | None = None
    starts_at: datetime | None = None
    """When a mentor planned it (none: not planned yet, or the plan was cancelled)."""
    minutes: int | None = None
    place: str | None = None
    planned_by: PersonId | None = None


class AgendaItem(State):
    number: int
    """The meeting it is for."""
    by: PersonId
    at: datetime
    text: str


class FeedbackAnswer(State):
    submitted_at: datetime
    late: bool
    answers: dict[str, str]
    choices: dict[str, str] = {}


class FeedbackRoundState(State):
    round: FeedbackRound
    opens_at: datetime
    due_at: datetime
    requested_at: datetime | None = None
    closed: bool = False
    answers: dict[PersonId, FeedbackAnswer] = {}


class EscalationRecord(State):
    kind: EscalationKind
    subject: str
    at: datetime
    persons: list[PersonId] = []
    reason: str | None = None
    """Why it was raised (none in states folded before reasons were kept)."""
    resolved_at: datetime | None = None
    """None: open. An escalation stays open until the coordinator resolves it."""
    resolved_by: PersonId | None = None
    resolution: Resolution | None = None
    note: str | None = None
    """The coordinator's note (sealed free text)."""

    @property
    def open(self) -> bool:
        return self.resolved_at is None


class Closure(State):
    outcome: Outcome
    reason: str
    closed_at: datetime
    note: str | None = None
    """The coordinator's words when they dissolved the group (sealed free text)."""


class RelationshipState(State):
    relationship_id: str
    programme_id: str
    coordinator_id: PersonId
    policy: RelationshipPolicy
    starts_at: datetime
    ends_at: datetime
    version: int = 0
    """Number of events folded: the expected version of the next append."""
    phase: Phase = Phase.KICKOFF
    members: dict[PersonId, MemberState]
    agreement: AgreementState
    meeting_anchor: datetime
    """Meeting n is due at anchor + n x cadence; a pause moves the anchor."""
    meetings: list[MeetingSlot] = []
    agenda: list[AgendaItem] = []
    """Questions and topics members wrote for their meetings, in the order written."""
    missed_in_a_row: int = 0
    at_risk: bool = False
    feedback: dict[FeedbackRound, FeedbackRoundState]
    reminders_issued: list[str] = []
    """Keys of reminders already sent, so none is sent twice (``agreement/P3D``...)."""
    escalations: list[EscalationRecord] = []
    unreachable: list[PersonId] = []
    """People a message could not be delivered to (the coordinator was told the first time)."""
    paused_since: datetime | None = None
    closure: Closure | None = None
    zone: ZoneOffsets | None = None
    """Where local dates are reckoned (see ``domain.localtime``); none: UTC."""
    rules: int = 1
    """The rules it runs by (``domain.relationship.events.RULES``), from its start."""
    programme_ends_at: datetime | None = None
    """The end no pause can move (rules 2): the relationship's end as it started."""
    extended: dict[str, datetime] = {}
    """When each deadline (by subject) was last extended: escalations before it are of the old
    deadline, so the new one is reminded of and escalated again."""

    @property
    def closed(self) -> bool:
        return self.closure is not None

    def active_members(self, role: Role | None = None) -> list[PersonId]:
        """Ids of members still in the group, optionally of one role, in a stable order."""
        return [
            m.person_id
            for m in self.members.values()
            if m.active and (role is None or m.role == role)
        ]

    def open_meetings(self) -> list[MeetingSlot]:
        return [m for m in self.meetings if m.status == MeetingStatus.OPEN]

    def open_escalations(self) -> list[tuple[int, EscalationRecord]]:
        """The escalations not resolved yet, each with its number (from 1, in order raised)."""
        return [(n, e) for n, e in enumerate(self.escalations, start=1) if e.open]

    def extendable(self) -> dict[str, datetime]:
        """The deadlines a coordinator may still move, by subject, with their due instants: the
        agreement until it is recorded, a feedback round while it is open."""
        found = {}
        if self.agreement.recorded_at is None:
            found["agreement"] = self.agreement.due_at
        for r in self.feedback.values():
            if r.requested_at is not None and not r.closed:
                found[f"feedback:{r.round}"] = r.due_at
        return found

    def everyone(self) -> tuple[PersonId, ...]:
        """Active members and the coordinator: the audience of notices about the whole group."""
        return (*self.active_members(), self.coordinator_id)
