"""What resolves an escalation besides a note, from the attention inbox: replace or add a member,
extend a deadline, dissolve the group (pages and their JSON twins under /api/v1).

Each sends one RelationshipWorkflow Update (``add_member``, ``extend_deadline``, ``dissolve``)
naming the escalation it resolves, as the signed-in member (the group's coordinator when the
member is that person, else an admin under their own staff id: ``coordinate.acting_as``), its
reason sealed with their data key before it reaches Temporal. The
page checks what only the programme knows (the new member is enrolled in it, in that role); the
domain decides the rest and its refusal is shown.
"""

from collections.abc import Callable
from datetime import date
from typing import Literal

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import FormData

from domain.model import Member, Role
from domain.relationship.commands import (
    DEADLINES,
    AddMember,
    Dissolve,
    ExtendDeadline,
)
from domain.relationship.state import RelationshipState
from domain.text import MAX_TEXT
from mentorflow.web.i18n import N_
from mentorflow.web.identity import Refused, checked_form
from mentorflow.web.pages import Web, web_of
from mentorflow.web.staff import views
from mentorflow.web.staff.api import PROBLEMS, WAYS_IN
from mentorflow.web.staff.attention import REFUSALS as ACKNOWLEDGING
from mentorflow.web.staff.attention import REFUSED, GroupActor, Number, inbox, send_to_group
from store.directory import Directory
from store.staff import StaffMember

router = APIRouter(prefix="/staff/attention", include_in_schema=False)

Resolving = AddMember | ExtendDeadline | Dissolve
Build = Callable[[str], Resolving]
"""The command to send, given whom it is sent as (``acting_as``)."""

REASON_ERROR = N_("Write a reason (at most 4,000 characters).")


class NotEnrolled(Exception):
    """The person is not enrolled in the group's programme (in that role)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def enrolled(
    pool: asyncpg.Pool, programme_id: str, person_id: str, role: Role, joining: str | None = None
) -> Member:
    """``person_id`` as a member in ``role`` of group ``joining``, if the programme enrolled
    them so and has room for them.

    The programme's recorded state decides (enrolled, not removed, that role, and a mentor
    trained when the programme requires it, as for matching); a group started without a
    programme's workflow (``mentorflow relationship start``) has only its programme's directory
    as enrolment. As in the matching, a mentee is in one open group at most and a mentor in as
    many as their capacity (1 without a recorded profile)."""
    state = await views.programme_state(pool, programme_id)
    capacity = 1
    if state is not None:
        profile = state.participants.get(person_id)
        if profile is None or person_id in state.removed:
            raise NotEnrolled(N_("This person is not enrolled in the group's programme."))
        if profile.role != role:
            raise NotEnrolled(N_("This person is enrolled in another role."))
        training = state.programme.training
        if role == Role.MENTOR and training.required and profile.trained_on is None:
            raise NotEnrolled(N_("This mentor has not completed the mentor training."))
        capacity = profile.capacity
    elif person_id not in await Directory(pool).people(programme_id, [person_id]):
        raise NotEnrolled(N_("This person is not enrolled in the group's programme."))
    placed = [
        g.relationship_id
        for g in await views.relationship_states(pool, programme_id)
        if not g.closed and g.relationship_id != joining and person_id in g.active_members()
    ]
    if role == Role.MENTEE and placed:
        raise NotEnrolled(N_("This mentee is already in another open group of the programme."))
    if role == Role.MENTOR and len(placed) >= capacity:
        raise NotEnrolled(N_("This mentor already has as many groups as their capacity allows."))
    return Member(person_id=person_id, role=role)


REFUSALS = {
    "already_a_member": N_("This person is already in the group."),
    "not_a_member": N_("The member to replace is not in the group."),
    "invalid_group": N_("The group would break the programme's rules on its mentors and mentees."),
    "not_later": N_("The new date must be after the current deadline."),
    "in_the_past": N_("The new date has passed."),
    "too_late": N_("The new date is too close to the end of the group or its next round."),
    "round_not_open": N_("This feedback round is not open."),
    "escalation_mismatch": N_("This escalation is about another deadline."),
    "paused": N_("The group is paused: resume it first."),
    "duplicate": N_("The group agreement is already recorded."),
}


# ---- the pages' forms ---------------------------------------------------------------------


def _text(form: FormData, name: str) -> str:
    return str(form.get(name) or "").strip()


async def _answer(
    request: Request,
    member: StaffMember,
    state: RelationshipState,
    key: str,
    values: dict[str, str],
    build: Build | dict[str, str],
    done: str,
) -> Response:
    """Send ``build`` (or show its field errors) and answer as the inbox does."""
    shown = {"failed": key, "values": values}
    if isinstance(build, dict):
        errors = {f"{field}-{key}": message for field, message in build.items()}
        return await inbox(request, member, 400, errors=errors, **shown)
    refusal = await send_to_group(web_of(request), member, state, build)
    if refusal is not None:
        reason = (REFUSALS | ACKNOWLEDGING).get(refusal.type, N_("The request was refused."))
        return await inbox(request, member, 409, refusal=(reason, refusal.message), **shown)
    return RedirectResponse(f"/staff/attention?done={done}", status_code=303)


def _checked(make: Build, state: RelationshipState, field: str) -> Build | dict[str, str]:
    """``make`` if the command it builds is valid input, else the error at ``field``."""
    try:
        make(state.coordinator_id)
    except ValidationError:
        return {field: REASON_ERROR}
    return make


@router.post("/{relationship_id}/{number}/member")
async def replace_or_add(
    request: Request, relationship_id: str, number: Number, actor: GroupActor
) -> Response:
    """Add the form's person to the group, in place of the chosen member or beside them."""
    member, state = actor
    form = await checked_form(request)
    values = {n: _text(form, n) for n in ("person_id", "role", "replaces", "reason")}
    values["form"] = "member"
    key = f"{relationship_id}/{number}"
    build = await _member_command(web_of(request), state, number, values)
    return await _answer(request, member, state, key, values, build, "member")


