"""Planning meetings and their agenda in the pure domain, with literal times: who may plan,
when, the nudge to the mentors, and the invitations each step sends (same UID, higher SEQUENCE,
CANCEL)."""

import uuid
from datetime import timedelta

import pytest
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from activities.mail.invites import Method
from activities.mail.letters import Stationery, occasion
from domain.calendar import zone_offsets
from domain.codec import RELATIONSHIP
from domain.errors import RuleViolation
from domain.relationship.commands import (
    AddAgendaItem,
    CancelMeeting,
    Pause,
    ScheduleMeeting,
    Withdraw,
)
from domain.relationship.events import (
    AgendaItemAdded,
    MeetingCancelled,
    MeetingPlanned,
    ReminderIssued,
    ReminderKind,
)
from domain.relationship.fold import fold
from mentorflow.verify import replay_all_runs
from store.directory import Contact, ProgrammeEntry
from tests.builders import COORDINATOR, SHORT, spec, utc
from tests.temporal_helpers import (
    result_within,
    running_worker,
    sleep_until,
    start_relationship,
    whole_seconds_now,
)
from tests.test_domain import START, Clock
from workflows.messages import workflow_id
from workflows.relationship import RelationshipWorkflow

PLACE = "Room 3, or https://meet.example/abc"
FIRST_DUE = START + timedelta(days=31)  # the default cadence: a month after the start


def schedule(at, by="m1", **kw):
    return ScheduleMeeting(by=by, starts_at=at, place=PLACE, **kw)


def refusal(clock, now, command):
    with pytest.raises(RuleViolation) as e:
        clock.act(now, command)
    return e.value.code


def test_a_mentor_plans_the_next_meeting_with_the_policys_length_and_the_fold_keeps_it():
    """The next open meeting gets the time, the length from the policy (1 h 30), the place; the
    members are told; fold of the stored events gives the same state."""
    clock = Clock()
    clock.act(START + timedelta(days=2), schedule(START + timedelta(days=10)))
    (planned,) = [e for e in clock.events if isinstance(e, MeetingPlanned)]
    assert (planned.number, planned.minutes, planned.place, planned.actor) == (1, 90, PLACE, "m1")
    assert set(planned.recipients) == {"m1", "m2", "a1", "a2", "a3"}
    slot = clock.state.meetings[0]
    assert (slot.starts_at, slot.minutes, slot.planned_by) == (START + timedelta(days=10), 90, "m1")
    assert fold(clock.events) == clock.state


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (schedule(START + timedelta(days=10), by="a1"), "not_a_mentor"),
        (schedule(START + timedelta(days=10), by="nobody"), "not_a_mentor"),
        (schedule(START + timedelta(days=1)), "in_the_past"),
        (schedule(START - timedelta(days=1)), "in_the_past"),
        (schedule(utc(2027, 1, 1, 8, 0)), "outside_programme"),
        (schedule(START + timedelta(days=10), number=7), "no_open_meeting"),
        (CancelMeeting(by="m1"), "not_planned"),
        (CancelMeeting(by="a2"), "not_a_mentor"),
        (AddAgendaItem(by="nobody", text="hi"), "not_a_member"),
    ],
)
def test_refusals_say_why_and_record_nothing(command, code):
    """Not a mentor, a time past or outside the group's dates, no such meeting, none to cancel."""
    clock = Clock()
    clock.run_until(START + timedelta(days=2))
    before = list(clock.events)
    assert refusal(clock, START + timedelta(days=2), command) == code
    assert clock.events == before


def test_a_paused_group_plans_nothing():
    clock = Clock()
    clock.act(START + timedelta(days=1), Pause(by="a1", reason="leave"))
    assert (
        refusal(clock, START + timedelta(days=2), schedule(START + timedelta(days=9))) == "paused"
    )


def test_bad_input_is_refused_before_any_rule():
    """A length out of bounds, an empty place, a naive time: invalid commands."""
    for bad in (
        {"minutes": 5},
        {"minutes": 481},
        {"place": "  "},
        {"starts_at": START.replace(tzinfo=None)},
    ):
        with pytest.raises(ValidationError):
            ScheduleMeeting(**{"by": "m1", "starts_at": START, "place": PLACE, **bad})
    with pytest.raises(ValidationError):
        AddAgendaItem(by="a1", text="x\x00")


