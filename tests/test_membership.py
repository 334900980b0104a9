"""What resolves an escalation besides a note: replacing or adding a member, extending a
deadline, dissolving the group (the pure domain, with literal times)."""

from datetime import date, datetime, timedelta

import pytest

from domain.calendar import zone_offsets
from domain.envelope import Outcome
from domain.errors import RuleViolation
from domain.localtime import local_date
from domain.model import Authority, Member, Role
from domain.policy import RelationshipPolicy
from domain.relationship.commands import (
    AddMember,
    Dissolve,
    ExtendDeadline,
    RecordAgreement,
    ResolveEscalation,
    SubmitFeedback,
)
from domain.relationship.events import (
    DeadlineExtended,
    EscalationRaised,
    EscalationResolved,
    FeedbackRound,
    MemberAdded,
    MemberWithdrew,
    RelationshipClosed,
    ReminderIssued,
    Resolution,
)
from domain.relationship.fold import fold
from tests.builders import COORDINATOR, group
from tests.test_domain import END, START, Clock

A4 = Member(person_id="a4", role=Role.MENTEE)
ESCALATED = START + timedelta(days=38)  # the agreement was due on day 30, escalated on day 37


def test_the_coordinator_replaces_a_member_and_the_newcomer_is_expected_from_then_on():
    """One change: the replaced member leaves, the new one joins and is welcomed, the
    escalation is resolved; the newcomer's feedback is then asked for, reminded and missed."""
    clock = Clock()
    clock.run_until(ESCALATED)
    [(number, _)] = clock.state.open_escalations()
    before = len(clock.events)
    replace = AddMember(
        by=COORDINATOR, member=A4, replaces="a3", reason="  a3 moved abroad ", escalation=number
    )
    clock.act(ESCALATED, replace)
    withdrew, added, resolved = clock.events[before:]
    assert isinstance(withdrew, MemberWithdrew) and withdrew.person_id == "a3"
    assert isinstance(added, MemberAdded)
    assert (added.person_id, added.role, added.replaces, added.reason) == (
        "a4",
        Role.MENTEE,
        "a3",
        "a3 moved abroad",
    )
    assert added.actor == COORDINATOR
    assert set(added.recipients) == {"a4", "m1", "m2", "a1", "a2", COORDINATOR}
    assert isinstance(resolved, EscalationResolved) and resolved.how == Resolution.MEMBER_REPLACED
    assert clock.state.active_members() == ["m1", "m2", "a1", "a2", "a4"]
    assert clock.state.members["a4"].joined_at == ESCALATED
    assert clock.state.members["a4"].replaced == "a3"
    assert clock.state.open_escalations() == []
    assert fold(clock.events) == clock.state

    midpoint = clock.state.feedback[FeedbackRound.MIDPOINT]
    for hours, person in enumerate(("m1", "m2", "a1", "a2"), start=1):
        clock.act(
            midpoint.opens_at + timedelta(hours=hours),
            SubmitFeedback(by=person, round=FeedbackRound.MIDPOINT, answers={"q": "fine"}),
        )
    clock.run_until(midpoint.due_at + timedelta(days=8))
    reminded = [
        e
        for e in clock.events
        if isinstance(e, ReminderIssued) and e.subject == "feedback:midpoint"
    ]
    assert reminded and all(e.recipients == ("a4",) for e in reminded)
    [missing] = [
        e for e in clock.events if isinstance(e, EscalationRaised) and e.subject.startswith("feed")
    ]
    assert missing.persons == ("a4",)


def test_adding_a_member_is_the_coordinators_and_keeps_the_group_whole():
    """Refused: anyone but the coordinator, a member already in the group, replacing someone
    not in it, a change leaving fewer than the policy's minimum of a role or more than its
    maximum, a closed group."""
    clock = Clock(policy=RelationshipPolicy(max_mentees=2))
    clock.events[0] = clock.events[0].model_copy(
        update={"members": group(mentors=("m1",), mentees=("a1", "a2"))}
    )
    clock.state = fold(clock.events)
    now = START + timedelta(days=2)
    refusals = [
        ("not_allowed", AddMember(by="m1", member=A4, reason="x")),
        (
            "already_a_member",
            AddMember(by=COORDINATOR, member=Member(person_id="a1", role=Role.MENTEE), reason="x"),
        ),
        ("not_a_member", AddMember(by=COORDINATOR, member=A4, replaces="a9", reason="x")),
        ("invalid_group", AddMember(by=COORDINATOR, member=A4, replaces="m1", reason="x")),
        ("invalid_group", AddMember(by=COORDINATOR, member=A4, reason="x")),  # a third mentee
        (
            "no_such_escalation",
            AddMember(by=COORDINATOR, member=A4, replaces="a2", reason="x", escalation=1),
        ),
    ]
    for code, command in refusals:
        with pytest.raises(RuleViolation) as refused:
            clock.act(now, command)
        assert refused.value.code == code, code
    clock.act(
        now,
        AddMember(
            by=COORDINATOR,
            member=Member(person_id="m5", role=Role.MENTOR),
            replaces="m1",
            reason="m1 left the company",
        ),
    )
    assert clock.state.active_members(Role.MENTOR) == ["m5"]
    added = clock.events[-1]
    assert isinstance(added, MemberAdded) and added.recipients[0] == "m5"

    clock.act(now, Dissolve(by=COORDINATOR, reason="the unit was closed"))
    closed = clock.events[-1]
    assert isinstance(closed, RelationshipClosed)
    assert (closed.outcome, closed.reason, closed.note, closed.actor) == (
        Outcome.DISSOLVED,
        "dissolved by the coordinator",  # what the programme and its report read
        "the unit was closed",  # the coordinator's words, sealed by the web layer
        COORDINATOR,
    )
    assert set(closed.recipients) == {"m5", "a1", "a2", COORDINATOR}
    with pytest.raises(RuleViolation) as refused:
        clock.act(now, AddMember(by=COORDINATOR, member=A4, reason="x"))
    assert refused.value.code == "relationship_closed"


