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
from mentorflow.web.forms import form_page, refused_form
from mentorflow.web.groups import confirmed, dates_for, member_group, send_update
from mentorflow.web.i18n import N_
from mentorflow.web.identity import checked_form, current_person
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


def _local_to_instant(s: RelationshipState, dates: Dates, on: date, at: time) -> datetime:
    """The zone offsets the group carries decide, as in the workflow; a group started before
    they were carried reads the programme's zone."""
    wall = datetime.combine(on, at)
    return s.zone.from_local(wall) if s.zone is not None else dates.from_local(wall)


@router.get("/g/{rid}/schedule")
async def schedule_page(request: Request, rid: str, t: str | None = None) -> Response:
    return await form_page(request, rid, SCHEDULE, t, "schedule.html", extra=_schedule_extra)


@router.post("/g/{rid}/schedule")
async def schedule_meeting(request: Request, rid: str) -> Response:
    person = current_person(request)
    form = await checked_form(request)
    state = await member_group(web_of(request), person, rid)
    extra = _schedule_extra(state)
    dates = await dates_for(request, web_of(request), state.programme_id)
    values = {k: str(form.get(k) or "").strip() for k in ("on", "at", "minutes", "place")}
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
    command = None
    if not errors:
        try:
            starts_at = _local_to_instant(state, dates, on, at)
        except (OverflowError, ValueError):  # a date at the very edge of the calendar
            errors["on"] = N_("Enter the date of the meeting.")
    if not errors:
        try:
            command = ScheduleMeeting(
                by=person.person_id, starts_at=starts_at, minutes=minutes, place=values["place"]
            )
        except ValidationError:
            errors["place"] = N_("Keep each text under 4,000 characters.")
    if command is None:
        return await refused_form(request, rid, "schedule.html", errors, None, values, **extra)
    update = RelationshipWorkflow.schedule_meeting
    refusal = await send_update(web_of(request), rid, update, command)
    if refusal:
        return await refused_form(request, rid, "schedule.html", {}, refusal, values, **extra)
    return confirmed(rid, "schedule")


@router.post("/g/{rid}/schedule/cancel")
async def cancel_meeting(request: Request, rid: str) -> Response:
    person = current_person(request)
    await checked_form(request)
    state = await member_group(web_of(request), person, rid)
    command = CancelMeeting(by=person.person_id)
    refusal = await send_update(web_of(request), rid, RelationshipWorkflow.cancel_meeting, command)
    if refusal:
        extra = _schedule_extra(state)
        return await refused_form(request, rid, "schedule.html", {}, refusal, {}, **extra)
    return confirmed(rid, "cancel")


def _agenda_extra(s: RelationshipState) -> dict[str, Any]:
    return {"slot": next_meeting(s)}


@router.get("/g/{rid}/agenda")
async def agenda_page(request: Request, rid: str, t: str | None = None) -> Response:
    return await form_page(request, rid, AGENDA, t, "agenda.html", extra=_agenda_extra)


@router.post("/g/{rid}/agenda")
async def add_agenda_item(request: Request, rid: str) -> Response:
    person = current_person(request)
    form = await checked_form(request)
    state = await member_group(web_of(request), person, rid)
    extra = _agenda_extra(state)
    values = {"text": str(form.get("text") or "")}
    errors = {}
    command = None
    if not values["text"].strip():
        errors["text"] = N_("Write your question or topic.")
    else:
        try:
            command = AddAgendaItem(by=person.person_id, text=values["text"])
        except ValidationError:
            errors["text"] = N_("Keep each text under 4,000 characters.")
    if command is None:
        return await refused_form(request, rid, "agenda.html", errors, None, values, **extra)
    update = RelationshipWorkflow.add_agenda_item
    refusal = await send_update(web_of(request), rid, update, command)
    if refusal:
        return await refused_form(request, rid, "agenda.html", {}, refusal, values, **extra)
    return confirmed(rid, "agenda")
