"""The programme's pure rules with literal times: training, enrolment, approval, milestones."""

import itertools
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from domain.calendar import calendar
from domain.errors import RuleViolation
from domain.factory import EventFactory
from domain.matching import match
from domain.model import Authority
from domain.programme.commands import (
    ApproveMatching,
    Enrol,
    MarkTrained,
    Remove,
    UpdateProfile,
    decide,
    matching_rules,
    proposal_events,
    start,
)
from domain.programme.events import Milestone
from domain.programme.fold import apply, fold
from domain.programme.model import Closing, Coordinator, Matching, Programme, Training
from domain.programme.schedule import Action, due_events, next_action, next_wakeup
from mentorflow.synthetic import cohort

STARTED = datetime(2026, 5, 1, 12, tzinfo=UTC)


def pilot(approval: str = "coordinator") -> Programme:
    return Programme(
        id="p1",
        name="Pilot",
        timezone="Europe/Helsinki",
        starts_on=date(2026, 9, 1),
        ends_on=date(2027, 5, 31),
        coordinator=Coordinator(id="hr1", name="Pia", email="pia@example.org"),
        training=Training(deadline=date(2026, 8, 31)),
        matching=Matching(runs_on=date(2026, 9, 1), approval=approval),
        closing=Closing(event_on=date(2027, 5, 20)),
    )


class ProgrammeRun:
    """Drives a programme through its schedule, doing the workflow's I/O steps inline."""

    def __init__(self, p: Programme, people=None, started=STARTED):
        self._ids = (UUID(int=n) for n in itertools.count(1))
        people = people or [x.profile() for x in cohort(6, 10, seed=1, trained_share=0.5)]
        self.events = [start(p, calendar(p), tuple(people), self.factory(started))]
        self.state = fold(self.events)

    def factory(self, now, actor="system"):
        return EventFactory(now, lambda: next(self._ids), actor=actor)

    def run_until(self, until):
        while (wake := next_wakeup(self.state)) is not None and wake <= until:
            self._record(due_events(self.state, self.factory(wake)))
            action = next_action(self.state)
            if action and action[1] == Action.MATCH and action[0] <= wake:
                result = match(self.state.participants.values(), matching_rules(self.state))
                self._record(proposal_events(self.state, result, self.factory(wake)))
            elif action and action[0] <= wake:
                return  # launching and closing need Temporal: the workflow tests cover them

    def act(self, now, command):
        self.run_until(now)
        self._record(decide(self.state, command, self.factory(now, actor=command.by)))

    def _record(self, events):
        self.events += events
        self.state = apply(self.state, events)

    def of_type(self, type_):
        return [e for e in self.events if e.type == type_]


def test_training_reminders_go_to_untrained_mentors_before_the_deadline():
    """P3D and P1D before the end of the deadline day (Helsinki), only to those not trained."""
    run = ProgrammeRun(pilot())
    untrained = tuple(run.state.untrained_mentors())
    run.act(
        datetime(2026, 8, 29, 12, tzinfo=UTC),
        MarkTrained(by="hr1", person_id=untrained[0], trained_on=date(2026, 8, 29)),
    )
    run.run_until(datetime(2026, 9, 2, tzinfo=UTC))
    deadline = datetime(2026, 8, 31, 21, tzinfo=UTC)  # 2026-09-01 00:00 in Helsinki (UTC+3)
    reminders = [
        (e.offset, e.scheduled_for, e.recipients) for e in run.of_type("programme_reminder_issued")
    ]
    assert reminders == [
        ("P3D", deadline - timedelta(days=3), untrained),
        ("P1D", deadline - timedelta(days=1), untrained[1:]),
    ]
    [excluded] = run.of_type("untrained_mentors_excluded")
    assert excluded.persons == untrained[1:] and excluded.recipients == ("hr1",)
    assert run.state.phase == "approval" and run.state.proposal is not None
    assert not set(excluded.persons) & {m for g in run.state.proposal.groups for m in g.mentors}