def test_dissolving_resolves_the_escalation_it_answers():
    clock = Clock()
    clock.run_until(ESCALATED)
    with pytest.raises(RuleViolation) as refused:
        clock.act(ESCALATED, Dissolve(by="m1", reason="x", escalation=1))
    assert refused.value.code == "not_allowed"
    clock.act(ESCALATED, Dissolve(by=COORDINATOR, reason="never met", escalation=1))
    resolved, closed = clock.events[-2:]
    assert isinstance(resolved, EscalationResolved) and resolved.how == Resolution.DISSOLVED
    assert isinstance(closed, RelationshipClosed) and closed.outcome == Outcome.DISSOLVED
    assert clock.state.closed and clock.state.open_escalations() == []
    assert fold(clock.events) == clock.state


@pytest.mark.parametrize("zone", ["Europe/Helsinki", "America/New_York"])
def test_an_extended_agreement_deadline_is_reminded_of_and_escalated_again(zone):
    """The new due date is a local date, at the old deadline's local time of day (across a DST
    change); its reminders and escalation follow it, and nothing fires at the old times."""
    clock = Clock()
    offsets = zone_offsets(zone, START, END)
    clock.events[0] = clock.events[0].model_copy(update={"zone": offsets})
    clock.state = fold(clock.events)
    clock.run_until(ESCALATED)
    old_due = clock.state.agreement.due_at
    until = date(2026, 4, 6)  # after both zones' spring change
    bad_dates = (
        ("not_later", local_date(old_due, offsets)),
        ("in_the_past", local_date(ESCALATED - timedelta(days=2), offsets)),
        ("too_late", END.date()),
    )
    for code, bad_date in bad_dates:
        with pytest.raises(RuleViolation) as refused:
            clock.act(
                ESCALATED,
                ExtendDeadline(by=COORDINATOR, deadline="agreement", until=bad_date, reason="x"),
            )
        assert refused.value.code == code
    clock.act(
        ESCALATED,
        ExtendDeadline(
            by=COORDINATOR, deadline="agreement", until=until, reason="holidays", escalation=1
        ),
    )
    extended, resolved = clock.events[-2:]
    assert isinstance(extended, DeadlineExtended) and isinstance(resolved, EscalationResolved)
    assert resolved.how == Resolution.DEADLINE_EXTENDED
    new_due = clock.state.agreement.due_at
    assert (extended.previous_due_at, extended.due_at) == (old_due, new_due)
    assert offsets.to_local(new_due).date() == until
    assert offsets.to_local(new_due).time() == offsets.to_local(old_due).time()
    assert fold(clock.events) == clock.state

    since = len(clock.events)
    clock.run_until(new_due + timedelta(days=8))
    later = clock.events[since:]
    reminders = [e for e in later if isinstance(e, ReminderIssued) and e.subject == "agreement"]
    assert [r.scheduled_for for r in reminders] == [
        new_due - timedelta(days=3),
        new_due - timedelta(days=1),
    ]
    [again] = [e for e in later if isinstance(e, EscalationRaised) and e.subject == "agreement"]
    assert again.scheduled_for == new_due + timedelta(days=7)
    assert [e.subject for _, e in clock.state.open_escalations()].count("agreement") == 1


