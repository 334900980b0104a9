"""Pages of a mentoring group: each is a thin view over the group's state and one Update.

The acting person is always the session's; the workflow's validators decide, and a refusal is
shown with the domain's reason.
"""

import asyncio
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from activities.links import AGREEMENT, FEEDBACK_PREFIX, GROUP, ME, MEETING
from domain.commands import (
    Command,
    Pause,
    RecordAgreement,
    RecordMeeting,
    Resume,
    SubmitFeedback,
    Withdraw,
)
from domain.events import FeedbackRound
from domain.model import Role
from domain.state import RelationshipState
from mentorflow.web import feedback
from mentorflow.web.i18n import N_
from mentorflow.web.identity import (
    Person,
    Refused,
    checked_form,
    current_person,
    read_link,
    sign_in,
)
from mentorflow.web.pages import Dates, Web, locale_of, render, web_of
from workflows.messages import workflow_id
from workflows.relationship import RelationshipWorkflow

router = APIRouter()

UPDATE_TIMEOUT = 30.0

ROLES = {Role.MENTOR: N_("Mentor"), Role.MENTEE: N_("Mentee")}
ROUNDS = {
    FeedbackRound.MIDPOINT: N_("Midpoint feedback"),
    FeedbackRound.FINAL: N_("Final feedback"),
}
DONE = {
    "agreement": N_("The agreement and goals are recorded."),
    "meeting": N_("The meeting is recorded."),
    "feedback": N_("Thank you: your feedback is recorded."),
    "pause": N_("The group is paused. Nothing is due while it is paused."),
    "resume": N_("The group is active again."),
    "leave": N_("You have left the programme. The group and the coordinator have been told."),
}
REFUSALS = {
    "not_a_member": N_("You are not an active member of this group."),
    "duplicate": N_("This has already been recorded."),
    "future_date": N_("The date is in the future."),
    "before_start": N_("The date is before the group started."),
    "invalid_attendance": N_(
        "Check who attended: a meeting held needs its attendees, one not held needs a reason."
    ),
    "no_open_meeting": N_("No meeting is open for recording."),
    "round_not_open": N_("This feedback round is not open yet."),
    "round_closed": N_("This feedback round is closed."),
    "paused": N_("The group is paused: resume it first."),
    "not_paused": N_("The group is not paused."),
    "relationship_closed": N_("The group has closed."),
    "not_allowed": N_("You cannot do this."),
}


async def _enter(request: Request, rid: str, purpose: str, t: str | None) -> Person | Response:
    """The signed-in person; a personal link signs its person in and leaves the URL."""
    if t is not None:
        claim = read_link(web_of(request), t, purpose, None if purpose == ME else rid)
        await sign_in(request, claim)
        return RedirectResponse(request.url.path, status_code=303)
    return current_person(request)


async def _group(web: Web, person: Person, rid: str) -> RelationshipState:
    """The group, if ``person`` is (or was) in it; the same 404 whether it exists or not."""
    state = await web.reader.relationship(rid)
    if (
        state is None
        or state.programme_id != person.programme_id
        or person.person_id not in state.members
    ):
        raise Refused(404, N_("There is no such group, or you are not in it."))
    return state


async def _dates(request: Request, web: Web, programme_id: str) -> Dates:
    programme = await web.reader.programme(programme_id)
    return Dates(programme.timezone if programme else "UTC", locale_of(request))


async def _send(web: Web, rid: str, update: Any, command: Command) -> tuple[str, str] | None:
    """Send the Update; None when accepted, else (translatable reason, the domain's sentence)."""
    handle = web.client.get_workflow_handle(workflow_id(rid))
    try:
        await asyncio.wait_for(handle.execute_update(update, command), UPDATE_TIMEOUT)
    except WorkflowUpdateFailedError as e:
        cause = e.cause
        if isinstance(cause, ApplicationError) and cause.type in REFUSALS:
            return REFUSALS[cause.type], cause.message
        return N_("The request was refused."), str(
            cause.message if isinstance(cause, ApplicationError) else e
        )
    except RPCError as e:
        return REFUSALS["relationship_closed"], e.message
    except TimeoutError as e:
        raise Refused(503, N_("The service is busy. Try again in a moment.")) from e
    return None


