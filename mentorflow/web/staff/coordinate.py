"""The coordinator's programme page: calendar and phase, the mentors' training, the matching
proposal with each group's explanation and the unmatched with their reasons; mark a mentor
trained, edit the proposal and approve it.

The page never decides: it sends the ProgrammeWorkflow's Updates (``mark_trained``,
``approve_matching``) as the signed-in member (``acting_as``: the programme's coordinator, or an
admin under their own staff id with an admin's authority) and shows the domain's refusal. An
edited proposal is checked against the matching's hard rules with ``domain.matching.assign`` (the
check the approval itself makes) each time it is checked or approved, so the broken rule is named
before anything is sent; before that, a field of the edit that names no group (neither a group's
number, the new group's, nor ``-``) is refused at that field, never guessed. The state shown is
the staff overviews' projection (``views``), not a replay.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar, get_args
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import FormData
from temporalio.client import WorkflowHandle

from contracts.messages import programme_workflow_id
from domain.matching import GroupAssignment, MatchingResult, ProposedGroup, Unmatched, assign
from domain.model import Authority, Role, staff_actor
from domain.programme.commands import ApproveMatching, Enrol, MarkTrained, Remove, matching_rules
from domain.programme.events import ProgrammePhase, ProgrammeReport
from domain.programme.state import ProgrammeState
from domain.relationship.state import MemberState, RelationshipState
from mentorflow.web.i18n import N_
from mentorflow.web.identity import Refused, checked_form
from mentorflow.web.pages import Dates, Web, locale_of, render, segment, web_of
from mentorflow.web.staff import views
from mentorflow.web.staff.api import PROBLEMS, UPDATE_ANSWERS, WAYS_IN, Endpoint
from mentorflow.web.staff.identity import CurrentStaff
from mentorflow.web.updates import Refusal, execute
from store.directory import Directory
from store.staff import Role as StaffRole
from store.staff import StaffMember
from workflows.programme import ProgrammeWorkflow

router = APIRouter(prefix="/staff/programmes", include_in_schema=False)

LEFT_OUT = "-"
"""The edit form's value for a participant left out of the groups."""

Errors = dict[str, str]
"""A form's errors: field -> translatable message."""

REFUSALS = {
    "not_allowed": N_("Only the programme's coordinator can do this."),
    "programme_closed": N_("The programme is closed."),
    "training_closed": N_("The training deadline has passed."),
    "not_a_mentor": N_("This person is not a mentor of the programme."),
    "not_a_participant": N_("This person is not a participant of the programme."),
    "duplicate": N_("This id is already in the programme."),
    "erased": N_("This person's personal data was erased: enrol them under a new id."),
    "matching_done": N_("The matching is done: participants can no longer be changed here."),
    "future_date": N_("The date is in the future."),
    "nothing_to_approve": N_("There is no matching proposal waiting for approval."),
    "invalid_calendar": N_("The programme's calendar leaves the groups no time."),
    "invalid_assignment": N_("The groups break a hard rule of the matching."),
}
DONE = {
    "trained": N_("The mentor's training is recorded."),
    "removed": N_("The participant is removed from the programme."),
    "enrolled": N_("The participant is enrolled."),
    "approved": N_("The matching is approved. The groups start and their members are told."),
}


RemovalReason = Literal["withdrew", "left_the_organisation", "long_absence", "other"]
"""Why a participant is removed: a choice, never free text about a person."""
REMOVAL_REASONS: dict[str, str] = {
    "withdrew": N_("They withdrew"),
    "left_the_organisation": N_("They left the organisation"),
    "long_absence": N_("A long absence"),
    "other": N_("Another reason"),
}


async def programme_actor(programme_id: str, member: CurrentStaff) -> StaffMember:
    """Coordinators of this programme and admins; auditors read only, other coordinators not."""
    if not member.acts_on(programme_id):
        raise Refused(403, N_("This programme is not one of yours."))
    return member


