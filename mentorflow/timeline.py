"""A relationship's stored events as a timeline people can read: when, who, what and why."""

from datetime import datetime, timedelta

from pydantic import BaseModel

from domain.envelope import DeliveryFailed
from domain.relationship.events import (
    AgendaItemAdded,
    AgreementRecorded,
    DeadlineExtended,
    EscalationRaised,
    EscalationResolved,
    FeedbackRequested,
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
    PhaseChanged,
    RelationshipClosed,
    RelationshipEvent,
    RelationshipStarted,
    ReminderIssued,
    Resumed,
)


class TimelineEntry(BaseModel):
    at: datetime
    actor: str
    type: str
    text: str


def describe(event: RelationshipEvent, shift: timedelta = timedelta(0)) -> str:
    """One sentence about ``event``, naming people by id only; dates ``shift`` earlier."""

    def day(at: datetime) -> str:
        return f"{at - shift:%Y-%m-%d}"

    match event:
        case RelationshipStarted():
            members = ", ".join(f"{m.person_id} ({m.role})" for m in event.members)
            return f"group formed: {members}; ends {day(event.ends_at)}"
        case PhaseChanged():
            return f"phase: {event.phase}"
        case AgreementRecorded():
            return f"agreement recorded, goals: {', '.join(event.goals)}" + (
                " (late)" if event.late else ""
            )
        case MeetingScheduled():
            return f"meeting {event.number} scheduled, due {day(event.due_at)}"
        case MeetingPlanned():
            # The place and the agenda are the group's own words: not in a timeline for others.
            start = event.starts_at - shift
            return f"meeting {event.number} set for {start:%Y-%m-%d %H:%M} UTC, {event.minutes} min"
        case MeetingCancelled():
            return f"meeting {event.number}: its time was cancelled"
        case AgendaItemAdded():
            return f"agenda item added for meeting {event.number}"
        case MeetingRecorded() if event.held:
            # A date: moved by the days the shift moves the event's own time across.
            held_on = event.held_on - (
                event.occurred_at.date() - (event.occurred_at - shift).date()
            )
            return f"meeting {event.number} held on {held_on}: {', '.join(event.attendees)}"
        case MeetingRecorded():
            return f"meeting {event.number} did not take place: {event.reason}"
        case MeetingMissed():
            return f"meeting {event.number} missed: {event.reason}"
        case ReminderIssued():
            to = ", ".join(event.recipients)
            return f"{event.kind} ({event.subject}, {event.offset} before) to {to}"
        case FeedbackRequested():
            return f"{event.round} feedback requested, due {day(event.due_at)}"
        case FeedbackSubmitted():
            return f"{event.round} feedback answered" + (" (late)" if event.late else "")
        case MarkedAtRisk():
            return f"at risk: {event.reason}"
        case EscalationRaised():
            about = f" about {', '.join(event.persons)}" if event.persons else ""
            return f"ESCALATED {event.kind} to coordinator{about}: {event.reason}"
        case EscalationResolved():
            return f"escalation {event.number} ({event.kind}) {event.how}: {event.note}"
        case MemberWithdrew():
            return f"{event.person_id} withdrew: {event.reason}"
        case MemberAdded():
            instead = f" in place of {event.replaces}" if event.replaces else ""
            return f"{event.person_id} ({event.role}) added{instead}: {event.reason}"
        case DeadlineExtended():
            return (
                f"{event.subject} deadline moved from {day(event.previous_due_at)}"
                f" to {day(event.due_at)}: {event.reason}"
            )
        case Paused():
            return f"paused: {event.reason}"
        case Resumed():
            return f"resumed (paused since {day(event.paused_since)})"
        case RelationshipClosed():
            note = f" ({event.note})" if event.note else ""
            return f"closed, {event.outcome}: {event.reason}{note}"
        case DeliveryFailed():
            code = f" ({event.smtp_code})" if event.smtp_code else ""
            return f"{event.kind} message to {event.person_id} undeliverable{code}: {event.reason}"


def timeline(
    events: list[RelationshipEvent], shift: timedelta = timedelta(0)
) -> list[TimelineEntry]:
    """The events as entries; with ``shift``, every time moved back by it (simulated dates)."""
    return [
        TimelineEntry(at=e.occurred_at - shift, actor=e.actor, type=e.type, text=describe(e, shift))
        for e in events
    ]
