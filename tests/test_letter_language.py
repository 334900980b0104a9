"""Every kind of letter, in fi, sv and en, reads as one language with people's names and dates as
people mean them: no English reasons inside Finnish letters, no ids (`pilot-tomorrow:1`, `a3`,
`P7D`, `meeting_scheduled`), the last day of a programme as written (not the day after)."""

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from activities.mail.letters import KINDS, LOCALES, Letter, Stationery, occasion
from activities.mail.reasons import parse
from domain.calendar import end_of
from domain.envelope import DeliveryFailed, Notifying, Outcome
from domain.factory import EventFactory
from domain.matching import MatchingResult, ProposedGroup, Unmatched
from domain.model import Role
from domain.programme.commands import start as start_programme
from domain.programme.events import (
    ApprovalEscalated,
    GroupFinding,
    GroupsChecked,
    GroupStatus,
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
from tests.test_letters import EXAMPLE

ZONE = "Europe/Helsinki"
T0 = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
ENDS = end_of(date(2027, 6, 30), ZONE)  # the programme's last day is 30 June 2027
NAMES = {
    "m1": "Heidi Virta",
    "m2": "Emma Berg",
    "a1": "Aino Koski",
    "a2": "Bo Lind",
    "a3": "Sami Salo",
    "a4": "Eero Niemi",
    COORDINATOR: "Pia Laine",
    "hr1": "Pia Laine",
}

# As the domain words them (domain/relationship/schedule.py, commands.py,
# domain/programme/commands.py, matching.py).
REASONS = {
    "agreement": "group agreement not recorded P7D after it was due",
    "feedback": "midpoint feedback missing from 1 member(s) P7D after it was due",
    "inactive": "2 meetings in a row not held",
    "dissolved": "1 mentee(s) left, below the minimum of 2, after a3 withdrew",
    "completed": "end date reached",
    "approval": "the matching proposal is not approved P7D after it was due",
    "untrained": "not trained by 2026-08-20",
    "no_room": "no room: every compatible group is full (too few trained mentors)",
    "no_contact": "no contact details in the directory",
    "paused": "paused for longer than P60D and not resumed",
    "ended_paused": "the programme ended while the group was paused",
    "by_coordinator": "dissolved by the coordinator",
}

ENGLISH = re.compile(
    r"\b(the|and|group|feedback|meeting|missing|after|reason|members?|due|not|recorded|left"
    r"|below|minimum|trained|approved|withdrew|reached|end|date|mentee)\b",
    re.IGNORECASE,
)
RAW_IDS = re.compile(
    r"\b(m1|m2|a1|a2|a3|a4|hr1|test:3|relationship:\S+)\b|\bP\d+[DWMY]\b|\b[a-z]+_[a-z_]+\b"
)


def relationship_cases():
    f = EventFactory(T0, uuid.uuid4)
    later = EventFactory(T0 + timedelta(days=5), uuid.uuid4)
    started = commands.start(spec("test:3", T0, ENDS, SHORT), f)
    members = tuple(m.person_id for m in started.members)
    due = T0 + timedelta(days=7)
    scheduled = f.make(MeetingScheduled, number=1, due_at=due, recipients=members)
    base = [started, scheduled]
    paused = f.make(Paused, reason="vacation")
    mentor = EventFactory(T0, uuid.uuid4, actor="m1")
    plan = {"number": 1, "minutes": 90, "place": "Room 3"}
    planned = mentor.make(
        MeetingPlanned, **plan, starts_at=due - timedelta(hours=3), recipients=members
    )

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

    def escalation(kind, reason):
        return f.make(
            EscalationRaised,
            kind=kind,
            subject="x",
            persons=("a1",),
            reason=reason,
            scheduled_for=due,
            recipients=(COORDINATOR,),
        )

    def closed(outcome, reason):
        return f.make(RelationshipClosed, outcome=outcome, reason=reason, recipients=members)

    return [
        [started],
        base,
        [*base, reminder(ReminderKind.AGREEMENT, "agreement")],
        [*base, reminder(ReminderKind.MEETING_PREPARATION, "meeting:1")],
        [*base, reminder(ReminderKind.MEETING_UNSCHEDULED, "meeting:1")],
        [*base, planned],
        [*base, planned, later.make(MeetingPlanned, **plan, starts_at=due, recipients=members)],
        [*base, planned, mentor.make(MeetingCancelled, number=1, recipients=members)],
        [*base, reminder(ReminderKind.FEEDBACK, "feedback:midpoint")],
        [*base, reminder(ReminderKind.FEEDBACK, "feedback:final")],
        *(
            [*base, f.make(FeedbackRequested, round=r, due_at=due, recipients=members)]
            for r in FeedbackRound
        ),
        [*base, paused, later.make(Resumed, paused_since=paused.occurred_at, recipients=members)],
        [*base, f.make(MemberWithdrew, person_id="a3", reason="vacation", recipients=members)],
        [
            *base,
            planned,
            f.make(MemberWithdrew, person_id="a3", reason="vacation", recipients=members),
            f.make(
                MemberAdded,
                person_id="a4",
                role=Role.MENTEE,
                replaces="a3",
                reason="vacation",
                recipients=("a4", *members[:-1], COORDINATOR),
            ),
        ],
        [*base, closed(Outcome.DISSOLVED, REASONS["dissolved"])],
        [
            *base,
            f.make(
                RelationshipClosed,
                outcome=Outcome.DISSOLVED,
                reason=REASONS["by_coordinator"],
                note="vacation",
                recipients=(*members, COORDINATOR),
            ),
        ],
        [*base, closed(Outcome.COMPLETED, REASONS["completed"])],
        [
            *base,
            f.make(
                DeliveryFailed,
                notification_of=scheduled.event_id,
                kind="meeting_scheduled",
                person_id="a2",
                smtp_code=None,
                reason=REASONS["no_contact"],
                recipients=(COORDINATOR,),
            ),
        ],
        [*base, escalation(EscalationKind.AGREEMENT_OVERDUE, REASONS["agreement"])],
        [*base, escalation(EscalationKind.FEEDBACK_OVERDUE, REASONS["feedback"])],
        [*base, escalation(EscalationKind.INACTIVE, REASONS["inactive"])],
        [*base, escalation(EscalationKind.PAUSED_TOO_LONG, REASONS["paused"])],
        [*base, closed(Outcome.COMPLETED, REASONS["ended_paused"])],
    ]


def programme_cases():
    loaded = load_programme(EXAMPLE)
    p = loaded.programme.model_copy(update={"coordinator": loaded.programme.coordinator})
    from domain.calendar import calendar

    f = EventFactory(T0, uuid.uuid4)
    started = start_programme(p, calendar(p), tuple(x.profile() for x in loaded.participants), f)
    hr = (p.coordinator.id,)
    at = T0 + timedelta(days=3)
    proposal = MatchingResult(
        groups=(
            ProposedGroup(
                number=1, mentors=("m1", "m2"), mentees=("a1", "a2"), score=23, explanation=()
            ),
        ),
        unmatched=(
            Unmatched(person_id="a3", role=Role.MENTEE, reason=REASONS["no_room"]),
            Unmatched(person_id="a4", role=Role.MENTOR, reason=REASONS["untrained"]),
        ),
        score=23,
        optimal=True,
    )
    report = ProgrammeReport(
        groups=2,
        meetings_held=9,
        meetings_missed=1,
        feedback={},
        escalations={},
        closures={"completed": 1, "dissolved": 1, "open": 1},
        closure_reasons={},
        unmatched=1,
    )
    events = [
        f.make(
            ProgrammeReminderIssued,
            subject=subject,
            deadline=at,
            offset="P3D",
            scheduled_for=T0,
            recipients=("m1",) if subject == "training" else hr,
        )
        for subject in ("training", "approval")
    ] + [
        f.make(UntrainedMentorsExcluded, persons=("m1", "m2"), recipients=hr),
        f.make(MatchingProposed, result=proposal, approval_due=at, recipients=hr),
        f.make(MatchingProposed, result=proposal, approval_due=None, recipients=hr),
        f.make(ApprovalEscalated, reason=REASONS["approval"], scheduled_for=at, recipients=hr),
        f.make(MilestoneReached, milestone=Milestone.MIDPOINT_SURVEY, recipients=("a1", *hr)),
        f.make(MilestoneReached, milestone=Milestone.CLOSING_INVITATION, recipients=("a1",)),
        f.make(MilestoneReached, milestone=Milestone.PROGRAMME_START, recipients=hr),
        f.make(ProgrammeClosed, report=report, recipients=hr),
        f.make(
            GroupsChecked,
            findings=tuple(
                GroupFinding(relationship_id=f"{p.id}:{n}", status=status, reason="as recorded")
                for n, status in enumerate(GroupStatus, start=1)
            ),
            recipients=hr,
        ),
    ]
    entry = ProgrammeEntry(p.id, "Mentorointi 2026", ZONE, p.coordinator.id)
    return entry, [[started]] + [[started, e] for e in events]


def letters(locale: str) -> list[tuple[str, str, Letter]]:
    """(kind, recipient, letter) of every case, every recipient."""
    stationery = Stationery()
    test_programme = ProgrammeEntry("test", "Mentorointi 2026", ZONE, COORDINATOR)
    pilot, pilot_cases = programme_cases()
    written = []
    for entry, history in [(test_programme, h) for h in relationship_cases()] + [
        (pilot, h) for h in pilot_cases
    ]:
        event = history[-1]
        assert isinstance(event, Notifying)
        contacts = {p: Contact(p, n, f"{p}@example.org", locale) for p, n in NAMES.items()}
        for person in event.recipients:
            o = occasion(event.notification_kind, event, history, entry, contacts)
            written.append((event.notification_kind, person, stationery.write(o, contacts[person])))
    assert {kind for kind, _, _ in written} == set(KINDS)
    return written


def test_every_reason_the_domain_writes_has_a_code():
    assert all(parse(text) is not None for text in REASONS.values())
    assert parse("vacation") is None  # a person's own words are quoted as written


@pytest.mark.parametrize("locale", LOCALES)
def test_letters_have_no_foreign_fragments_nor_raw_ids(locale):
    for kind, person, letter in letters(locale):
        # A link's path is an address, not words in a language.
        text = re.sub(r"https?://\S+", "<link>", f"{letter.subject}\n{letter.body}")
        where = f"{locale} {kind} to {person}:\n{text}"
        assert "None" not in text, where
        assert not RAW_IDS.search(text), f"{RAW_IDS.search(text)} in {where}"
        if locale == "en":
            assert not re.search("[äöåÄÖÅ]", text), where
        else:
            assert not ENGLISH.search(text), f"{ENGLISH.search(text)} in {where}"


@pytest.mark.parametrize(
    ("locale", "group", "last_day", "closing"),
    [
        ("en", "group 3", "June 30, 2027", "on November 15, 2021"),
        ("fi", "ryhmäsi 3", "30. kesäkuuta 2027", "15. marraskuuta 2021"),
        ("sv", "mentorgrupp 3", "30 juni 2027", "den 15 november 2021"),
    ],
)
def test_groups_are_numbered_dates_are_the_days_written_and_the_coordinator_is_no_member(
    locale, group, last_day, closing
):
    written = letters(locale)
    [started] = [w for k, p, w in written if k == "relationship_started" and p == "a1"]
    assert group in started.body and last_day in started.body, started.body
    [to_coordinator] = [
        w for k, p, w in written if k == "relationship_started" and p == COORDINATOR
    ]
    assert started.subject != to_coordinator.subject  # not "your group" for the coordinator
    [invitation] = [w for k, _, w in written if k == "closing_invitation"]
    assert closing in invitation.body, invitation.body
    proposals = [w for k, _, w in written if k == "matching_proposed"]
    asks = proposals[0].body
    assert "Heidi Virta, Emma Berg" in asks and "Sami Salo" in asks
    assert "mentorflow programme approve-matching" in asks
    assert "mentorflow programme approve-matching" not in proposals[1].body  # automatic


@pytest.mark.parametrize("locale", LOCALES)
def test_participants_letters_end_with_the_coordinator_and_the_guide(locale):
    from activities.mail import letters as module

    started = relationship_cases()[0]
    entry = ProgrammeEntry("test", "Mentorointi 2026", ZONE, COORDINATOR)
    contacts = {p: Contact(p, n, f"{p}@example.org", locale) for p, n in NAMES.items()}
    o = occasion("relationship_started", started[0], started, entry, contacts)
    guide = "https://mentoring.example.org/guide"
    letter = Stationery(guide_url=guide).write(o, contacts["a1"])
    footer = letter.body.split("\n-- \n")[1]
    assert NAMES[COORDINATOR] in footer and footer.endswith(f"{guide}\n")
    assert footer.split("\n")[0] == module.FOOTERS[locale][0].format(coordinator=NAMES[COORDINATOR])
    to_coordinator = Stationery(guide_url=guide).write(o, contacts[COORDINATOR])
    assert "\n-- \n" not in to_coordinator.body


def test_a_new_member_gets_the_planned_meeting_s_invitation_and_the_others_a_notice():
    """The newcomer's welcome carries the group's planned meeting (they are an attendee now);
    the others' notice carries none: their meeting stands."""
    added = [(p, w) for k, p, w in letters("en") if k == "member_added"]
    invites = {p: w.invite for p, w in added}
    assert set(invites) == {"a4", "m1", "m2", "a1", "a2", COORDINATOR}
    newcomer = invites.pop("a4")
    assert newcomer is not None and newcomer.method.value == "REQUEST"
    assert "a4@example.org" in {a.email for a in newcomer.attendees}
    assert "a3@example.org" not in {a.email for a in newcomer.attendees}
    assert set(invites.values()) == {None}
    [welcome] = [w for p, w in added if p == "a4"]
    assert "The attached invitation adds the group's next meeting" in welcome.body
