"""My group, and what every page of a group shares: entering by a personal link, finding the
group of the signed-in person, sending an Update and reading its refusal.

Pages are thin views over the group's state (the fold of its stored events); the workflow's
validators decide, and a refusal is shown with the domain's reason.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from activities.links import GROUP, ME
from domain.model import Role
from domain.relationship.commands import Command
from domain.relationship.events import FeedbackRound
from domain.relationship.state import AgendaItem, RelationshipState
from mentorflow.web.i18n import N_
from mentorflow.web.identity import (
    Person,
    Refused,
    current_person,
    read_link,
    sign_in,
)
from mentorflow.web.pages import Dates, Web, locale_of, render, segment, web_of
from mentorflow.web.updates import execute
from store.sealing import ErasedPersonError
from workflows.messages import workflow_id

router = APIRouter()

ROLES = {Role.MENTOR: N_("Mentor"), Role.MENTEE: N_("Mentee")}
ROUNDS = {
    FeedbackRound.MIDPOINT: N_("Midpoint feedback"),
    FeedbackRound.FINAL: N_("Final feedback"),
}
DONE = {
    "agreement": N_("The agreement and goals are recorded."),
    "meeting": N_("The meeting is recorded."),
    "schedule": N_("The meeting time is set. The group gets a calendar invitation."),
    "cancel": N_("The meeting time is cancelled. The group has been told."),
    "agenda": N_("Your question or topic is on the agenda."),
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
    "missing_answer": N_("A required question has no answer."),
    "out_of_scale": N_("An answer is not a number from 1 to 5."),
    "unknown_option": N_("An answer is not one of the options."),
    "unknown_question": N_("An answer is to a question this round does not ask."),
    "wrong_answer_type": N_("An answer does not fit its question."),
    "paused": N_("The group is paused: resume it first."),
    "not_paused": N_("The group is not paused."),
    "relationship_closed": N_("The group has closed."),
    "not_allowed": N_("You cannot do this."),
    "not_a_mentor": N_("Only the group's mentors set the meeting time."),
    "in_the_past": N_("That time has already passed."),
    "outside_programme": N_("The meeting must be within the group's dates."),
    "not_planned": N_("This meeting has no time set."),
    "agenda_full": N_("The agenda of this meeting is full."),
}


def agenda_of(s: RelationshipState) -> list[AgendaItem]:
    """The agenda of the next open meeting: what the group will talk about."""
    open_slots = s.open_meetings()
    if not open_slots:
        return []
    return [item for item in s.agenda if item.number == open_slots[0].number]


async def enter(request: Request, rid: str, purpose: str, t: str | None) -> Person | Response:
    """The signed-in person; a personal link signs its person in and leaves the URL."""
    if t is not None:
        claim = read_link(web_of(request), t, purpose, None if purpose == ME else rid)
        await sign_in(request, claim)
        return RedirectResponse(request.url.path, status_code=303)
    return current_person(request)


async def member_group(web: Web, person: Person, rid: str) -> RelationshipState:
    """The group, if ``person`` is (or was) in it; the same 404 whether it exists or not."""
    state = await web.reader.relationship(rid)
    if (
        state is None
        or state.programme_id != person.programme_id
        or person.person_id not in state.members
    ):
        raise Refused(404, N_("There is no such group, or you are not in it."))
    return state


async def dates_for(request: Request, web: Web, programme_id: str) -> Dates:
    programme = await web.reader.programme(programme_id)
    return Dates(programme.timezone if programme else "UTC", locale_of(request))


async def send_update(web: Web, rid: str, update: Any, command: Command) -> tuple[str, str] | None:
    """Send the Update, its texts sealed with their author's data key; None when accepted, else
    (translatable reason, the domain's sentence)."""
    handle = web.client.get_workflow_handle(workflow_id(rid))
    try:
        sealed = await web.sealer.seal_command(command, command.by)
    except ErasedPersonError as e:
        return REFUSALS["not_allowed"], str(e)
    refusal = await execute(handle, update, sealed, "relationship_closed")
    if refusal is None:
        return None
    return REFUSALS.get(refusal.type, N_("The request was refused.")), refusal.message


def confirmed(rid: str, what: str) -> Response:
    return RedirectResponse(f"/g/{segment(rid)}?done={what}", status_code=303)


@router.get("/")
async def home(request: Request) -> Response:
    return RedirectResponse("/me" if request.session.get("person") else "/signin", status_code=303)


@router.get("/me")
async def my_groups(request: Request, t: str | None = None) -> Response:
    entered = await enter(request, "", ME, t)
    if isinstance(entered, Response):
        return entered
    web = web_of(request)
    groups = []
    for rid in await web.reader.groups_of(entered.programme_id, entered.person_id):
        state = await web.reader.relationship(rid)
        if state is not None:
            groups.append(state)
    if len(groups) == 1:
        return RedirectResponse(f"/g/{segment(groups[0].relationship_id)}", status_code=303)
    programme = await web.reader.programme(entered.programme_id)
    coordinator = programme is not None and programme.coordinator_id == entered.person_id
    return render(request, "me.html", groups=groups, programme=programme, coordinator=coordinator)


@router.get("/g/{rid}")
async def group_page(request: Request, rid: str, t: str | None = None, done: str = "") -> Response:
    entered = await enter(request, rid, GROUP, t)
    if isinstance(entered, Response):
        return entered
    web = web_of(request)
    state = await member_group(web, entered, rid)
    programme = await web.reader.programme(state.programme_id)
    dates = Dates(programme.timezone if programme else "UTC", locale_of(request))
    context = await _group_view(web, state, entered, dates)
    context["programme"] = programme
    return render(request, "group.html", done=DONE.get(done), **context)


async def names_of(web: Web, state: RelationshipState) -> dict[str, str]:
    return await web.reader.names(state.programme_id, state.members)


async def _group_view(web: Web, s: RelationshipState, me: Person, dates: Dates) -> dict[str, Any]:
    names = await names_of(web, s)
    mine = s.members[me.person_id]
    base = f"/g/{segment(s.relationship_id)}"
    return {
        "s": s,
        "base": base,
        "me": me.person_id,
        "active": mine.active,
        "members": [(names[p], ROLES[m.role], m.active) for p, m in s.members.items()],
        "agreement_on": dates.day(s.agreement.recorded_at) if s.agreement.recorded_at else None,
        "agreement_due": dates.day(s.agreement.due_at),
        "meetings": _meetings(s, names, dates),
        "mentor": mine.role == Role.MENTOR,
        "agenda": [(names.get(i.by, i.by), i.text) for i in agenda_of(s)],
        "next_meeting": s.open_meetings()[0].number if s.open_meetings() else None,
        "rounds": _rounds(s, me, dates, base),
        "todo": _todo(s, me, dates, base),
        "starts": dates.day(s.starts_at),
        "ends": dates.last_day(s.ends_at),
        "closed_on": dates.day(s.closure.closed_at) if s.closure else None,
        "paused_since": dates.day(s.paused_since) if s.paused_since else None,
    }


def _todo(s: RelationshipState, me: Person, dates: Dates, base: str) -> list[tuple[str, str, str]]:
    """What the person has to do next in the group: (what, by when, link)."""
    mine = s.members[me.person_id]
    if s.closed or not mine.active or s.paused_since is not None:
        return []
    todo: list[tuple[str, str, str]] = []
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
        first = s.open_meetings()[0]
        if first.starts_at is None and mine.role == Role.MENTOR:
            todo.append(
                (
                    N_("Set the time of the next meeting"),
                    dates.day(first.due_at),
                    f"{base}/schedule",
                )
            )
        todo.append((N_("Meet and record the meeting"), dates.day(first.due_at), f"{base}/meeting"))
    return todo


def _meetings(s: RelationshipState, names: dict[str, str], dates: Dates) -> list[dict[str, Any]]:
    return [
        {
            "number": m.number,
            "due": dates.day(m.due_at),
            "status": m.status.value,
            "held_on": dates.day(m.held_on) if m.held_on else None,
            "attendees": ", ".join(names.get(p, p) for p in m.attendees),
            "starts": dates.when(m.starts_at) if m.starts_at else None,
            "minutes": m.minutes,
            "place": m.place,
        }
        for m in s.meetings
    ]


def _rounds(s: RelationshipState, me: Person, dates: Dates, base: str) -> list[dict[str, Any]]:
    return [
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