def _done(rid: str, what: str) -> Response:
    return RedirectResponse(f"/g/{quote(rid, safe='')}?done={what}", status_code=303)


@router.get("/")
async def home(request: Request) -> Response:
    return RedirectResponse("/me" if request.session.get("person") else "/signin", status_code=303)


@router.get("/me")
async def my_groups(request: Request, t: str | None = None) -> Response:
    entered = await _enter(request, "", ME, t)
    if isinstance(entered, Response):
        return entered
    web = web_of(request)
    groups = []
    for rid in await web.reader.groups_of(entered.programme_id, entered.person_id):
        state = await web.reader.relationship(rid)
        if state is not None:
            groups.append(state)
    if len(groups) == 1:
        return RedirectResponse(f"/g/{quote(groups[0].relationship_id, safe='')}", status_code=303)
    programme = await web.reader.programme(entered.programme_id)
    coordinator = programme is not None and programme.coordinator_id == entered.person_id
    return render(request, "me.html", groups=groups, programme=programme, coordinator=coordinator)


@router.get("/g/{rid}")
async def group_page(request: Request, rid: str, t: str | None = None, done: str = "") -> Response:
    entered = await _enter(request, rid, GROUP, t)
    if isinstance(entered, Response):
        return entered
    web = web_of(request)
    state = await _group(web, entered, rid)
    programme = await web.reader.programme(state.programme_id)
    dates = Dates(programme.timezone if programme else "UTC", locale_of(request))
    context = await _group_view(web, state, entered, dates)
    context["programme"] = programme
    return render(request, "group.html", done=DONE.get(done), **context)


async def _names(web: Web, state: RelationshipState) -> dict[str, str]:
    contacts = await web.reader.directory.people(state.programme_id, state.members)
    return {p: (contacts[p].name if p in contacts else p) for p in state.members}


async def _group_view(web: Web, s: RelationshipState, me: Person, dates: Dates) -> dict[str, Any]:
    names = await _names(web, s)
    mine = s.members[me.person_id]
    base = f"/g/{quote(s.relationship_id, safe='')}"
    todo: list[tuple[str, str, str]] = []  # (what, by when, link)
    if not s.closed and mine.active and s.paused_since is None:
        if s.agreement.recorded_at is None:
            todo.append(
                (
                    N_("Record the group agreement and goals"),
                    dates.day(s.agreement.due_at),
                    f"{base}/agreement",
                )
            )
        for r in s.feedback.values():
            if r.requested_at is not None and not r.closed and me.person_id not in r.answers:
                todo.append((ROUNDS[r.round], dates.day(r.due_at), f"{base}/feedback/{r.round}"))
        if s.open_meetings():
            todo.append(
                (
                    N_("Meet and record the meeting"),
                    dates.day(s.open_meetings()[0].due_at),
                    f"{base}/meeting",
                )
            )
    meetings = [
        {
            "number": m.number,
            "due": dates.day(m.due_at),
            "status": m.status.value,
            "held_on": dates.day(m.held_on) if m.held_on else None,
            "attendees": ", ".join(names.get(p, p) for p in m.attendees),
        }
        for m in s.meetings
    ]
    rounds = [
        {
            "name": ROUNDS[r.round],
            "due": dates.day(r.due_at),
            "answered": me.person_id in r.answers,
            "open": r.requested_at is not None and not r.closed,
            "opens": dates.day(r.opens_at),
            "link": f"{base}/feedback/{r.round}",
        }
        for r in s.feedback.values()
    ]
    return {
        "s": s,
        "base": base,
        "me": me.person_id,
        "active": mine.active,
        "members": [(names[p], ROLES[m.role], m.active) for p, m in s.members.items()],
        "agreement_on": dates.day(s.agreement.recorded_at) if s.agreement.recorded_at else None,
        "agreement_due": dates.day(s.agreement.due_at),
        "meetings": meetings,
        "rounds": rounds,
        "todo": todo,
        "starts": dates.day(s.starts_at),
        "ends": dates.day(s.ends_at),
        "closed_on": dates.day(s.closure.closed_at) if s.closure else None,
        "paused_since": dates.day(s.paused_since) if s.paused_since else None,
    }


