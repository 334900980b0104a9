"""The pure domain: durations, the schedule, the rules and the fold, with literal times."""

import itertools
from datetime import timedelta
from uuid import UUID

import pytest
from pydantic import ValidationError

from domain import durations
from domain.envelope import Outcome
from domain.errors import InvalidHistory, RuleViolation
from domain.factory import EventFactory
from domain.policy import RelationshipPolicy
from domain.relationship.commands import (
    Pause,
    RecordAgreement,
    RecordMeeting,
    ResolveEscalation,
    Resume,
    SubmitFeedback,
    Withdraw,
    decide,
    start,
)
from domain.relationship.events import (
    EscalationKind,
    EscalationRaised,
    EscalationResolved,
    FeedbackRound,
    ReminderIssued,
    Resolution,
)
from domain.relationship.fold import apply, fold
from domain.relationship.schedule import due_events, next_wakeup
from domain.relationship.state import MeetingStatus, RelationshipState
from tests.builders import COORDINATOR, spec, utc

START = utc(2026, 1, 1, 9)
END = utc(2027, 1, 1, 9)


class Clock:
    """Drives a relationship through the pure schedule, as the workflow does with timers."""

    def __init__(self, policy: RelationshipPolicy | None = None, end=END):
        self._ids = (UUID(int=n) for n in itertools.count(1))
        self.events = [start(spec("r", START, end, policy), self.factory(START))]
        self.state = fold(self.events)

    def factory(self, now, actor="system"):
        return EventFactory(now, lambda: next(self._ids), actor=actor)

    def run_until(self, until):
        while (wake := next_wakeup(self.state)) is not None and wake <= until:
            self._record(due_events(self.state, self.factory(wake)))

    def act(self, now, command):
        self.run_until(now)
        self._record(decide(self.state, command, self.factory(now, actor=command.by)))

    def _record(self, events):
        self.events += events
        self.state = apply(self.state, events)


def test_months_are_calendar_months_counted_from_the_anchor():
    """Meeting n is anchor + n months, so Jan 31 gives Feb 28 and then Mar 31, without drift."""
    jan31 = utc(2026, 1, 31)
    assert durations.add(jan31, "P1M") == utc(2026, 2, 28)
    assert durations.add(jan31, "P1M", 2) == utc(2026, 3, 31)
    assert durations.add(jan31, "PT30S") == utc(2026, 1, 31, 0, 0, 30)


@pytest.mark.parametrize("bad", ["1 month", "P", "-P1D", "PT0S", ""])
def test_policy_refuses_what_is_not_a_positive_iso_duration(bad):
    """A policy with a malformed or non-positive duration is refused with the text named."""
    with pytest.raises(ValidationError, match=r"ISO-8601|positive"):
        RelationshipPolicy(cadence=bad)


def test_a_silent_year_fires_every_reminder_and_escalation_at_its_policy_time():
    """With nobody acting, every deadline gets its reminders and escalation; the group closes."""
    clock = Clock()
    clock.run_until(END)
    reminders = [
        (e.subject, e.offset, e.occurred_at) for e in clock.events if isinstance(e, ReminderIssued)
    ]
    agreement_due = START + timedelta(days=30)
    assert reminders[:2] == [
        ("agreement", "P3D", agreement_due - timedelta(days=3)),
        ("meeting:1", "P3D", utc(2026, 1, 29, 9)),
    ]
    escalations = [
        (e.kind, e.subject, e.occurred_at) for e in clock.events if isinstance(e, EscalationRaised)
    ]
    assert escalations[0] == ("agreement_overdue", "agreement", agreement_due + timedelta(days=7))
    # Meetings 1 and 2 missed (7 days' grace after each due date): at risk once, not again.
    assert escalations[1] == ("inactive", "inactive:meeting:2", utc(2026, 3, 8, 9))
    assert [e[1] for e in escalations[2:]] == ["feedback:midpoint", "feedback:final"]
    assert clock.state.closure.outcome == Outcome.COMPLETED
    assert clock.state.closure.closed_at == END
    assert fold(clock.events) == clock.state


def test_reminders_go_only_to_those_who_have_not_answered():
    """A feedback reminder names the members still missing, and the escalation lists only them."""
    clock = Clock()
    midpoint = clock.state.feedback[FeedbackRound.MIDPOINT]
    for person in ("m1", "m2", "a1", "a2"):
        clock.act(
            midpoint.opens_at + timedelta(days=1),
            SubmitFeedback(by=person, round="midpoint", answers={"q": "ok"}),
        )
    clock.run_until(END)
    midpoint_reminders = [
        e
        for e in clock.events
        if isinstance(e, ReminderIssued) and e.subject == "feedback:midpoint"
    ]
    assert [e.recipients for e in midpoint_reminders] == [("a3",), ("a3",)]
    [escalation] = [
        e
        for e in clock.events
        if isinstance(e, EscalationRaised) and e.subject == "feedback:midpoint"
    ]
    assert escalation.persons == ("a3",)
    assert escalation.recipients == (COORDINATOR,)