def test_reminders_due_before_the_programme_existed_are_not_sent_late():
    """Started a day before the training deadline: the P3D reminder is not sent late, P1D is."""
    people = [x.profile() for x in cohort(4, 6, seed=1, trained_share=0.0)]
    run = ProgrammeRun(pilot(), people, started=datetime(2026, 8, 30, 12, tzinfo=UTC))
    run.run_until(datetime(2026, 9, 2, tzinfo=UTC))
    assert [e.offset for e in run.of_type("programme_reminder_issued")] == ["P1D"]


@pytest.mark.parametrize(
    ("when", "command", "code"),
    [
        (
            datetime(2026, 8, 1, tzinfo=UTC),
            Enrol(by="m1", profile=cohort(1, 0)[0].profile()),
            "not_allowed",
        ),
        (
            datetime(2026, 8, 1, tzinfo=UTC),
            Enrol(by="hr1", profile=cohort(1, 0)[0].profile()),
            "duplicate",
        ),
        (
            datetime(2026, 8, 1, tzinfo=UTC),
            Remove(by="hr1", person_id="zz", reason="left"),
            "not_a_participant",
        ),
        (
            datetime(2026, 8, 1, tzinfo=UTC),
            MarkTrained(by="hr1", person_id="a1", trained_on=date(2026, 7, 1)),
            "not_a_mentor",
        ),
        (
            datetime(2026, 8, 1, tzinfo=UTC),
            MarkTrained(by="hr1", person_id="m1", trained_on=date(2026, 9, 1)),
            "future_date",
        ),
        (
            datetime(2026, 9, 5, tzinfo=UTC),
            MarkTrained(by="hr1", person_id="m1", trained_on=date(2026, 9, 1)),
            "training_closed",
        ),
        (
            datetime(2026, 9, 5, tzinfo=UTC),
            Remove(by="hr1", person_id="a1", reason="left"),
            "matching_done",
        ),
        (datetime(2026, 8, 1, tzinfo=UTC), ApproveMatching(by="hr1"), "nothing_to_approve"),
    ],
)
def test_coordinator_commands_are_refused_with_their_code(when, command, code):
    run = ProgrammeRun(pilot())
    run.run_until(when)
    with pytest.raises(RuleViolation) as refused:
        decide(run.state, command, run.factory(when, actor=command.by))
    assert refused.value.code == code


def test_an_admin_steers_a_programme_under_their_own_id_and_nobody_else_does():
    """Only the coordinator or a staff admin's authority: the staff id alone is not enough, nor
    an admin's authority for an id that is no staff member's; the event names the admin."""
    run = ProgrammeRun(pilot())
    when = datetime(2026, 8, 1, tzinfo=UTC)
    mark = MarkTrained(by="staff:s-1", person_id="m1", trained_on=date(2026, 7, 1))
    for refused_command in (
        mark,  # a staff member without authority: another programme's coordinator, say
        mark.model_copy(update={"by": "m2", "authority": Authority.ADMIN}),
        ApproveMatching(by="staff:s-1"),
    ):
        with pytest.raises(RuleViolation) as refused:
            run.act(when, refused_command)
        assert refused.value.code == "not_allowed"
    run.act(when, mark.model_copy(update={"authority": Authority.ADMIN}))
    [trained] = run.of_type("mentor_trained")
    assert (trained.person_id, trained.actor) == ("m1", "staff:s-1")
    assert run.state.participants["m1"].trained_on == date(2026, 7, 1)


def test_commands_recorded_before_the_authority_existed_still_parse():
    """An Update's argument in an older history has no ``authority``: it acts as its person."""
    old = MarkTrained.model_validate({"by": "hr1", "person_id": "m1", "trained_on": "2026-07-01"})
    assert old.authority == Authority.PERSON


