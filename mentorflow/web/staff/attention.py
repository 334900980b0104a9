"""The coordinator's attention inbox: the open escalations of their programmes' groups, each with
what resolves it: acknowledge it with a note (here), or replace or add a member, extend a
deadline, dissolve the group (``resolutions``); and the programme-level items: a matching whose
approval is overdue (resolved by approving it on the programme page) and the people e-mail did
not reach (listed while they are in the programme: no event records a corrected address).

The list is read from the staff overviews' projection (``views``: each group's folded state), not
a replay per request. Each escalation's reason is recorded in the domain's English; the page
writes it again in the reader's language as the letters do (``activities.mail.reasons``), people
by id as everywhere on this page; the JSON API gives the recorded reason as it is.

Acknowledging sends the RelationshipWorkflow's ``resolve_escalation`` Update as the signed-in
member (the group's coordinator when the member is that person, else their own ``staff:<id>``,
with an admin's authority for an admin: see ``coordinate.acting_as``), its note sealed with the
acting person's data key before it reaches Temporal (after the domain's rule on who may, so a
refused member gets no data key); the domain decides and its refusal is shown.
Coordinators see and act on their own programmes only, admins on all (the domain accepts the
group's coordinator and admins), auditors read.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts.messages import workflow_id
from domain.errors import RuleViolation
from domain.relationship.commands import (
    AddMember,
    Dissolve,
    ExtendDeadline,
    ResolveEscalation,
    require_coordinator,
)
from domain.relationship.state import RelationshipState
from domain.text import MAX_TEXT
from mentorflow.web.i18n import N_
from mentorflow.web.identity import Refused, checked_form
from mentorflow.web.pages import Dates, Web, locale_of, render, web_of
from mentorflow.web.staff import views
from mentorflow.web.staff.api import PROBLEMS, UPDATE_ANSWERS, WAYS_IN
from mentorflow.web.staff.coordinate import acting_as
from mentorflow.web.staff.identity import CurrentStaff
from mentorflow.web.staff.programmes import readable
from mentorflow.web.updates import Refusal, execute
from store.sealing import ErasedPersonError, UnknownAuthorError
from store.staff import Role, StaffMember
from workflows.relationship import RelationshipWorkflow

router = APIRouter(prefix="/staff/attention", include_in_schema=False)

REFUSALS = {
    "not_allowed": N_("Only the group's coordinator can do this."),
    "no_such_escalation": N_("The group has no such escalation."),
    "escalation_resolved": N_("This escalation is already resolved."),
    "relationship_closed": N_("The group has closed."),
}
DONE = {
    "acknowledged": N_("The escalation is acknowledged."),
    "member": N_("The group has changed: the new member is invited."),
    "deadline": N_("The deadline is extended."),
    "dissolved": N_("The group is dissolved."),
}
"""The confirmation of each way of resolving (``?done=``; see ``resolutions``)."""
DEADLINE_NAMES = {
    "agreement": N_("Group agreement"),
    "feedback:midpoint": N_("Midpoint feedback"),
    "feedback:final": N_("Final feedback"),
}
KINDS = {
    "agreement_overdue": N_("Group agreement overdue"),
    "feedback_overdue": N_("Feedback overdue"),
    "inactive": N_("Meetings not held"),
    "paused_too_long": N_("Paused too long"),
}


async def group_of(web: Web, member: StaffMember, relationship_id: str) -> RelationshipState:
    """The group, if ``member`` acts on its programme: the same 403 for another programme's
    group and for none at all (an admin, who acts on every programme, gets a 404)."""
    state = await views.relationship_state(web.pool, relationship_id)
    if state is not None and member.acts_on(state.programme_id):
        return state
    if state is None and member.role == Role.ADMIN:
        raise Refused(404, N_("There is no group with this id in the record."))
    raise Refused(403, N_("This group is not in one of your programmes."))


async def acting_on_group(
    request: Request, relationship_id: str, member: CurrentStaff
) -> tuple[StaffMember, RelationshipState]:
    return member, await group_of(web_of(request), member, relationship_id)


Number = Annotated[int, Path(ge=1, le=100_000, description="Which of the group's escalations")]
GroupActor = Annotated[tuple[StaffMember, RelationshipState], Depends(acting_on_group)]


async def resolve(
    web: Web, member: StaffMember, state: RelationshipState, number: int, note: str
) -> Refusal | None:
    """Acknowledge escalation ``number`` with ``note`` (checked) as the acting person."""
    return await send_to_group(
        web, member, state, lambda by: ResolveEscalation(by=by, escalation=number, note=note)
    )


Resolving = ResolveEscalation | AddMember | ExtendDeadline | Dissolve
UPDATES: dict[type, Any] = {
    ResolveEscalation: RelationshipWorkflow.resolve_escalation,
    AddMember: RelationshipWorkflow.add_member,
    ExtendDeadline: RelationshipWorkflow.extend_deadline,
    Dissolve: RelationshipWorkflow.dissolve,
}
"""The Update each of the coordinator's group commands is sent as."""