ProgrammeActor = Annotated[StaffMember, Depends(programme_actor)]


async def recorded(web: Web, programme_id: str) -> ProgrammeState:
    state = await views.programme_state(web.pool, programme_id)
    if state is None:
        raise Refused(404, N_("There is no programme with this id in the record."))
    return state


C = TypeVar("C", bound=BaseModel)


@dataclass(frozen=True)
class Acting:
    """Whom an Update is sent as (``by``, what the events record as their actor) and with what
    authority (``domain.model.Authority``): both established here, from the signed-in member,
    never from the request."""

    by: str
    authority: Authority = Authority.PERSON

    def sign(self, command: C) -> C:
        """``command`` (built with ``by``) carrying this authority."""
        return command.model_copy(update={"authority": self.authority})


async def acting_person(web: Web, member: StaffMember, state: ProgrammeState) -> Acting:
    """Whom the Update is sent as (see ``acting_as``)."""
    return await acting_as(web, member, state.programme.id, state.programme.coordinator.id)


async def acting_as(web: Web, member: StaffMember, programme_id: str, coordinator: str) -> Acting:
    """``coordinator`` (a person id of ``programme_id``) when the signed-in member is that person
    (the same e-mail address in the directory), else the member's own ``staff:<id>``: with an
    admin's authority for an admin, whom the domain accepts on every programme under their own
    id; with none for anyone else, whom the domain refuses."""
    contacts = await Directory(web.pool).people(programme_id, [coordinator])
    contact = contacts.get(coordinator)
    if contact is not None and contact.email.casefold() == member.email.casefold():
        return Acting(coordinator)
    admin = member.role == StaffRole.ADMIN
    return Acting(staff_actor(member.staff_id), Authority.ADMIN if admin else Authority.PERSON)


ProgrammeUpdate = Enrol | MarkTrained | Remove | ApproveMatching
Build = Callable[[str], ProgrammeUpdate]
"""The Update to send, given whom it is sent as (``acting_person``)."""


def reason_of(refusal: Refusal) -> tuple[str, str]:
    """(translatable reason, the domain's sentence), as the form macros show refusals."""
    return REFUSALS.get(refusal.type, N_("The request was refused.")), refusal.message


async def send(
    web: Web, programme_id: str, member: StaffMember, state: ProgrammeState, build: Build
) -> Refusal | None:
    """Send the Update as the acting person; None when the programme took it, else the domain's
    refusal."""
    acting = await acting_person(web, member, state)
    command = acting.sign(build(acting.by))
    # (typed by hand: mypy cannot always infer the handle from ProgrammeWorkflow.run)
    handle: WorkflowHandle[ProgrammeWorkflow, ProgrammeReport] = web.client.get_workflow_handle(
        programme_workflow_id(programme_id)
    )
    updates: dict[type, Any] = {
        Enrol: ProgrammeWorkflow.enrol,
        MarkTrained: ProgrammeWorkflow.mark_trained,
        Remove: ProgrammeWorkflow.remove,
        ApproveMatching: ProgrammeWorkflow.approve_matching,
    }
    return await execute(handle, updates[type(command)], command, "programme_closed")


def new_group(state: ProgrammeState) -> int:
    """The number that forms a new group in the edit form: the one after the proposal's last."""
    return len(state.proposal.groups if state.proposal else ()) + 1


def group_number(value: str, new: int) -> int | None:
    """The group a field of the edit form names: 0 for ``-`` (left out), a group's number (1
    to ``new``, the new group's); None for anything else (``I`` for 1, ``2.``, empty), which
    the form refuses rather than guess."""
    if value == LEFT_OUT:
        return 0
    if value.isascii() and value.isdigit() and len(value) <= 6 and 1 <= int(value) <= new:
        return int(value)
    return None


