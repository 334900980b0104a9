"""People live by local dates: deadlines at local midnights, meetings booked by their local day.

Deadlines are local midnights kept in UTC. The meeting a record belongs to was chosen by the UTC
date of its deadline, so in Helsinki (UTC+2/+3) a meeting recorded on the day its invitation
names went to the next meeting; and monthly cadence was added in UTC, so in summer deadlines
drifted to 01:00 local. Both are now reckoned on the programme's own wall clock, from the zone's
offsets computed outside the workflow (``domain.calendar.zone_offsets``).
"""

import itertools
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest

from domain.calendar import start_of, zone_offsets
from domain.codec import RELATIONSHIP
from domain.factory import EventFactory
from domain.localtime import ZoneOffsets
from domain.relationship import schedule
from domain.relationship.commands import RecordMeeting, decide, start
from domain.relationship.events import MeetingRecorded, MeetingScheduled
from domain.relationship.fold import apply, fold
from domain.relationship.state import RelationshipState
from tests.builders import spec

ZONES = ("Europe/Helsinki", "America/New_York")


def ids():
    counter = itertools.count(1)
    return lambda: uuid.UUID(int=next(counter))


def started_in(
    zone: str, first_day: date, months: int = 12
) -> tuple[RelationshipState, ZoneOffsets]:
    starts = start_of(first_day, zone)
    ends = start_of(first_day.replace(year=first_day.year + months // 12), zone)
    offsets = zone_offsets(zone, starts, ends)
    relationship = spec(f"local-{zone.replace('/', '-')}", starts, ends).model_copy(
        update={"zone": offsets}
    )
    return fold([start(relationship, EventFactory(starts, ids()))]), offsets


def run_until(s: RelationshipState, until: datetime) -> tuple[RelationshipState, list]:
    """Every step the schedule takes up to ``until``, as the workflow would take them."""
    new_id, events = ids(), []
    while (wake := schedule.next_wakeup(s)) is not None and wake <= until:
        due = schedule.due_events(s, EventFactory(wake, new_id))
        s, events = apply(s, due), events + due
    return s, events


@pytest.mark.parametrize("zone", ZONES)
def test_monthly_meetings_fall_due_at_local_midnight_across_both_dst_changes(zone):
    """A year from 15 January: every meeting is due at 00:00 local on the 15th, summer or not."""
    s, offsets = started_in(zone, date(2026, 1, 15))
    _, events = run_until(s, s.ends_at)
    due = [offsets.to_local(e.due_at) for e in events if isinstance(e, MeetingScheduled)]
    assert due == [datetime(2026, m, 15) for m in range(2, 13)]
    assert (
        len({offsets.offset_at(e.due_at) for e in events if isinstance(e, MeetingScheduled)}) == 2
    )


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("month", [3, 4, 7, 11])
def test_a_meeting_recorded_on_the_day_its_invitation_names_is_that_meeting(zone, month):
    """Recorded at 18:00 local on its own day (winter and summer): booked to that meeting."""
    s, offsets = started_in(zone, date(2026, 1, 15))
    day = date(2026, month, 15)
    evening = offsets.from_local(datetime.combine(day, time(18)))
    s, _ = run_until(s, evening)
    [slot] = [m for m in s.open_meetings() if offsets.local_date(m.due_at) == day]
    command = RecordMeeting(by="m1", held_on=day, attendees=("m1", "a1"))
    [recorded] = decide(s, command, EventFactory(evening, ids(), actor="m1"))
    assert isinstance(recorded, MeetingRecorded) and recorded.number == slot.number
    # The day before belongs to the same meeting; the day after to the next one.
    before = RecordMeeting(by="m1", held_on=day - timedelta(days=1), attendees=("m1",))
    assert decide(s, before, EventFactory(evening, ids(), "m1"))[0].number == slot.number


def test_local_dates_and_wall_clock_arithmetic_of_the_offsets():
    """Helsinki: +2 in winter, +3 from the last Sunday of March 03:00 to the last of October."""
    z = zone_offsets(
        "Europe/Helsinki", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)
    )
    assert z.local_date(datetime(2026, 2, 14, 22, tzinfo=UTC)) == date(2026, 2, 15)
    assert z.offset_at(datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == timedelta(hours=2)
    assert z.offset_at(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == timedelta(hours=3)
    assert z.offset_at(datetime(2026, 10, 25, 1, 0, tzinfo=UTC)) == timedelta(hours=2)
    # 03:30 on 25 October happens twice: the earlier instant (summer time) is meant.
    assert z.from_local(datetime(2026, 10, 25, 3, 30)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    shifted = z.shifted(timedelta(days=10))
    assert shifted.offset_at(datetime(2026, 4, 8, 0, 59, tzinfo=UTC)) == timedelta(hours=2)


async def test_a_helsinki_year_on_the_real_servers_books_every_meeting_to_its_own_day(
    mail, env, pool, store
):
    """A year in Helsinki across both DST changes: every meeting recorded at 18:00 local on the
    day its invitation names is that meeting; none is missed, the group is never at risk, and
    every deadline is a local midnight."""
    from zoneinfo import ZoneInfo

    import isodate

    from domain.relationship.commands import RecordAgreement
    from mentorflow.verify import replay_all_runs
    from tests.temporal_helpers import (
        result_within,
        running_worker,
        sleep_until,
        start_relationship,
    )
    from workflows.messages import workflow_id
    from workflows.relationship import RelationshipWorkflow

    helsinki, name = ZoneInfo("Europe/Helsinki"), "Europe/Helsinki"
    first = (await env.get_current_time()).astimezone(helsinki).date() + timedelta(days=1)
    starts, ends = start_of(first, name), start_of(first + isodate.Duration(years=1), name)
    rid = f"helsinki-{uuid.uuid4()}"
    relationship = spec(rid, starts, ends).model_copy(
        update={"zone": zone_offsets(name, starts, ends)}
    )
    days = [first + isodate.Duration(months=n) for n in range(1, 12)]
    async with running_worker(env.client, pool, mail) as task_queue:
        handle = await start_relationship(env, task_queue, relationship)
        await sleep_until(env, starts + timedelta(days=3))
        await handle.execute_update(
            RelationshipWorkflow.record_agreement,
            RecordAgreement(by="m1", goals=("g",), agreement="monthly"),
        )
        for day in days:
            await sleep_until(env, datetime.combine(day, time(18), helsinki).astimezone(UTC))
            await handle.execute_update(
                RelationshipWorkflow.record_meeting,
                RecordMeeting(by="m1", held_on=day, attendees=("m1", "a1")),
            )
        await result_within(handle)
        await replay_all_runs(env.client, handle)

    events = [RELATIONSHIP.decode(r) for r in await store.read_stream(workflow_id(rid))]
    scheduled = [e for e in events if isinstance(e, MeetingScheduled)]
    assert [e.due_at.astimezone(helsinki).replace(tzinfo=None) for e in scheduled] == [
        datetime.combine(day, time(0)) for day in days
    ]
    recorded = [(e.number, e.held_on) for e in events if isinstance(e, MeetingRecorded)]
    assert recorded == list(enumerate(days, start=1))
    assert not [e for e in events if e.type in ("meeting_missed", "marked_at_risk")]