async def send_to_group(
    web: Web, member: StaffMember, state: RelationshipState, build: Callable[[str], Resolving]
) -> Refusal | None:
    """Send ``build(by)`` as the acting person, its text sealed; None when the group took it,
    else the domain's refusal."""
    acting = await acting_as(web, member, state.programme_id, state.coordinator_id)
    command = acting.sign(build(acting.by))
    try:
        # The domain's rule first: a text refused anyway makes no data key for its author.
        require_coordinator(state, acting.by, acting.authority)
        sealed = await web.sealer.seal_command(command, acting.by)
    except RuleViolation as e:
        return Refusal(e.code, str(e))
    except (ErasedPersonError, UnknownAuthorError) as e:
        return Refusal("not_allowed", str(e))
    handle = web.client.get_workflow_handle(workflow_id(state.relationship_id))
    return await execute(handle, UPDATES[type(command)], sealed, "relationship_closed")


async def inbox(
    request: Request, member: StaffMember, status_code: int = 200, **shown: Any
) -> Response:
    found, items = await views.attention(web_of(request).pool, readable(member))
    locale = locale_of(request)
    zones = {e.programme_id: e.timezone for e in found}
    zones |= {a.programme_id: a.timezone for a in items.approvals_overdue}
    zones |= {u.programme_id: u.timezone for u in items.unreachable}
    context: dict[str, Any] = {
        "errors": {},
        "refusal": None,
        "done": None,
        "failed": None,
        "note": "",
        "values": {},
    }
    context.update(shown)
    return render(
        request,
        "staff/attention.html",
        status_code,
        escalations=found,
        approvals=items.approvals_overdue,
        unreachable=items.unreachable,
        dates={pid: Dates(zone, locale) for pid, zone in zones.items()},
        acts={pid for pid in zones if member.acts_on(pid)},
        kinds=KINDS,
        deadlines=DEADLINE_NAMES,
        max_note=MAX_TEXT,
        **context,
    )


@router.get("")
async def attention(request: Request, member: CurrentStaff, done: str = "") -> Response:
    return await inbox(request, member, done=DONE.get(done, DONE["acknowledged"]) if done else None)


@router.post("/{relationship_id}/{number}")
async def acknowledge(
    request: Request, relationship_id: str, number: Number, actor: GroupActor
) -> Response:
    """Acknowledge escalation ``number`` of the group with the form's note."""
    member, state = actor
    form = await checked_form(request)
    note = str(form.get("note") or "")
    failed = f"{relationship_id}/{number}"
    try:
        ResolveEscalation(by=state.coordinator_id, escalation=number, note=note)
    except ValidationError:
        message = N_("Write a note on what was done (at most 4,000 characters).")
        errors = {f"note-{failed}": message}
        return await inbox(request, member, 400, errors=errors, failed=failed, note=note)
    refusal = await resolve(web_of(request), member, state, number, note)
    if refusal is not None:
        shown = (REFUSALS.get(refusal.type, N_("The request was refused.")), refusal.message)
        return await inbox(request, member, 409, refusal=shown, failed=failed, note=note)
    return RedirectResponse("/staff/attention?done=acknowledged", status_code=303)


# ---- the JSON twin under /api/v1 ----------------------------------------------------------

api = APIRouter(prefix="/api/v1", tags=["attention"], responses=PROBLEMS, dependencies=WAYS_IN)


@api.get(
    "/attention",
    summary="The open escalations of the groups of the programmes the signed-in member reads",
)
async def attention_list(request: Request, member: CurrentStaff) -> list[views.OpenEscalation]:
    return await views.open_escalations(web_of(request).pool, readable(member))


@api.get(
    "/attention/programmes",
    summary="The programme-level items of the attention inbox of the programmes the signed-in"
    " member reads: matchings whose approval is overdue, people e-mail did not reach",
)
async def attention_programmes(request: Request, member: CurrentStaff) -> views.ProgrammeItems:
    return await views.programme_items(web_of(request).pool, readable(member))


class AcknowledgementRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=MAX_TEXT, description="What was done (free text)")


class Acknowledged(BaseModel):
    """The group took the Update: the escalation is resolved (the record has the event)."""

    accepted: bool = True


REFUSED: dict[int | str, dict[str, Any]] = {
    404: PROBLEMS[403] | {"description": "No group with this id in the record"},
    **UPDATE_ANSWERS,
}


@api.post(
    "/relationships/{relationship_id}/escalations/{number}/acknowledgement",
    summary="Acknowledge an open escalation with a note (the group's coordinator)",
    responses=REFUSED,
)
async def acknowledgement(
    request: Request, number: Number, body: AcknowledgementRequest, actor: GroupActor
) -> Acknowledged:
    member, state = actor
    try:
        ResolveEscalation(by=state.coordinator_id, escalation=number, note=body.note)
    except ValidationError as e:
        # (the note itself is never echoed: it is free text)
        raise Refused(422, "note: 1 to 4,000 characters of text that can be recorded") from e
    refusal = await resolve(web_of(request), member, state, number, body.note)
    if refusal is not None:
        raise Refused(409, f"{refusal.type}: {refusal.message}")
    return Acknowledged()