def placed_in(state: ProgrammeState, form: Mapping[str, str]) -> dict[str, str]:
    """What the edit form's field ``p:<person>`` says of each participant, as written (spaces
    around it dropped; a missing field is empty)."""
    return {pid: form.get(f"p:{pid}", "").strip() for pid in state.participants}


def numbered(state: ProgrammeState, placed: Mapping[str, str]) -> tuple[dict[str, int], Errors]:
    """Each participant's group number (0: left out), and an error at each field (the input's
    id) that names no group."""
    new = new_group(state)
    numbers: dict[str, int] = {}
    errors: Errors = {}
    for pid, value in sorted(placed.items()):
        n = group_number(value, new)
        if n is None:
            errors[f"p-{pid}"] = N_(
                "Enter the number of a group or of the new group, or - to leave them out."
            )
        else:
            numbers[pid] = n
    return numbers, errors


def edited_groups(
    state: ProgrammeState, numbers: Mapping[str, int]
) -> tuple[GroupAssignment, ...] | None:
    """The groups of the edit form's numbers (0: left out); None: the proposal unchanged."""
    proposal = state.proposal
    found: dict[int, tuple[list[str], list[str]]] = {}
    for pid, profile in sorted(state.participants.items()):
        if numbers.get(pid, 0) == 0:
            continue
        mentors, mentees = found.setdefault(numbers[pid], ([], []))
        (mentors if profile.role == Role.MENTOR else mentees).append(pid)
    groups = tuple(
        GroupAssignment(mentors=tuple(m), mentees=tuple(e)) for _, (m, e) in sorted(found.items())
    )
    if proposal is not None and groups == tuple(
        GroupAssignment(mentors=tuple(sorted(g.mentors)), mentees=tuple(sorted(g.mentees)))
        for g in proposal.groups
    ):
        return None
    return groups


def checked(
    state: ProgrammeState, groups: tuple[GroupAssignment, ...]
) -> tuple[list[ProposedGroup], str | None]:
    """The groups with their explanations, or the hard rule they break (the domain's words)."""
    try:
        return assign(groups, list(state.participants.values()), matching_rules(state)), None
    except ValueError as e:
        return [], str(e)


def placement(state: ProgrammeState) -> dict[str, str]:
    """Each participant's group number in the proposal (``-``: left out)."""
    placed = {pid: LEFT_OUT for pid in state.participants}
    for group in state.proposal.groups if state.proposal else ():
        for pid in (*group.mentors, *group.mentees):
            placed[pid] = str(group.number)
    return placed


def added_later(
    state: ProgrammeState, groups: list[RelationshipState]
) -> dict[int, list[MemberState]]:
    """The members added to each launched group since the matching (the inbox's *Replace or add
    a member*: ``member_added`` in the group's record, not the programme's) and still in it, by
    group number."""
    numbers = {rid: launched.number for rid, launched in state.launched.items()}
    added: dict[int, list[MemberState]] = {}
    for g in groups:
        joined = [m for m in g.members.values() if m.active and m.joined_at is not None]
        if joined and g.relationship_id in numbers:
            added[numbers[g.relationship_id]] = joined
    return added


async def members_added(web: Web, state: ProgrammeState) -> dict[int, list[MemberState]]:
    """``added_later`` of the programme's launched groups, as the projection has them now."""
    if not state.launched:
        return {}
    return added_later(state, await views.groups_with_members_added(web.pool, state.programme.id))


def not_matched(state: ProgrammeState, added: Mapping[int, list[MemberState]]) -> list[Unmatched]:
    """The proposal's unmatched, but for those in a group now: placed there by an edited
    approval, or added to it later."""
    placed = {pid for g in state.approved or () for pid in (*g.mentors, *g.mentees)}
    placed |= {m.person_id for members in added.values() for m in members}
    unmatched = state.proposal.unmatched if state.proposal else ()
    return [u for u in unmatched if u.person_id not in placed]


