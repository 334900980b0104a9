"""A relationship's stored events as a timeline people can read: when, who, what and why."""

from datetime import datetime

from pydantic import BaseModel

from domain.events import (
    AgreementRecorded,
    EscalationRaised,
    FeedbackRequested,
    FeedbackSubmitted,
    MarkedAtRisk,
    MeetingMissed,
    MeetingRecorded,
    MeetingScheduled,
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


def describe(event: RelationshipEvent) -> str:
    """One sentence about ``event``, naming people by id only."""
    match event:
        case RelationshipStarted():
            members = ", ".join(f"{m.person_id} ({m.role})" for m in event.members)
            return f"group formed: {members}; ends {event.ends_at:%Y-%m-%d}"
        case PhaseChanged():
            return f"phase: {event.phase}"
        case AgreementRecorded():
            return f"agreement recorded, goals: {', '.join(event.goals)}" + (
                " (late)" if event.late else ""
            )
        case MeetingScheduled():
            return f"meeting {event.number} scheduled, due {event.due_at:%Y-%m-%d}"
        case MeetingRecorded() if event.held:
            return f"meeting {event.number} held on {event.held_on}: {', '.join(event.attendees)}"
        case MeetingRecorded():
            return f"meeting {event.number} did not take place: {event.reason}"
        case MeetingMissed():
            return f"meeting {event.number} missed: {event.reason}"
        case ReminderIssued():
            to = ", ".join(event.recipients)
            return f"{event.kind} ({event.subject}, {event.offset} before) to {to}"
        case FeedbackRequested():
            return f"{event.round} feedback requested, due {event.due_at:%Y-%m-%d}"
        case FeedbackSubmitted():
            return f"{event.round} feedback answered" + (" (late)" if event.late else "")
        case MarkedAtRisk():
            return f"at risk: {event.reason}"
        case EscalationRaised():
            about = f" about {', '.join(event.persons)}" if event.persons else ""
            return f"ESCALATED {event.kind} to coordinator{about}: {event.reason}"
        case MemberWithdrew():
            return f"{event.person_id} withdrew: {event.reason}"
        case Paused():
            return f"paused: {event.reason}"
        case Resumed():
            return f"resumed (paused since {event.paused_since:%Y-%m-%d})"
        case RelationshipClosed():
            return f"closed, {event.outcome}: {event.reason}"


def timeline(events: list[RelationshipEvent]) -> list[TimelineEntry]:
    return [
        TimelineEntry(at=e.occurred_at, actor=e.actor, type=e.type, text=describe(e))
        for e in events
    ]