async def _member_command(
    web: Web, state: RelationshipState, number: int | None, values: dict[str, str]
) -> Build | dict[str, str]:
    errors: dict[str, str] = {}
    if values["role"] not in (Role.MENTOR, Role.MENTEE):
        errors["role"] = N_("Choose the new member's role.")
    if not values["person_id"]:
        errors["person"] = N_("Write the id of a person enrolled in the programme.")
    if values["replaces"] and values["replaces"] not in state.active_members():
        errors["replaces"] = N_("Choose a member of the group, or nobody.")
    if errors:
        return errors
    try:
        role = Role(values["role"])
        new = await enrolled(
            web.pool, state.programme_id, values["person_id"], role, state.relationship_id
        )
    except NotEnrolled as e:
        return {"person": e.message}
    replaces = values["replaces"] or None

    def make(by: str) -> AddMember:
        return AddMember(
            by=by, member=new, replaces=replaces, reason=values["reason"], escalation=number
        )

    return _checked(make, state, "member-reason")


@router.post("/{relationship_id}/{number}/deadline")
async def extend(
    request: Request, relationship_id: str, number: Number, actor: GroupActor
) -> Response:
    """Move the chosen deadline to the form's local date."""
    member, state = actor
    form = await checked_form(request)
    values = {n: _text(form, n) for n in ("deadline", "until", "reason")}
    values["form"] = "deadline"
    key = f"{relationship_id}/{number}"
    build = _deadline_command(state, number, values)
    return await _answer(request, member, state, key, values, build, "deadline")