async def page(
    request: Request,
    state: ProgrammeState,
    status_code: int = 200,
    **context: object,
) -> Response:
    """The programme page; once groups are launched, with their members as their records have
    them now (the projection's folded groups), since the programme's own record does not follow
    a member added to a group later."""
    web = web_of(request)
    added = await members_added(web, state)
    zone = state.programme.timezone
    dates = Dates(zone, locale_of(request))
    calendar = state.calendar
    local = ZoneInfo(zone)
    last_day = (calendar.ends_at - timedelta(microseconds=1)).astimezone(local).date()
    shown: dict[str, object] = {
        "errors": {},
        "refusal": None,
        "placed": placement(state),
        "edited": None,
        "broken": None,
        "checked_ok": False,
        "done": None,
        "reasons": REMOVAL_REASONS,
        "enrolling": {},
    }
    shown.update(context)
    return render(
        request,
        "staff/programme.html",
        status_code,
        state=state,
        dates=dates,
        zone=zone,
        last_day=last_day,
        training_last_day=(calendar.training_deadline - timedelta(microseconds=1))
        .astimezone(local)
        .date(),
        mentors=sorted(
            (p for p in state.participants.values() if p.role == Role.MENTOR), key=lambda p: p.id
        ),
        new_group=new_group(state),
        added=added,
        not_matched=not_matched(state, added),
        today=dates.today(web.now()),
        **shown,
    )


@router.get("/{programme_id}")
async def programme_page(
    request: Request, programme_id: str, member: ProgrammeActor, done: str = ""
) -> Response:
    state = await recorded(web_of(request), programme_id)
    return await page(request, state, done=DONE.get(done))


async def posted(request: Request, programme_id: str) -> tuple[FormData, ProgrammeState]:
    """The posted form, if it carries the session's CSRF token, and the programme's state."""
    form = await checked_form(request)
    return form, await recorded(web_of(request), programme_id)


def trained_command(form: FormData, state: ProgrammeState) -> Build | Errors:
    """The command of the mark-trained form, or its errors."""
    person_id = str(form.get("person_id") or "")
    try:
        trained_on = date.fromisoformat(str(form.get("trained_on") or ""))
    except ValueError:
        return {"trained_on": N_("Enter the date of the training, like 2026-03-05.")}
    if person_id not in state.participants:
        return {"person_id": N_("Choose a mentor of the programme.")}
    return lambda by: MarkTrained(by=by, person_id=person_id, trained_on=trained_on)


def remove_command(form: FormData, state: ProgrammeState) -> Build | Errors:
    """The command of the removal form, or its errors."""
    person_id, reason = str(form.get("person_id") or ""), str(form.get("reason") or "")
    errors = {}
    if person_id not in state.participants:
        errors["remove_person"] = N_("Choose a participant of the programme.")
    if reason not in get_args(RemovalReason):
        errors["reason"] = N_("Choose why they are removed.")
    return errors or (lambda by: Remove(by=by, person_id=person_id, reason=reason))


@router.post("/{programme_id}/trained")
async def mark_trained(request: Request, programme_id: str, member: ProgrammeActor) -> Response:
    form, state = await posted(request, programme_id)
    return await steered(
        request, programme_id, member, state, trained_command(form, state), "trained"
    )


@router.post("/{programme_id}/remove")
async def remove(request: Request, programme_id: str, member: ProgrammeActor) -> Response:
    form, state = await posted(request, programme_id)
    return await steered(
        request, programme_id, member, state, remove_command(form, state), "removed"
    )


