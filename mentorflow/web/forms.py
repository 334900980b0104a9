"""The forms of a group: agreement, meeting, feedback, pause, resume and leave.

Each builds one domain command from the form, with the session's person as ``by``, and sends it
as an Update; bad input is shown at its field, and a refusal with the domain's reason.
"""

from collections.abc import Callable
from datetime import date
from typing import Any, NamedTuple

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from activities.links import AGREEMENT, FEEDBACK_PREFIX, GROUP, MEETING
from domain.relationship.commands import (
    Command,
    Pause,
    RecordAgreement,
    RecordMeeting,
    Resume,
    SubmitFeedback,
    Withdraw,
)
from domain.relationship.events import FeedbackRound
from domain.relationship.state import RelationshipState
from mentorflow.web import feedback
from mentorflow.web.groups import (
    REFUSALS,
    ROUNDS,
    agenda_of,
    confirmed,
    dates_for,
    enter,
    member_group,
    names_of,
    send_update,
)
from mentorflow.web.i18n import N_
from mentorflow.web.identity import (
    Person,
    Refused,
    checked_form,
    current_person,
)
from mentorflow.web.pages import render, segment, web_of
from workflows.relationship import RelationshipWorkflow

router = APIRouter()


async def form_page(
    request: Request,
    rid: str,
    purpose: str,
    t: str | None,
    template: str,
    extra: Callable[[RelationshipState], dict[str, Any]] | None = None,
    **context: Any,
) -> Response:
    """A form of the group, entered by a personal link or the session; ``extra`` adds what the
    page needs from the group's state."""
    entered = await enter(request, rid, purpose, t)
    if isinstance(entered, Response):
        return entered
    web = web_of(request)
    state = await member_group(web, entered, rid)
    if extra is not None:
        context |= extra(state)
    dates = await dates_for(request, web, state.programme_id)
    names = await names_of(web, state)
    return render(
        request,
        template,
        s=state,
        base=f"/g/{segment(rid)}",
        names=names,
        today=dates.today(web.now()).isoformat(),
        errors={},
        refusal=None,
        values={},
        dates=dates,
        **context,
    )


async def refused_form(
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
    state = await member_group(web, person, rid)
    dates = await dates_for(request, web, state.programme_id)
    return render(
        request,
        template,
        status_code=400 if errors else 409,
        s=state,
        base=f"/g/{segment(rid)}",
        names=await names_of(web, state),
        today=dates.today(web.now()).isoformat(),
        errors=errors,
        refusal=refusal,
        values=values,
        dates=dates,
        **extra,
    )


async def posted(request: Request, rid: str) -> tuple[Person, FormData, RelationshipState]:
    """The signed-in person, their form (if it carries the session's CSRF token) and their
    group."""
    person = current_person(request)
    form = await checked_form(request)
    return person, form, await member_group(web_of(request), person, rid)


class Filled(NamedTuple):
    """A posted form of a group as it was filled in, to show again when it is refused."""

    request: Request
    rid: str
    template: str
    values: dict[str, Any]
    extra: dict[str, Any]
    """What else the page needs (as ``form_page``'s ``extra`` gives it)."""

    async def again(
        self, errors: dict[str, str], refusal: tuple[str, str] | None = None
    ) -> Response:
        """The form again: with its errors (400), or with the group's refusal (409)."""
        return await refused_form(
            self.request, self.rid, self.template, errors, refusal, self.values, **self.extra
        )

    async def send(self, update: Any, command: Command, done: str) -> Response:
        """Send the command as an Update; the confirmation, or the form again with the
        group's refusal."""
        refusal = await send_update(web_of(self.request), self.rid, update, command)
        if refusal:
            return await self.again({}, refusal)
        return confirmed(self.rid, done)


@router.get("/g/{rid}/agreement")
async def agreement_page(request: Request, rid: str, t: str | None = None) -> Response:
    return await form_page(request, rid, AGREEMENT, t, "agreement.html")


@router.post("/g/{rid}/agreement")
async def record_agreement(request: Request, rid: str) -> Response:
    person, form, _ = await posted(request, rid)
    values = {"goals": str(form.get("goals") or ""), "agreement": str(form.get("agreement") or "")}
    filled = Filled(request, rid, "agreement.html", values, {})
    goals = tuple(line.strip() for line in values["goals"].splitlines() if line.strip())
    errors = {}
    if not goals:
        errors["goals"] = N_("Write at least one goal, one per line.")
    if not values["agreement"].strip():
        errors["agreement"] = N_("Write how you will work together.")
    if errors:
        return await filled.again(errors)
    try:
        command = RecordAgreement(by=person.person_id, goals=goals, agreement=values["agreement"])
    except ValidationError:
        return await filled.again({"agreement": N_("Keep each text under 4,000 characters.")})
    return await filled.send(RelationshipWorkflow.record_agreement, command, "agreement")


@router.get("/g/{rid}/meeting")
async def meeting_page(request: Request, rid: str, t: str | None = None) -> Response:
    return await form_page(
        request, rid, MEETING, t, "meeting.html", extra=lambda s: {"agenda": agenda_of(s)}
    )


@router.post("/g/{rid}/meeting")
async def record_meeting(request: Request, rid: str) -> Response:
    person, form, state = await posted(request, rid)
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
    filled = Filled(request, rid, "meeting.html", values, {})
    if errors:
        return await filled.again(errors)
    try:
        command = RecordMeeting(
            by=person.person_id,
            held_on=held_on,
            held=held,
            attendees=tuple(values["attendees"]) if held else (),
            reason=values["reason"] if not held else None,
        )
    except ValidationError:
        return await filled.again({"reason": N_("Keep each text under 4,000 characters.")})
    return await filled.send(RelationshipWorkflow.record_meeting, command, "meeting")


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
        state = await member_group(web_of(request), current_person(request), rid)
        status = _round_status(state, feedback_round, current_person(request).person_id)
    return await form_page(
        request,
        rid,
        f"{FEEDBACK_PREFIX}{feedback_round}",
        t,
        "feedback.html",
        round_key=feedback_round.value,
        questions_of=feedback.questions_of,
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
    person, form, state = await posted(request, rid)
    questions = feedback.questions_of(state, feedback_round)
    values = {q.id: str(form.get(q.id) or "") for q in questions}
    answers, choices, errors = feedback.check(questions, values)
    extra = {
        "round_key": feedback_round.value,
        "questions_of": feedback.questions_of,
        "round_name": ROUNDS[feedback_round],
        "scale": feedback.SCALE,
        "status": None,
    }
    filled = Filled(request, rid, "feedback.html", values, extra)
    if errors:
        return await filled.again(errors)
    command = SubmitFeedback(
        by=person.person_id, round=feedback_round, answers=answers, choices=choices
    )
    return await filled.send(RelationshipWorkflow.submit_feedback, command, "feedback")


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
    return await form_page(
        request, rid, GROUP, None, "action.html", action=action, texts=ACTIONS.get(action)
    )


@router.post("/g/{rid}/{action}")
async def act(request: Request, rid: str, action: str) -> Response:
    if action not in (*ACTIONS, "resume"):
        raise Refused(404, N_("There is no such page."))
    person, form, _ = await posted(request, rid)
    reason = str(form.get("reason") or "").strip()
    extra = {"action": action, "texts": ACTIONS.get(action)}
    filled = Filled(request, rid, "action.html", {"reason": reason}, extra)
    if action != "resume" and not reason:
        return await filled.again({"reason": N_("Write a reason.")})
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
        return await filled.again({"reason": N_("Keep each text under 4,000 characters.")})
    return await filled.send(update, command, action)
