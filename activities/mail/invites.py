"""Calendar invitations (RFC 5545 / iTIP RFC 5546) for the meetings of a group.

A meeting keeps one UID for life, so an update (SEQUENCE + 1) moves the entry already in the
attendee's calendar instead of adding a second, and METHOD:CANCEL removes it.
"""

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vText


class Method(StrEnum):
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str


@dataclass(frozen=True)
class MeetingInvite:
    method: Method
    uid: str
    sequence: int
    summary: str
    starts_at: datetime
    length: timedelta
    timezone: str
    stamp: datetime
    """When the decision was taken (the event's time): DTSTAMP, stable across retries."""
    organizer: Attendee
    attendees: tuple[Attendee, ...]


def meeting_uid(relationship_id: str, number: int) -> str:
    return f"{relationship_id}.meeting-{number}@mentorflow"


def to_ics(invite: MeetingInvite) -> str:
    cal = Calendar()
    cal.add("prodid", "-//Mentorflow//Mentoring programmes//EN")
    cal.add("version", "2.0")
    cal.add("method", invite.method.value)
    event = Event()
    event.add("uid", invite.uid)
    event.add("sequence", invite.sequence)
    event.add("dtstamp", invite.stamp)
    start = invite.starts_at.astimezone(ZoneInfo(invite.timezone))
    event.add("dtstart", start)
    event.add("dtend", start + invite.length)
    event.add("summary", invite.summary)
    event.add("status", "CANCELLED" if invite.method is Method.CANCEL else "CONFIRMED")
    event.add("organizer", _address(invite.organizer, "CHAIR"))
    for person in invite.attendees:
        event.add("attendee", _address(person, "REQ-PARTICIPANT"), encode=False)
    cal.add_component(_vtimezone(invite.timezone, start.year))
    cal.add_component(event)
    ics: bytes = cal.to_ical()
    return ics.decode("utf-8")


@functools.lru_cache(maxsize=64)
def _vtimezone(tzid: str, year: int) -> Timezone:
    """The VTIMEZONE every client needs to read the TZID the same way, for the meeting's year and
    the next (generating it for all years is slow and makes every invitation kilobytes long)."""
    return Timezone.from_tzid(tzid, first_date=date(year, 1, 1), last_date=date(year + 2, 1, 1))


def _address(person: Attendee, role: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["cn"] = vText(person.name)
    address.params["role"] = vText(role)
    return address
