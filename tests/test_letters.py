"""Every notification kind renders in every language, from events built by the domain: a broken
template would otherwise surface only when that message is first due, maybe months in."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from activities.mail.invites import Method
from activities.mail.letters import KINDS, LOCALES, Stationery, occasion
from domain.calendar import calendar
from domain.envelope import DeliveryFailed, Notifying, Outcome
from domain.factory import EventFactory
from domain.matching import MatchingResult
from domain.model import Role
from domain.programme.commands import start as start_programme
from domain.programme.events import (
    ApprovalEscalated,
    GroupFinding,
    GroupsChecked,
    MatchingProposed,
    Milestone,
    MilestoneReached,
    ProgrammeClosed,
    ProgrammeReminderIssued,
    ProgrammeReport,
    UntrainedMentorsExcluded,
)
from domain.relationship import commands
from domain.relationship.events import (
    EscalationKind,
    EscalationRaised,
    FeedbackRequested,
    FeedbackRound,
    MeetingCancelled,
    MeetingPlanned,
    MeetingScheduled,
    MemberAdded,
    MemberWithdrew,
    Paused,
    RelationshipClosed,
    ReminderIssued,
    ReminderKind,
    Resumed,
)
from mentorflow.programme_files import load_programme
from store.directory import Contact, ProgrammeEntry
from tests.builders import COORDINATOR, SHORT, spec

EXAMPLE = Path(__file__).parent.parent / "examples" / "palkeet-pilot.yaml"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def relationship_cases():
    f = EventFactory(T0, uuid.uuid4)
    later = EventFactory(T0 + timedelta(days=5), uuid.uuid4)
    started = commands.start(spec("g1", T0, T0 + timedelta(days=60), SHORT), f)
    members = tuple(m.person_id for m in started.members)
    due = T0 + timedelta(days=7)
    scheduled = f.make(MeetingScheduled, number=1, due_at=due, recipients=members)
    base = [started, scheduled]
    plan = {"number": 1, "minutes": 90, "place": "Room 3"}
    mentor = EventFactory(T0, uuid.uuid4, actor="m1")
    planned = mentor.make(
        MeetingPlanned, **plan, starts_at=due - timedelta(hours=3), recipients=members
    )
    paused = f.make(Paused, reason="holidays")

    def reminder(kind, subject):
        return f.make(
            ReminderIssued,
            kind=kind,
            subject=subject,
            deadline=due,
            offset="P1D",
            scheduled_for=due - timedelta(days=1),
            recipients=members,
        )

    cases = [
        [started],
        base,
        [*base, reminder(ReminderKind.AGREEMENT, "agreement")],
        [*base, reminder(ReminderKind.MEETING_PREPARATION, "meeting:1")],
        [*base, reminder(ReminderKind.MEETING_UNSCHEDULED, "meeting:1")],
        [*base, planned],
        [*base, planned, later.make(MeetingPlanned, **plan, starts_at=due, recipients=members)],
        [*base, planned, mentor.make(MeetingCancelled, number=1, recipients=members)],
        [*base, reminder(ReminderKind.FEEDBACK, "feedback:midpoint")],
        [
            *base,
            f.make(FeedbackRequested, round=FeedbackRound.FINAL, due_at=due, recipients=members),
        ],
        [*base, paused, later.make(Resumed, paused_since=paused.occurred_at, recipients=members)],
        [*base, f.make(MemberWithdrew, person_id="a3", reason="new job", recipients=members)],
        [
            *base,
            f.make(MemberWithdrew, person_id="a3", reason="new job", recipients=members),
            f.make(
                MemberAdded,
                person_id="a4",
                role=Role.MENTEE,
                replaces="a3",
                reason="new job",
                recipients=("a4", *members[:-1], COORDINATOR),
            ),
        ],
        [
            *base,
            f.make(RelationshipClosed, outcome=Outcome.DISSOLVED, reason="r", recipients=members),
        ],
        [
            *base,
            f.make(
                DeliveryFailed,
                notification_of=scheduled.event_id,
                kind="meeting_scheduled",
                person_id="a2",
                smtp_code=550,
                reason="mailbox unavailable",
                recipients=(COORDINATOR,),
            ),
        ],
    ]
    for kind in EscalationKind:
        cases.append(
            [
                *base,
                f.make(
                    EscalationRaised,
                    kind=kind,
                    subject="agreement",
                    persons=("a1",),
                    reason="r",
                    scheduled_for=due,
                    recipients=(COORDINATOR,),
                ),
            ]
        )
    return cases


def programme_cases():
    loaded = load_programme(EXAMPLE)
    p = loaded.programme
    f = EventFactory(T0, uuid.uuid4)
    started = start_programme(p, calendar(p), tuple(x.profile() for x in loaded.participants), f)
    hr = (p.coordinator.id,)
    at = T0 + timedelta(days=3)
    report = ProgrammeReport(
        groups=2,
        meetings_held=9,
        meetings_missed=1,
        feedback={},
        escalations={},
        closures={"completed": 1, "dissolved": 1},
        closure_reasons={},
        unmatched=1,
    )
    events = [
        f.make(
            ProgrammeReminderIssued,
            subject="training",
            deadline=at,
            offset="P3D",
            scheduled_for=T0,
            recipients=("m1",),
        ),
        f.make(
            ProgrammeReminderIssued,
            subject="approval",
            deadline=at,
            offset="P3D",
            scheduled_for=T0,
            recipients=hr,
        ),
        f.make(UntrainedMentorsExcluded, persons=("m1", "m2"), recipients=hr),
        f.make(
            MatchingProposed,
            result=MatchingResult(groups=(), unmatched=(), score=0, optimal=True),
            approval_due=at,
            recipients=hr,
        ),
        f.make(
            MatchingProposed,
            result=MatchingResult(groups=(), unmatched=(), score=0, optimal=True),
            approval_due=None,
            recipients=hr,
        ),
        f.make(ApprovalEscalated, reason="r", scheduled_for=at, recipients=hr),
        f.make(MilestoneReached, milestone=Milestone.MIDPOINT_SURVEY, recipients=("a1",)),
        f.make(MilestoneReached, milestone=Milestone.CLOSING_INVITATION, recipients=("a1",)),
        f.make(
            GroupsChecked,
            findings=(
                GroupFinding(relationship_id="g:1", status="failed", reason="its workflow failed"),
                GroupFinding(relationship_id="g:2", status="completed", reason="end date reached"),
            ),
            recipients=hr,
        ),
        f.make(MilestoneReached, milestone=Milestone.PROGRAMME_START, recipients=hr),
        f.make(ProgrammeClosed, report=report, recipients=hr),
    ]
    entry = ProgrammeEntry(p.id, p.name, p.timezone, p.coordinator.id)
    return entry, [[started]] + [[started, e] for e in events]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_kind_renders_in_every_language(locale):
    stationery = Stationery()
    test_programme = ProgrammeEntry("test", "Testiohjelma", "Europe/Helsinki", COORDINATOR)
    pilot, pilot_cases = programme_cases()
    rendered = set()
    for entry, history in [(test_programme, h) for h in relationship_cases()] + [
        (pilot, h) for h in pilot_cases
    ]:
        event = history[-1]
        assert isinstance(event, Notifying)
        contacts = {
            p: Contact(p, f"Name {p}", f"{p}@example.org", locale)
            for p in {*event.recipients, entry.coordinator_id, "m1", "m2", "a1", "a2", "a3"}
        }
        for person in event.recipients:
            letter = stationery.write(
                occasion(event.notification_kind, event, history, entry, contacts), contacts[person]
            )
            assert letter.subject and "None" not in letter.subject, event.notification_kind
            assert f"Name {person}" in letter.body and "None" not in letter.body
            if event.notification_kind == "meeting_planned":
                assert letter.invite is not None and letter.invite.method is Method.REQUEST
            if event.notification_kind == "meeting_cancelled":
                assert letter.invite is not None and letter.invite.method is Method.CANCEL
        rendered.add(event.notification_kind)
    assert rendered == set(KINDS)