def test_pause_moves_every_deadline_ahead_by_its_length():
    """Ten days paused: the agreement due date and the next meeting move ten days; the end does
    not (a group never ends after its programme)."""
    clock = Clock()
    before = clock.state.model_copy(deep=True)
    clock.act(START + timedelta(days=5), Pause(by="m1", reason="summer"))
    # While paused only the escalation of a pause too long (P60D) and the end can fire.
    assert next_wakeup(clock.state) == START + timedelta(days=65)
    clock.act(START + timedelta(days=15), Resume(by="m1"))
    assert clock.state.agreement.due_at == before.agreement.due_at + timedelta(days=10)
    assert clock.state.meetings[0].due_at == utc(2026, 2, 1, 9) + timedelta(days=10)
    assert clock.state.ends_at == END


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (RecordAgreement(by="stranger", goals=("g",), agreement="x"), "not_a_member"),
        (RecordMeeting(by="m1", held_on=utc(2026, 3, 1).date(), attendees=("m1",)), "future_date"),
        (
            RecordMeeting(by="m1", held_on=utc(2025, 12, 1).date(), attendees=("m1",)),
            "before_start",
        ),
        (
            RecordMeeting(by="m1", held_on=utc(2026, 1, 10).date(), attendees=("zz",)),
            "not_a_member",
        ),
        (RecordMeeting(by="m1", held_on=utc(2026, 1, 10).date()), "invalid_attendance"),
        (SubmitFeedback(by="a1", round="midpoint", answers={"q": "a"}), "round_not_open"),
        (Withdraw(person_id="a1", by="a2", reason="no"), "not_allowed"),
        (Resume(by="m1"), "not_paused"),
    ],
)
def test_rule_violations_are_refused_with_their_code(command, code):
    """Each broken rule is refused with a stable code, before anything is recorded."""
    clock = Clock()
    clock.run_until(START + timedelta(days=14))
    with pytest.raises(RuleViolation) as refused:
        decide(clock.state, command, clock.factory(START + timedelta(days=14), actor=command.by))
    assert refused.value.code == code


def test_duplicates_and_closed_rounds_are_refused():
    """A second agreement, a second answer and an answer to a closed round are refused."""
    clock = Clock()
    clock.act(START + timedelta(days=2), RecordAgreement(by="m1", goals=("g",), agreement="x"))
    with pytest.raises(RuleViolation, match="already recorded"):
        clock.act(START + timedelta(days=3), RecordAgreement(by="m2", goals=("g",), agreement="y"))
    opens = clock.state.feedback[FeedbackRound.MIDPOINT].opens_at
    clock.act(opens, SubmitFeedback(by="a1", round="midpoint", answers={"q": "a"}))
    with pytest.raises(RuleViolation) as duplicate:
        clock.act(opens, SubmitFeedback(by="a1", round="midpoint", answers={"q": "b"}))
    assert duplicate.value.code == "duplicate"
    final_opens = clock.state.feedback[FeedbackRound.FINAL].opens_at
    with pytest.raises(RuleViolation) as closed:
        clock.act(final_opens, SubmitFeedback(by="a2", round="midpoint", answers={"q": "c"}))
    assert closed.value.code == "round_closed"


def test_late_answers_are_accepted_and_marked_late():
    """An answer after the round's due date is recorded, marked late."""
    clock = Clock()
    due = clock.state.feedback[FeedbackRound.MIDPOINT].due_at
    clock.act(
        due + timedelta(days=2), SubmitFeedback(by="a1", round="midpoint", answers={"q": "a"})
    )
    assert clock.state.feedback[FeedbackRound.MIDPOINT].answers["a1"].late is True


def test_withdrawal_below_minimum_dissolves_the_group():
    """The last mentor leaving a group whose minimum is one mentor dissolves it, with the reason."""
    clock = Clock(RelationshipPolicy(min_mentors=2))
    clock.act(
        START + timedelta(days=3),
        Withdraw(person_id="m2", by="m2", reason="moved to another agency"),
    )
    assert clock.state.closure.outcome == Outcome.DISSOLVED
    assert "m2 withdrew" in clock.state.closure.reason
    assert clock.state.members["m2"].withdrawal_reason == "moved to another agency"
    with pytest.raises(RuleViolation, match="closed"):
        decide(
            clock.state, RecordAgreement(by="m1", goals=("g",), agreement="x"), clock.factory(START)
        )


def test_two_meetings_not_held_mark_the_group_at_risk_and_a_held_one_clears_it():
    """Missed meetings in a row reach the threshold: at risk and one escalation; held resets."""
    clock = Clock()
    clock.run_until(utc(2026, 3, 8, 9))
    assert clock.state.at_risk
    assert [m.status for m in clock.state.meetings[:2]] == [MeetingStatus.MISSED] * 2
    clock.act(
        utc(2026, 3, 20, 9),
        RecordMeeting(by="m1", held_on=utc(2026, 3, 20).date(), attendees=("m1", "a1")),
    )
    assert not clock.state.at_risk and clock.state.missed_in_a_row == 0