def test_moving_the_same_time_again_is_a_duplicate_and_a_cancelled_time_can_be_set_again():
    clock = Clock()
    now = START + timedelta(days=2)
    clock.act(now, schedule(START + timedelta(days=10), minutes=60))
    assert refusal(clock, now, schedule(START + timedelta(days=10), minutes=60)) == "duplicate"
    clock.act(now, schedule(START + timedelta(days=12), minutes=60))
    clock.act(now, CancelMeeting(by="m2"))
    assert clock.state.meetings[0].starts_at is None
    assert [type(e) for e in clock.events[-3:]] == [
        MeetingPlanned,
        MeetingPlanned,
        MeetingCancelled,
    ]
    clock.act(now, schedule(START + timedelta(days=14)))
    assert clock.state.meetings[0].starts_at == START + timedelta(days=14)


def test_agenda_items_belong_to_the_next_open_meeting():
    clock = Clock()
    clock.act(START + timedelta(days=3), AddAgendaItem(by="a1", text="  How to give feedback?  "))
    clock.act(START + timedelta(days=4), AddAgendaItem(by="m2", text="Career paths"))
    items = [(i.number, i.by, i.text) for i in clock.state.agenda]
    assert items == [(1, "a1", "How to give feedback?"), (1, "m2", "Career paths")]
    assert all(isinstance(e, AgendaItemAdded) for e in clock.events[-2:])
    assert fold(clock.events) == clock.state


def test_an_unplanned_meeting_gets_the_mentors_nudge_instead_of_the_preparation_reminder():
    """Rules 3: at the preparation reminder, meeting 1 has no time: the mentors are nudged;
    meeting 2, planned by then, gets the usual preparation reminder."""
    clock = Clock()
    clock.run_until(FIRST_DUE + timedelta(days=1))
    clock.act(FIRST_DUE + timedelta(days=2), schedule(FIRST_DUE + timedelta(days=20), number=2))
    clock.run_until(START + timedelta(days=60))
    sent = [
        (e.subject, e.kind, e.recipients) for e in clock.events if isinstance(e, ReminderIssued)
    ]
    assert ("meeting:1", ReminderKind.MEETING_UNSCHEDULED, ("m1", "m2")) in sent
    assert ("meeting:2", ReminderKind.MEETING_PREPARATION, ("m1", "m2")) in sent
    assert not any(s == "meeting:1" and k == ReminderKind.MEETING_PREPARATION for s, k, _ in sent)


def test_rules_2_keep_the_preparation_reminder():
    """A relationship started under rules 2 (before planning existed) is not nudged."""
    clock = Clock()
    clock.state = clock.state.model_copy(update={"rules": 2})
    clock.run_until(FIRST_DUE)
    kinds = {e.kind for e in clock.events if isinstance(e, ReminderIssued)}
    assert ReminderKind.MEETING_UNSCHEDULED not in kinds


def _letters(history, person):
    entry = ProgrammeEntry("test", "Testiohjelma", "Europe/Helsinki", COORDINATOR)
    contacts = {p: Contact(p, f"Name {p}", f"{p}@example.org", "en") for p in ("m1", "m2", "a3")}
    event = history[-1]
    return Stationery().write(
        occasion(event.notification_kind, event, history, entry, contacts), contacts[person]
    )


def test_invitations_carry_the_planned_time_keep_their_uid_and_count_up_their_sequence():
    """Planned: REQUEST at that time (not the due date); moved: SEQUENCE 1; cancelled: CANCEL
    of the time it had, SEQUENCE 2; a member leaving gets a CANCEL only of a planned time."""
    clock = Clock()
    now = START + timedelta(days=2)
    first_at, moved_at = START + timedelta(days=10), START + timedelta(days=11, hours=3)
    clock.act(now, schedule(first_at, minutes=45))
    at_scheduled = len(clock.events)
    clock.act(now, schedule(moved_at))
    at_moved = len(clock.events)
    clock.act(now, CancelMeeting(by="m2"))
    invites = [
        _letters(clock.events[:n], "m1").invite for n in (at_scheduled, at_moved, len(clock.events))
    ]
    assert all(i is not None for i in invites)
    assert [i.method for i in invites] == [Method.REQUEST, Method.REQUEST, Method.CANCEL]
    assert len({i.uid for i in invites}) == 1
    assert [i.sequence for i in invites] == [0, 1, 2]
    assert [i.starts_at for i in invites] == [first_at, moved_at, moved_at]
    assert invites[0].length == timedelta(minutes=45)
    assert "Meeting 1" in _letters(clock.events[:at_scheduled], "m1").subject

    clock.act(now, schedule(first_at))
    clock.act(now, Withdraw(person_id="a3", by="a3", reason="new job"))
    leaving = _letters(clock.events[: clock.events.index(clock.events[-1]) + 1], "a3").invite
    assert leaving is not None and leaving.method is Method.CANCEL and leaving.sequence == 4