async def _form_page(
    request: Request, rid: str, purpose: str, t: str | None, template: str, **extra: Any
) -> Response:
    entered = await _enter(request, rid, purpose, t)
    if isinstance(entered, Response):
        return entered
    web = web_of(request)
    state = await _group(web, entered, rid)
    dates = await _dates(request, web, state.programme_id)
    names = await _names(web, state)
    return render(
        request,
        template,
        s=state,
        base=f"/g/{quote(rid, safe='')}",
        names=names,
        today=dates.today(web.now()).isoformat(),
        errors={},
        refusal=None,
        values={},
        **extra,
    )


async def _refused_form(
    request: Request,
    rid: str,
    template: str,
    errors: dict[str, str],
    refusal: tuple[str, str] | None,
    values: dict[str, Any],
    **extra: Any,
) -> Response:
    web = web_of(request)
    person = current_person(request)
    state = await _group(web, person, rid)
    dates = await _dates(request, web, state.programme_id)
    return render(
        request,
        template,
        status_code=400 if errors else 409,
        s=state,
        base=f"/g/{quote(rid, safe='')}",
        names=await _names(web, state),
        today=dates.today(web.now()).isoformat(),
        errors=errors,
        refusal=refusal,
        values=values,
        **extra,
    )


@router.get("/g/{rid}/agreement")
async def agreement_page(request: Request, rid: str, t: str | None = None) -> Response:
    return await _form_page(request, rid, AGREEMENT, t, "agreement.html")


@router.post("/g/{rid}/agreement")
async def record_agreement(request: Request, rid: str) -> Response:
    person = current_person(request)
    form = await checked_form(request)
    await _group(web_of(request), person, rid)
    values = {"goals": str(form.get("goals") or ""), "agreement": str(form.get("agreement") or "")}
    goals = tuple(line.strip() for line in values["goals"].splitlines() if line.strip())
    errors = {}
    if not goals:
        errors["goals"] = N_("Write at least one goal, one per line.")
    if not values["agreement"].strip():
        errors["agreement"] = N_("Write how you will work together.")
    command = None
    if not errors:
        try:
            command = RecordAgreement(
                by=person.person_id, goals=goals, agreement=values["agreement"]
            )
        except ValidationError:
            errors["agreement"] = N_("Keep each text under 4,000 characters.")
    if command is None:
        return await _refused_form(request, rid, "agreement.html", errors, None, values)
    refusal = await _send(web_of(request), rid, RelationshipWorkflow.record_agreement, command)
    if refusal:
        return await _refused_form(request, rid, "agreement.html", {}, refusal, values)
    return _done(rid, "agreement")


@router.get("/g/{rid}/meeting")
async def meeting_page(request: Request, rid: str, t: str | None = None) -> Response:
    return await _form_page(request, rid, MEETING, t, "meeting.html")


@router.post("/g/{rid}/meeting")
async def record_meeting(request: Request, rid: str) -> Response:
    person = current_person(request)
    form = await checked_form(request)
    state = await _group(web_of(request), person, rid)
    held = form.get("held") != "no"
    values: dict[str, Any] = {
        "held_on": str(form.get("held_on") or ""),
        "held": "yes" if held else "no",
        "attendees": [str(a) for a in form.getlist("attendees") if str(a) in state.members],
        "reason": str(form.get("reason") or ""),
    }
    errors = {}
    try:
        held_on = date.fromisoformat(values["held_on"])
    except ValueError:
        errors["held_on"] = N_("Enter the date of the meeting.")
    if held and not values["attendees"]:
        errors["attendees"] = N_("Choose who attended.")
    if not held and not values["reason"].strip():
        errors["reason"] = N_("Say why the meeting did not take place.")
    command = None
    if not errors:
        try:
            command = RecordMeeting(
                by=person.person_id,
                held_on=held_on,
                held=held,
                attendees=tuple(values["attendees"]) if held else (),
                reason=values["reason"] if not held else None,
            )
        except ValidationError:
            errors["reason"] = N_("Keep each text under 4,000 characters.")
    if command is None:
        return await _refused_form(request, rid, "meeting.html", errors, None, values)
    refusal = await _send(web_of(request), rid, RelationshipWorkflow.record_meeting, command)
    if refusal:
        return await _refused_form(request, rid, "meeting.html", {}, refusal, values)
    return _done(rid, "meeting")


