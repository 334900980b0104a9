"""A programme's dates in its own time zone, turned into the instants workflows run on.

Workflows keep UTC (Temporal's sandbox has no zoneinfo), so the dates people write are resolved
here, once, before a programme starts: a day starts at 00:00 in the programme's zone; a deadline
date lasts until the end of that day.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime

from domain.localtime import Transition, ZoneOffsets
from domain.model import Frozen
from domain.programme.model import Programme

CLOSING_INVITATION_AHEAD = timedelta(days=14)
"""The closing event's invitation goes out this long before it (or at launch, if later)."""


class ProgrammeCalendar(Frozen):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    """End of the programme's last day: every group closes then."""
    training_deadline: AwareDatetime
    """End of the training deadline day: mentors untrained then are not matched."""
    matching_at: AwareDatetime
    midpoint_survey_at: AwareDatetime
    closing_event_at: AwareDatetime | None
    zone: ZoneOffsets | None = None
    """The programme's zone over its span and two years beyond (pauses move the end); none in
    calendars recorded before zones were carried (those run in UTC)."""


def start_of(day: date, zone: str) -> datetime:
    """00:00 of ``day`` in ``zone``, as a UTC instant.

    UTC, because arithmetic on zone-aware datetimes is wall-clock arithmetic in Python: adding
    a day across a daylight-saving change would be off by an hour.
    """
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def end_of(day: date, zone: str) -> datetime:
    return start_of(day + timedelta(days=1), zone)


def calendar(p: Programme) -> ProgrammeCalendar:
    zone = p.timezone
    starts, ends = start_of(p.starts_on, zone), end_of(p.ends_on, zone)
    closing = p.closing.event_on
    return ProgrammeCalendar(
        starts_at=starts,
        ends_at=ends,
        training_deadline=end_of(p.training.deadline, zone),
        matching_at=start_of(p.matching.runs_on, zone),
        midpoint_survey_at=starts + (ends - starts) * p.feedback.midpoint.at,
        closing_event_at=_nine_am(closing, zone) if closing else None,
        zone=zone_offsets(zone, min(starts, start_of(p.matching.runs_on, zone)), ends),
    )


ZONE_MARGIN = timedelta(days=2 * 366)


def zone_offsets(zone: str, first: datetime, last: datetime) -> ZoneOffsets:
    """``zone``'s offsets from a year before ``first`` to two years after ``last``."""
    info = ZoneInfo(zone)

    def offset(at: datetime) -> int:
        delta = at.astimezone(info).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    at, end = first - timedelta(days=366), last + ZONE_MARGIN
    initial, transitions = offset(at), []
    while at < end:
        nxt = at + timedelta(hours=12)
        if offset(nxt) != offset(at):
            low, high = at, nxt  # the change lies in (low, high]: find its second
            while high - low > timedelta(seconds=1):
                mid = low + (high - low) / 2
                low, high = (mid, high) if offset(mid) == offset(low) else (low, mid)
            transitions.append(Transition(at=high.replace(microsecond=0), offset=offset(high)))
        at = nxt
    return ZoneOffsets(name=zone, initial=initial, transitions=tuple(transitions))


def _nine_am(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(9), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def shifted(c: ProgrammeCalendar, by: timedelta) -> ProgrammeCalendar:
    """The same calendar ``by`` later: simulations run a past programme from the server's now."""
    fields = c.model_dump(exclude={"zone"})
    moved = ProgrammeCalendar.model_validate({k: v + by if v else v for k, v in fields.items()})
    return moved.model_copy(update={"zone": c.zone.shifted(by) if c.zone else None})