def test_the_cycles_due_date_sends_no_invitation_any_more():
    clock = Clock()
    clock.run_until(START)
    scheduled = next(e for e in clock.events if e.type == "meeting_scheduled")
    history = clock.events[: clock.events.index(scheduled) + 1]
    assert _letters(history, "m1").invite is None


def test_a_wall_clock_time_in_helsinki_is_the_instant_of_its_own_offset_across_dst():
    """14:00 in Helsinki is 12:00 UTC in winter and 11:00 UTC in summer; in Los Angeles
    (west of UTC) 14:00 is 22:00 UTC in winter and 21:00 in summer."""
    from datetime import datetime

    helsinki = zone_offsets("Europe/Helsinki", START, START + timedelta(days=365))
    la = zone_offsets("America/Los_Angeles", START, START + timedelta(days=365))
    assert helsinki.from_local(datetime(2026, 1, 20, 14)) == utc(2026, 1, 20, 12)
    assert helsinki.from_local(datetime(2026, 6, 20, 14)) == utc(2026, 6, 20, 11)
    assert la.from_local(datetime(2026, 1, 20, 14)) == utc(2026, 1, 20, 22)
    assert la.from_local(datetime(2026, 6, 20, 14)) == utc(2026, 6, 20, 21)


async def test_the_workflow_plans_nudges_and_replays(mail, env, pool, store):
    """On Temporal: a mentee's plan is refused by the Update's validator (nothing written);
    meeting 1, never planned, nudges the mentors; meeting 2, planned by m2, gets the preparation
    reminder; the agenda item is stored with its author; every run replays."""
    rid = f"plan-{uuid.uuid4()}"
    starts = await whole_seconds_now(env)
    async with running_worker(env.client, pool, mail) as task_queue:
        handle = await start_relationship(
            env, task_queue, spec(rid, starts, starts + timedelta(days=60), SHORT)
        )
        await sleep_until(env, starts + timedelta(days=1))
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                RelationshipWorkflow.schedule_meeting, schedule(starts + timedelta(days=3), "a1")
            )
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.type == "not_a_mentor"
        await handle.execute_update(
            RelationshipWorkflow.add_agenda_item, AddAgendaItem(by="a2", text="Salary talks")
        )
        await sleep_until(env, starts + timedelta(days=8))
        plan = schedule(starts + timedelta(days=12), "m2", number=2)
        await handle.execute_update(RelationshipWorkflow.schedule_meeting, plan)
        await sleep_until(env, starts + timedelta(days=15))
        state = await handle.query(RelationshipWorkflow.state)
        await handle.execute_update(
            RelationshipWorkflow.withdraw, Withdraw(person_id="m1", by="m1", reason="moved")
        )
        await result_within(handle)
        await replay_all_runs(env.client, handle)

    events = [RELATIONSHIP.decode(r) for r in await store.read_stream(workflow_id(rid))]
    assert events[0].rules == 3
    reminders = {e.subject: e.kind for e in events if isinstance(e, ReminderIssued)}
    assert reminders["meeting:1"] == ReminderKind.MEETING_UNSCHEDULED
    assert reminders["meeting:2"] == ReminderKind.MEETING_PREPARATION
    assert [(e.actor, e.number) for e in events if isinstance(e, MeetingPlanned)] == [("m2", 2)]
    assert [(e.actor, e.text) for e in events if isinstance(e, AgendaItemAdded)] == [
        ("a2", "Salary talks")
    ]
    assert state.meetings[1].planned_by == "m2"
    assert fold(events).agenda[0].text == "Salary talks"


def test_the_pages_read_a_wall_clock_time_in_the_programmes_zone_west_of_utc_too():
    """A group without zone offsets (started before they were carried) reads the programme's
    zone: 14:00 in Los Angeles is 22:00 UTC in winter and 21:00 UTC in summer."""
    from datetime import datetime

    from mentorflow.web.pages import Dates

    la, helsinki = Dates("America/Los_Angeles", "en"), Dates("Europe/Helsinki", "fi")
    assert la.from_local(datetime(2026, 1, 20, 14)) == utc(2026, 1, 20, 22)
    assert la.from_local(datetime(2026, 6, 20, 14)) == utc(2026, 6, 20, 21)
    assert helsinki.from_local(datetime(2026, 3, 29, 12)) == utc(2026, 3, 29, 9)