def _round(name: str) -> FeedbackRound:
    try:
        return FeedbackRound(name)
    except ValueError as e:
        raise Refused(404, N_("There is no such feedback round.")) from e


@router.get("/g/{rid}/feedback/{round_name}")
async def feedback_page(
    request: Request, rid: str, round_name: str, t: str | None = None
) -> Response:
    feedback_round = _round(round_name)
    status = None
    if t is None and request.session.get("person"):
        # Say at once what the workflow would answer (it still decides when a form is sent).
        state = await _group(web_of(request), current_person(request), rid)
        status = _round_status(state, feedback_round, current_person(request).person_id)
    return await _form_page(
        request,
        rid,
        f"{FEEDBACK_PREFIX}{feedback_round}",
        t,
        "feedback.html",
        questions=feedback.QUESTIONS,
        round_name=ROUNDS[feedback_round],
        scale=feedback.SCALE,
        status=status,
    )


def _round_status(s: RelationshipState, feedback_round: FeedbackRound, me: str) -> str | None:
    r = s.feedback[feedback_round]
    if me in r.answers:
        return N_("You have answered this round. Thank you!")
    if r.requested_at is None:
        return REFUSALS["round_not_open"]
    if r.closed:
        return REFUSALS["round_closed"]
    return None


@router.post("/g/{rid}/feedback/{round_name}")
async def submit_feedback(request: Request, rid: str, round_name: str) -> Response:
    feedback_round = _round(round_name)
    person = current_person(request)
    form = await checked_form(request)
    await _group(web_of(request), person, rid)
    values = {q.id: str(form.get(q.id) or "") for q in feedback.QUESTIONS}
    answers, errors = feedback.check(values)
    extra = {
        "questions": feedback.QUESTIONS,
        "round_name": ROUNDS[feedback_round],
        "scale": feedback.SCALE,
        "status": None,
    }
    if errors:
        return await _refused_form(request, rid, "feedback.html", errors, None, values, **extra)
    command = SubmitFeedback(by=person.person_id, round=feedback_round, answers=answers)
    refusal = await _send(web_of(request), rid, RelationshipWorkflow.submit_feedback, command)
    if refusal:
        return await _refused_form(request, rid, "feedback.html", {}, refusal, values, **extra)
    return _done(rid, "feedback")


ACTIONS = {
    "pause": (
        N_("Pause the group"),
        N_("Why do you want to pause the group?"),
        N_("Pause the group"),
    ),
    "leave": (N_("Leave the programme"), N_("Why are you leaving?"), N_("Leave the programme")),
}


@router.get("/g/{rid}/{action}")
async def action_page(request: Request, rid: str, action: str) -> Response:
    if action not in (*ACTIONS, "resume"):
        raise Refused(404, N_("There is no such page."))
    return await _form_page(
        request, rid, GROUP, None, "action.html", action=action, texts=ACTIONS.get(action)
    )


@router.post("/g/{rid}/{action}")
async def act(request: Request, rid: str, action: str) -> Response:
    if action not in (*ACTIONS, "resume"):
        raise Refused(404, N_("There is no such page."))
    person = current_person(request)
    form = await checked_form(request)
    await _group(web_of(request), person, rid)
    reason = str(form.get("reason") or "").strip()
    extra = {"action": action, "texts": ACTIONS.get(action)}
    values = {"reason": reason}
    if action != "resume" and not reason:
        errors = {"reason": N_("Write a reason.")}
        return await _refused_form(request, rid, "action.html", errors, None, values, **extra)
    command: Command
    update: Any
    try:
        if action == "pause":
            command, update = Pause(by=person.person_id, reason=reason), RelationshipWorkflow.pause
        elif action == "leave":
            command = Withdraw(person_id=person.person_id, by=person.person_id, reason=reason)
            update = RelationshipWorkflow.withdraw
        else:
            command, update = Resume(by=person.person_id), RelationshipWorkflow.resume
    except ValidationError:
        errors = {"reason": N_("Keep each text under 4,000 characters.")}
        return await _refused_form(request, rid, "action.html", errors, None, values, **extra)
    refusal = await _send(web_of(request), rid, update, command)
    if refusal:
        return await _refused_form(request, rid, "action.html", {}, refusal, values, **extra)
    return _done(rid, action)