@router.post("/{programme_id}/matching")
async def edit_matching(request: Request, programme_id: str, member: ProgrammeActor) -> Response:
    """``action=check`` checks the edited groups; ``action=approve`` approves them (or the
    proposal as it is, when nothing was moved)."""
    form, state = await posted(request, programme_id)
    placed = placed_in(state, {k: str(v) for k, v in form.items()})
    numbers, errors = numbered(state, placed)
    if errors:
        return await page(request, state, 400, placed=placed, errors=errors)
    groups = edited_groups(state, numbers)
    edited, broken = checked(state, groups) if groups is not None else (None, None)
    if broken is not None or form.get("action") != "approve":
        return await page(
            request,
            state,
            400 if broken else 200,
            placed=placed,
            edited=edited,
            broken=broken,
            checked_ok=broken is None,
        )

    def command(by: str) -> ApproveMatching:
        return ApproveMatching(by=by, groups=groups)

    return await steered(request, programme_id, member, state, command, "approved", placed=placed)


async def steered(
    request: Request,
    programme_id: str,
    member: StaffMember,
    state: ProgrammeState,
    build: Build | Errors,
    done: str,
    **shown: object,
) -> Response:
    """Send the Update; the confirmation, or the page again with the form's errors (400) or the
    domain's refusal (409)."""
    if isinstance(build, dict):
        return await page(request, state, 400, errors=build)
    refusal = await send(web_of(request), programme_id, member, state, build)
    if refusal is not None:
        return await page(request, state, 409, refusal=reason_of(refusal), **shown)
    return confirmed(programme_id, done)


def confirmed(programme_id: str, what: str) -> Response:
    return RedirectResponse(
        f"/staff/programmes/{segment(programme_id)}?done={what}", status_code=303
    )


# ---- the JSON twin under /api/v1 ----------------------------------------------------------

api = APIRouter(
    prefix="/api/v1/programmes", tags=["coordination"], responses=PROBLEMS, dependencies=WAYS_IN
)


class ParticipantView(BaseModel):
    model_config = ConfigDict(frozen=True)
    person_id: str
    role: Role
    trained_on: date | None


class AddedMember(BaseModel):
    """A person added to a running group since the matching (the inbox's *Replace or add a
    member*), by id."""

    model_config = ConfigDict(frozen=True)
    group: int
    person_id: str
    role: Role
    replaces: str | None


class ProgrammeView(BaseModel):
    """A programme as its coordinator steers it: ids, local dates and the matching proposal."""

    model_config = ConfigDict(frozen=True)
    programme_id: str
    timezone: str
    phase: ProgrammePhase
    starts_on: date
    ends_on: date
    """The programme's last day (local)."""
    training_by: date
    """The last day of the mentors' training (local)."""
    matching_on: date
    midpoint_survey_on: date
    closing_event_on: date | None
    approval_due: datetime | None
    participants: list[ParticipantView]
    excluded: list[str]
    """Mentors left out of the matching untrained."""
    proposal: MatchingResult | None
    approved: list[ProposedGroup] | None
    not_matched: list[Unmatched] = Field(
        description="The proposal's unmatched who are in no group now (neither placed by an "
        "edited approval nor added to a group later)"
    )
    added_later: list[AddedMember] = Field(
        description="Members added to a running group since the matching, still in it"
    )


def view_of(
    state: ProgrammeState, added: Mapping[int, list[MemberState]] | None = None
) -> ProgrammeView:
    """The programme as the API shows it; ``added``: ``members_added`` (none: no group has a
    member added later)."""
    added = added or {}
    zone = ZoneInfo(state.programme.timezone)
    c = state.calendar

    def day(moment: datetime) -> date:
        return moment.astimezone(zone).date()

    def last_day(end: datetime) -> date:
        return day(end - timedelta(microseconds=1))

    return ProgrammeView(
        programme_id=state.programme.id,
        timezone=state.programme.timezone,
        phase=state.phase,
        starts_on=day(c.starts_at),
        ends_on=last_day(c.ends_at),
        training_by=last_day(c.training_deadline),
        matching_on=day(c.matching_at),
        midpoint_survey_on=day(c.midpoint_survey_at),
        closing_event_on=day(c.closing_event_at) if c.closing_event_at else None,
        approval_due=state.approval_due,
        participants=[
            ParticipantView(person_id=p.id, role=p.role, trained_on=p.trained_on)
            for _, p in sorted(state.participants.items())
        ],
        excluded=list(state.excluded),
        proposal=state.proposal,
        approved=state.approved,
        not_matched=not_matched(state, added),
        added_later=[
            AddedMember(group=number, person_id=m.person_id, role=m.role, replaces=m.replaced)
            for number, members in sorted(added.items())
            for m in members
        ],
    )