def test_calendar_too_short_for_its_policy_is_refused():
    """A relationship too short for its agreement and feedback windows cannot start."""
    with pytest.raises(RuleViolation, match="too short"):
        Clock(end=START + timedelta(days=40))


def test_fold_refuses_a_history_that_does_not_begin_with_the_start():
    """An auditor's fold over a stream missing its first event fails loudly."""
    clock = Clock()
    with pytest.raises(InvalidHistory):
        fold(clock.events[1:])
    assert isinstance(fold(clock.events), RelationshipState)


# ---- resolving an escalation ------------------------------------------------------------------


def test_the_coordinator_acknowledges_an_open_escalation_with_a_note_and_it_is_closed():
    """Open until resolved; only the coordinator; once; never raised again for its subject."""
    clock = Clock()
    clock.run_until(START + timedelta(days=38))  # the agreement was due on day 30, escalated on 37
    [(number, open_one)] = clock.state.open_escalations()
    assert (number, open_one.kind, open_one.subject) == (1, "agreement_overdue", "agreement")
    assert open_one.reason and open_one.open
    now = START + timedelta(days=39)
    member = ResolveEscalation(by="m1", escalation=1, note="handled it")
    with pytest.raises(RuleViolation) as refused:
        clock.act(now, member)
    assert refused.value.code == "not_allowed"
    with pytest.raises(RuleViolation) as unknown:
        clock.act(now, ResolveEscalation(by=COORDINATOR, escalation=2, note="x"))
    assert unknown.value.code == "no_such_escalation"

    clock.act(now, ResolveEscalation(by=COORDINATOR, escalation=1, note="  Talked to them  "))
    resolved = clock.events[-1]
    assert isinstance(resolved, EscalationResolved)
    assert (resolved.actor, resolved.occurred_at, resolved.number) == (COORDINATOR, now, 1)
    assert (resolved.kind, resolved.subject) == (EscalationKind.AGREEMENT_OVERDUE, "agreement")
    assert (resolved.how, resolved.note) == (Resolution.ACKNOWLEDGED, "Talked to them")
    assert clock.state.open_escalations() == []
    [kept] = clock.state.escalations
    assert (kept.resolved_at, kept.resolved_by, kept.note) == (now, COORDINATOR, "Talked to them")
    assert fold(clock.events) == clock.state  # the auditor's fold agrees with the workflow's

    with pytest.raises(RuleViolation) as again:
        clock.act(now, ResolveEscalation(by=COORDINATOR, escalation=1, note="again"))
    assert again.value.code == "escalation_resolved"
    clock.run_until(START + timedelta(days=60))
    agreement = [e for e in clock.events if isinstance(e, EscalationRaised)]
    assert [e.subject for e in agreement].count("agreement") == 1


def test_a_pause_too_long_is_resolved_while_the_group_is_paused():
    """The pause's escalation is for the coordinator to answer while it lasts."""
    clock = Clock()
    clock.act(START + timedelta(days=1), Pause(by="m1", reason="summer"))
    clock.run_until(START + timedelta(days=62))
    [(number, paused)] = clock.state.open_escalations()
    assert paused.kind == EscalationKind.PAUSED_TOO_LONG
    with pytest.raises(RuleViolation) as refused:
        clock.act(START + timedelta(days=62), RecordAgreement(by="m1", goals=("g",), agreement="a"))
    assert refused.value.code == "paused"
    clock.act(
        START + timedelta(days=62),
        ResolveEscalation(by=COORDINATOR, escalation=number, note="on leave, agreed"),
    )
    assert clock.state.open_escalations() == []
    assert clock.state.paused_since is not None  # acknowledging changes nothing else


def test_a_resolution_needs_a_note_and_a_recorded_escalation():
    """Bad input is refused before any rule runs; a history resolving nothing is invalid."""
    with pytest.raises(ValidationError):
        ResolveEscalation(by=COORDINATOR, escalation=1, note="   ")
    with pytest.raises(ValidationError):
        ResolveEscalation(by=COORDINATOR, escalation=0, note="x")
    clock = Clock()
    stray = clock.factory(START + timedelta(days=1), COORDINATOR).make(
        EscalationResolved,
        number=1,
        kind=EscalationKind.INACTIVE,
        subject="inactive:meeting:1",
        how=Resolution.ACKNOWLEDGED,
        note="x",
    )
    with pytest.raises(InvalidHistory, match="escalation 1 was never raised"):
        apply(clock.state, [stray])


@pytest.mark.parametrize("rid", ["pilot-2020:3", "web-1a2b3c4d", "hel:1", "a.b_c:10"])
def test_a_relationship_id_fits_one_url_segment(rid):
    assert spec(rid, START, START + timedelta(days=30)).relationship_id == rid


@pytest.mark.parametrize("rid", ["pilot/3", "", "a b", ":1", "ryhmä:1", "x" * 201, "%2F"])
def test_a_relationship_id_a_page_could_not_reach_is_refused(rid):
    """A "/" would split the group's page URL (FastAPI decodes %2F before routing)."""
    with pytest.raises(ValidationError, match="relationship_id"):
        spec(rid, START, START + timedelta(days=30))