def test_a_feedback_deadline_is_extended_only_while_its_round_is_open():
    clock = Clock()
    clock.act(START + timedelta(days=1), RecordAgreement(by="m1", goals=("g",), agreement="a"))
    command = ExtendDeadline(
        by=COORDINATOR, deadline="feedback:midpoint", until=date(2026, 7, 25), reason="x"
    )
    with pytest.raises(RuleViolation) as refused:
        clock.act(START + timedelta(days=2), command)
    assert refused.value.code == "round_not_open"
    midpoint = clock.state.feedback[FeedbackRound.MIDPOINT]
    clock.act(midpoint.opens_at + timedelta(days=1), command)
    assert local_date(clock.state.feedback[FeedbackRound.MIDPOINT].due_at, None) == date(
        2026, 7, 25
    )
    assert isinstance(clock.events[-1], DeadlineExtended)
    assert datetime.combine(date(2026, 7, 25), midpoint.due_at.timetz()) == (
        clock.state.feedback[FeedbackRound.MIDPOINT].due_at
    )


def test_a_member_added_while_a_round_is_open_is_not_counted_missing_from_it():
    """The round was requested before they joined: they were never asked, so they are neither
    reminded of it nor escalated as missing (the members asked are)."""
    clock = Clock()
    clock.act(START + timedelta(days=1), RecordAgreement(by="m1", goals=("g",), agreement="a"))
    midpoint = clock.state.feedback[FeedbackRound.MIDPOINT]
    clock.run_until(midpoint.opens_at + timedelta(hours=1))
    clock.act(
        midpoint.opens_at + timedelta(hours=2), AddMember(by=COORDINATOR, member=A4, reason="r")
    )
    for person in ("m1", "m2", "a1", "a2"):
        clock.act(
            midpoint.opens_at + timedelta(hours=3),
            SubmitFeedback(by=person, round=FeedbackRound.MIDPOINT, answers={"q": "fine"}),
        )
    clock.run_until(midpoint.due_at + timedelta(days=8))
    about_midpoint = [
        e
        for e in clock.events
        if isinstance(e, ReminderIssued | EscalationRaised) and e.subject == "feedback:midpoint"
    ]
    # a3 was asked and did not answer: reminded and escalated; a4 never appears.
    assert about_midpoint and all("a4" not in e.recipients for e in about_midpoint)
    escalated = [e for e in about_midpoint if isinstance(e, EscalationRaised)]
    assert [e.persons for e in escalated] == [("a3",)]


def test_an_overdue_deadline_is_resolved_by_extending_that_deadline_only():
    """The agreement's escalation is not answered by moving the open midpoint round's deadline:
    it would stay escalated for good. And no new date beyond the group's end."""
    clock = Clock()
    midpoint = clock.state.feedback[FeedbackRound.MIDPOINT]
    now = midpoint.opens_at + timedelta(hours=1)
    clock.run_until(now)
    [number] = [n for n, e in clock.state.open_escalations() if e.subject == "agreement"]
    other = ExtendDeadline(
        by=COORDINATOR,
        deadline="feedback:midpoint",
        until=local_date(midpoint.due_at, None) + timedelta(days=3),
        reason="x",
        escalation=number,
    )
    with pytest.raises(RuleViolation) as refused:
        clock.act(now, other)
    assert refused.value.code == "escalation_mismatch"
    clock.act(now, other.model_copy(update={"escalation": None}))  # the round's own: fine
    far = ExtendDeadline(by=COORDINATOR, deadline="agreement", until=date(9999, 12, 31), reason="x")
    with pytest.raises(RuleViolation) as refused:
        clock.act(now, far)
    assert refused.value.code == "too_late"


def test_an_admin_resolves_an_escalation_under_their_own_id_and_nobody_else_does():
    """A staff admin's authority is accepted (the event names the admin's staff id); the staff
    id without it (another programme's coordinator) and the authority for a member's id are
    refused, for every coordinator-only change."""
    clock = Clock()
    clock.run_until(ESCALATED)
    admin = "staff:s-admin"
    refused_commands = [
        ResolveEscalation(by=admin, escalation=1, note="called them"),
        ResolveEscalation(by="m1", authority=Authority.ADMIN, escalation=1, note="x"),
        AddMember(by=admin, member=A4, reason="x"),
        ExtendDeadline(by=admin, deadline="agreement", until=date(2027, 1, 1), reason="x"),
        Dissolve(by=admin, reason="x"),
    ]
    for command in refused_commands:
        with pytest.raises(RuleViolation) as refused:
            clock.act(ESCALATED, command)
        assert refused.value.code == "not_allowed", command
    clock.act(
        ESCALATED,
        ResolveEscalation(by=admin, authority=Authority.ADMIN, escalation=1, note="called them"),
    )
    resolved = clock.events[-1]
    assert isinstance(resolved, EscalationResolved) and resolved.actor == admin
    assert clock.state.open_escalations() == []
    clock.act(ESCALATED, Dissolve(by=admin, authority=Authority.ADMIN, reason="never met"))
    closed = clock.events[-1]
    assert isinstance(closed, RelationshipClosed) and closed.actor == admin