class Accepted(BaseModel):
    """The programme took the Update (the record has its events)."""

    accepted: bool = True


class ParticipantRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_id: str = Field(min_length=1, max_length=128)


class TrainedRequest(ParticipantRequest):
    trained_on: date

    def command(self, by: str) -> MarkTrained:
        return MarkTrained(by=by, person_id=self.person_id, trained_on=self.trained_on)


class RemoveRequest(ParticipantRequest):
    reason: RemovalReason

    def command(self, by: str) -> Remove:
        return Remove(by=by, person_id=self.person_id, reason=self.reason)


class GroupsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    groups: list[GroupAssignment] | None = Field(
        None, max_length=2000, description="An edited assignment; none: the proposal as it is"
    )

    def command(self, by: str) -> ApproveMatching:
        return ApproveMatching(by=by, groups=None if self.groups is None else tuple(self.groups))


REFUSED: dict[int | str, dict[str, Any]] = {
    404: PROBLEMS[403] | {"description": "No programme with this id in the record"},
    **UPDATE_ANSWERS,
}


@dataclass(frozen=True)
class Steering:
    """A programme as the signed-in member who acts on it (reads nothing yet)."""

    web: Web
    programme_id: str
    member: StaffMember

    async def steer(self, build: Build) -> Accepted:
        """Send the Update; a 409 problem with the domain's refusal when it is refused."""
        state = await recorded(self.web, self.programme_id)
        refusal = await send(self.web, self.programme_id, self.member, state, build)
        if refusal is not None:
            raise Refused(409, f"{refusal.type}: {refusal.message}")
        return Accepted()


async def steering(request: Request, programme_id: str, member: ProgrammeActor) -> Steering:
    return Steering(web_of(request), programme_id, member)


Steered = Annotated[Steering, Depends(steering)]


@api.get("/{programme_id}", summary="A programme: calendar, phase, participants, matching")
async def programme(request: Request, programme_id: str, member: ProgrammeActor) -> ProgrammeView:
    web = web_of(request)
    state = await recorded(web, programme_id)
    return view_of(state, await members_added(web, state))


def sends_update(path: str, summary: str) -> Callable[[Endpoint], Endpoint]:
    """Registers a POST that sends an Update to the programme (409: the domain refused it)."""
    return api.post(f"/{{programme_id}}{path}", summary=summary, responses=REFUSED)


@sends_update("/trained", "Mark a mentor trained")
async def trained(body: TrainedRequest, programme: Steered) -> Accepted:
    return await programme.steer(body.command)


@sends_update(
    "/removal", "Remove a participant (before the matching), for one of the listed reasons"
)
async def removal(body: RemoveRequest, programme: Steered) -> Accepted:
    return await programme.steer(body.command)


@api.post(
    "/{programme_id}/matching/check",
    summary="Check edited groups against the matching's hard rules (writes nothing)",
    responses=REFUSED,
)
async def check_matching(
    request: Request, programme_id: str, body: GroupsRequest, member: ProgrammeActor
) -> list[ProposedGroup]:
    state = await recorded(web_of(request), programme_id)
    if body.groups is None:
        return list(state.proposal.groups) if state.proposal else []
    groups, broken = checked(state, tuple(body.groups))
    if broken is not None:
        raise Refused(409, f"invalid_groups: {broken}")
    return groups


@sends_update("/matching/approval", "Approve the proposal, or edited groups instead")
async def approve(body: GroupsRequest, programme: Steered) -> Accepted:
    return await programme.steer(body.command)