def test_enrolment_and_removal_before_matching_change_who_is_matched():
    """A mentee enrolled and another removed before matching: the proposal reflects both."""
    run = ProgrammeRun(pilot())
    newcomer = cohort(0, 11, seed=99)[-1].profile().model_copy(update={"id": "a-new"})
    run.act(datetime(2026, 8, 1, tzinfo=UTC), Enrol(by="hr1", profile=newcomer))
    run.act(
        datetime(2026, 8, 2, tzinfo=UTC), Remove(by="hr1", person_id="a1", reason="changed jobs")
    )
    run.run_until(datetime(2026, 9, 2, tzinfo=UTC))
    considered = {p for g in run.state.proposal.groups for p in g.mentees} | {
        u.person_id for u in run.state.proposal.unmatched
    }
    assert "a-new" in considered and "a1" not in considered
    assert run.state.removed == {"a1": "changed jobs"}


def test_a_profile_update_before_matching_replaces_the_profile():
    """An update replaces the profile the matching reads; no-op, future and late ones refused."""
    run = ProgrammeRun(pilot())
    before = run.state.participants["a1"]
    changed = before.model_copy(update={"manager": "boss-new", "goals": ("leadership",)})
    run.act(
        datetime(2026, 8, 1, tzinfo=UTC),
        UpdateProfile(by="hr1", profile=changed, reason="HR import"),
    )
    [updated] = run.of_type("participant_updated")
    assert (updated.reason, updated.actor) == ("HR import", "hr1")
    assert run.state.participants["a1"] == changed
    assert fold(run.events).participants["a1"] == changed
    with pytest.raises(RuleViolation) as same:
        decide(
            run.state,
            UpdateProfile(by="hr1", profile=changed, reason="again"),
            run.factory(datetime(2026, 8, 2, tzinfo=UTC), actor="hr1"),
        )
    assert same.value.code == "unchanged"
    future = changed.model_copy(update={"trained_on": date(2026, 8, 30)})
    with pytest.raises(RuleViolation) as early:
        decide(
            run.state,
            UpdateProfile(by="hr1", profile=future, reason="HR import"),
            run.factory(datetime(2026, 8, 2, tzinfo=UTC), actor="hr1"),
        )
    assert early.value.code == "future_date"
    run.run_until(datetime(2026, 9, 5, tzinfo=UTC))
    with pytest.raises(RuleViolation) as late:
        decide(
            run.state,
            UpdateProfile(by="hr1", profile=before, reason="HR import"),
            run.factory(datetime(2026, 9, 5, tzinfo=UTC), actor="hr1"),
        )
    assert late.value.code == "matching_done"


def test_automatic_approval_and_milestones():
    """Automatic approval: straight to running; then the midpoint survey and closing invitation."""
    run = ProgrammeRun(pilot(approval="automatic"))
    run.run_until(datetime(2026, 9, 2, tzinfo=UTC))
    assert run.state.phase == "running" and run.state.approved == list(run.state.proposal.groups)
    assert next_action(run.state)[1] == Action.LAUNCH
    # Pretend the groups were launched and ended, to let the milestones run on their own.
    run.state = run.state.model_copy(update={"approved": []})
    run.run_until(datetime(2027, 5, 30, tzinfo=UTC))
    milestones = {e.milestone: e.occurred_at for e in run.of_type("milestone_reached")}
    [first_day] = [e for e in run.of_type("milestone_reached") if e.milestone == "programme_start"]
    assert first_day.recipients == (run.state.programme.coordinator.id,)
    # One midpoint e-mail: members hear of it in their group's feedback request.
    [midpoint] = [e for e in run.of_type("milestone_reached") if e.milestone == "midpoint_survey"]
    assert midpoint.recipients == (run.state.programme.coordinator.id,)
    cal = calendar(pilot())
    assert milestones == {
        Milestone.PROGRAMME_START: cal.starts_at,  # the coordinator hears it on the first day
        Milestone.MIDPOINT_SURVEY: cal.midpoint_survey_at,
        Milestone.CLOSING_INVITATION: cal.closing_event_at - timedelta(days=14),
    }
    assert next_action(run.state) == (cal.ends_at, Action.CLOSE)
