"""Planning a meeting (mentors: date, time, length, place) and its agenda (every member).

Each page builds one domain command with the session's person as ``by`` and sends it as an
Update; the time a mentor enters is a wall-clock time in the programme's zone, turned into an
instant with the zone offsets the group carries (``domain.localtime``).
"""

from datetime import date, datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from activities.links import AGENDA, SCHEDULE
from domain.relationship.commands import (
    MAX_MINUTES,
    MIN_MINUTES,
    AddAgendaItem,
    CancelMeeting,
    ScheduleMeeting,
    default_minutes,
)
from domain.relationship.state import MeetingSlot, RelationshipState
from mentorflow.web.forms import Filled, form_page, posted
from mentorflow.web.groups import dates_for
from mentorflow.web.i18n import N_
from mentorflow.web.pages import Dates, web_of
from workflows.relationship import RelationshipWorkflow

router = APIRouter()


def next_meeting(s: RelationshipState) -> MeetingSlot | None:
    """The meeting people plan and write the agenda for: the earliest one still open."""
    open_slots = s.open_meetings()
    return open_slots[0] if open_slots else None


def _schedule_extra(s: RelationshipState) -> dict[str, Any]:
    return {
        "slot": next_meeting(s),
        "default_minutes": default_minutes(s),
        "min_minutes": MIN_MINUTES,
        "max_minutes": MAX_MINUTES,
    }


@router.get("/g/{rid}/schedule")
async def schedule_page(request: Request, rid: str, t: str | None = None) -> Response:
    return await form_page(request, rid, SCHEDULE, t, "schedule.html", extra=_schedule_extra)


def _local_to_instant(s: RelationshipState, dates: Dates, on: date, at: time) -> datetime:
    """The zone offsets the group carries decide, as in the workflow; a group started before
    they were carried reads the programme's zone."""
    wall = datetime.combine(on, at)
    return s.zone.from_local(wall) if s.zone is not None else dates.from_local(wall)


@router.post("/g/{rid}/schedule")
async def schedule_meeting(request: Request, rid: str) -> Response:
    person, form, state = await posted(request, rid)
    dates = await dates_for(request, web_of(request), state.programme_id)
    values = {k: str(form.get(k) or "").strip() for k in ("on", "at", "minutes", "place")}
    filled = Filled(request, rid, "schedule.html", values, _schedule_extra(state))
    errors = {}
    try:
        on = date.fromisoformat(values["on"])
    except ValueError:
        errors["on"] = N_("Enter the date of the meeting.")
    try:
        at = time.fromisoformat(values["at"])
    except ValueError:
        errors["at"] = N_("Enter the start time, for example 14:30.")
    minutes = None
    if values["minutes"]:
        try:
            minutes = int(values["minutes"])
        except ValueError:
            minutes = -1
        if not MIN_MINUTES <= minutes <= MAX_MINUTES:
            errors["minutes"] = N_("Enter a length from 15 to 480 minutes.")
    if not values["place"]:
        errors["place"] = N_("Say where you meet, or give the video link.")
    if errors:
        return await filled.again(errors)
    try:
        starts_at = _local_to_instant(state, dates, on, at)
    except (OverflowError, ValueError):  # a date at the very edge of the calendar
        return await filled.again({"on": N_("Enter the date of the meeting.")})
    try:
        command = ScheduleMeeting(
            by=person.person_id, starts_at=starts_at, minutes=minutes, place=values["place"]
        )
    except ValidationError:
        return await filled.again({"place": N_("Keep each text under 4,000 characters.")})
    return await filled.send(RelationshipWorkflow.schedule_meeting, command, "schedule")


@router.post("/g/{rid}/schedule/cancel")
async def cancel_meeting(request: Request, rid: str) -> Response:
    person, _, state = await posted(request, rid)
    filled = Filled(request, rid, "schedule.html", {}, _schedule_extra(state))
    command = CancelMeeting(by=person.person_id)
    return await filled.send(RelationshipWorkflow.cancel_meeting, command, "cancel")


def _agenda_extra(s: RelationshipState) -> dict[str, Any]:
    return {"slot": next_meeting(s)}


@router.get("/g/{rid}/agenda")
async def agenda_page(request: Request, rid: str, t: str | None = None) -> Response:
    return await form_page(request, rid, AGENDA, t, "agenda.html", extra=_agenda_extra)


@router.post("/g/{rid}/agenda")
async def add_agenda_item(request: Request, rid: str) -> Response:
    person, form, state = await posted(request, rid)
    text = str(form.get("text") or "")
    filled = Filled(request, rid, "agenda.html", {"text": text}, _agenda_extra(state))
    if not text.strip():
        return await filled.again({"text": N_("Write your question or topic.")})
    try:
        command = AddAgendaItem(by=person.person_id, text=text)
    except ValidationError:
        return await filled.again({"text": N_("Keep each text under 4,000 characters.")})
    return await filled.send(RelationshipWorkflow.add_agenda_item, command, "agenda")