def _deadline_command(
    state: RelationshipState, number: int | None, values: dict[str, str]
) -> Build | dict[str, str]:
    errors: dict[str, str] = {}
    if values["deadline"] not in DEADLINES:
        errors["deadline"] = N_("Choose the deadline to extend.")
    try:
        until = date.fromisoformat(values["until"])
    except ValueError:
        errors["until"] = N_("Write the new date as a date, for example 2027-03-31.")
    if errors:
        return errors

    def make(by: str) -> ExtendDeadline:
        return ExtendDeadline(
            by=by,
            deadline=values["deadline"],
            until=until,
            reason=values["reason"],
            escalation=number,
        )

    return _checked(make, state, "deadline-reason")


@router.post("/{relationship_id}/{number}/dissolution")
async def dissolve(
    request: Request, relationship_id: str, number: Number, actor: GroupActor
) -> Response:
    """Dissolve the group, with the form's reason."""
    member, state = actor
    form = await checked_form(request)
    values = {"reason": _text(form, "reason"), "form": "dissolution"}
    key = f"{relationship_id}/{number}"

    def make(by: str) -> Dissolve:
        return Dissolve(by=by, reason=values["reason"], escalation=number)

    build = _checked(make, state, "dissolve-reason")
    return await _answer(request, member, state, key, values, build, "dissolved")


# ---- the JSON twins under /api/v1 ---------------------------------------------------------

api = APIRouter(prefix="/api/v1", tags=["attention"], responses=PROBLEMS, dependencies=WAYS_IN)

Reason = Field(min_length=1, max_length=MAX_TEXT, description="Why (free text, sealed)")


class MemberRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_id: str = Field(
        min_length=1, max_length=128, description="A person enrolled in the programme"
    )
    role: Role = Field(description="Their role in the programme")
    replaces: str | None = Field(
        None, max_length=128, description="The active member they replace (none: add)"
    )
    reason: str = Reason


class DeadlineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deadline: Literal["agreement", "feedback:midpoint", "feedback:final"]
    until: date = Field(description="The new due date, a local date in the programme's zone")
    reason: str = Reason


class DissolutionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Reason


class Resolved(BaseModel):
    """The group took the Update: the escalation is resolved (the record has the events)."""

    accepted: bool = True


async def _api_send(
    request: Request, actor: tuple[StaffMember, RelationshipState], build: Build | dict[str, str]
) -> Resolved:
    member, state = actor
    if isinstance(build, dict):
        field, message = next(iter(build.items()))
        raise Refused(422, f"{field.rpartition('-')[2]}: {message}")
    refusal = await send_to_group(web_of(request), member, state, build)
    if refusal is not None:
        raise Refused(409, f"{refusal.type}: {refusal.message}")
    return Resolved()


@api.post(
    "/relationships/{relationship_id}/escalations/{number}/member",
    summary="Resolve an escalation by replacing a member or adding one (the group's coordinator)",
    responses=REFUSED,
)
async def member_change(
    request: Request, number: Number, body: MemberRequest, actor: GroupActor
) -> Resolved:
    values = {
        "person_id": body.person_id,
        "role": body.role.value,
        "replaces": body.replaces or "",
        "reason": body.reason,
    }
    build = await _member_command(web_of(request), actor[1], number, values)
    return await _api_send(request, actor, build)


@api.post(
    "/relationships/{relationship_id}/escalations/{number}/deadline-extension",
    summary="Resolve an escalation by extending a deadline (the group's coordinator)",
    responses=REFUSED,
)
async def deadline_extension(
    request: Request, number: Number, body: DeadlineRequest, actor: GroupActor
) -> Resolved:
    values = {"deadline": body.deadline, "until": body.until.isoformat(), "reason": body.reason}
    return await _api_send(request, actor, _deadline_command(actor[1], number, values))


@api.post(
    "/relationships/{relationship_id}/escalations/{number}/dissolution",
    summary="Resolve an escalation by dissolving the group (the group's coordinator)",
    responses=REFUSED,
)
async def dissolution(
    request: Request, number: Number, body: DissolutionRequest, actor: GroupActor
) -> Resolved:
    def make(by: str) -> Dissolve:
        return Dissolve(by=by, reason=body.reason, escalation=number)

    return await _api_send(request, actor, _checked(make, actor[1], "reason"))
