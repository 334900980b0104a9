"""Enrol a participant on the coordinator's programme page, and its JSON twin.

The person is read with the programme file's and the HR import's own validation: the domain's
``Participant``, each error said by ``field_errors.explain`` at its field, ``expertise`` and
``goals`` split as an export's cells are (``hr_import.participants.listed``). Then the person is
enrolled as ``programme sync`` enrols a new one (``hr_import.sync.apply``): the name and e-mail
address go to the directory only (``programmes.register``, which refuses an id whose personal
data was erased), and the ProgrammeWorkflow's ``enrol`` Update carries the profile (ids, no
name, no address), sent as the signed-in member (``coordinate.acting_person``).

Nothing is written on an error: the form's errors come first, then the domain's own ``decide``
over the recorded state (an id already in the programme, the matching done, not the programme's
coordinator), so that a refused enrolment writes no contact (the contact of an id already in
the programme would be overwritten); the workflow decides again when the Update arrives.
``programme start`` and ``sync`` also check that a worker uses the store they write contacts to
(``deployment.check_same_store``); the web process needs no such check: it enrols only in a
programme found in its own store's record, which only a worker on that store writes.
"""

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from domain.errors import RuleViolation
from domain.factory import EventFactory
from domain.programme.commands import Enrol, decide
from domain.programme.model import Participant, Programme
from domain.programme.state import ProgrammeState
from mentorflow import programmes
from mentorflow.field_errors import explain
from mentorflow.hr_import.participants import LIST_FIELDS, listed
from mentorflow.web.i18n import N_
from mentorflow.web.identity import Refused
from mentorflow.web.pages import Web, locale_of, web_of
from mentorflow.web.staff.api import PROBLEMS, WAYS_IN
from mentorflow.web.staff.coordinate import (
    REFUSALS,
    REFUSED,
    Accepted,
    Errors,
    ProgrammeActor,
    acting_person,
    confirmed,
    page,
    posted,
    reason_of,
    recorded,
    send,
)
from mentorflow.web.updates import Refusal
from store.directory import Contact, Directory
from store.staff import StaffMember

router = APIRouter(prefix="/staff/programmes", include_in_schema=False)

FIELDS = tuple(Participant.model_fields)
"""The form's fields: a participant's of the programme file (id, name, email, role, ...)."""
AT_THE_ID = ("duplicate", "erased")
"""Refusals about the id itself: shown at the id field."""
FIX = {
    "id": N_("Enter an id of letters a-z, digits, '.', '_' or '-' (at most 64)."),
    "name": N_("Enter their name (at most 200 characters)."),
    "email": N_("Enter an e-mail address, like nea.newcomer@example.org."),
    "role": N_("Choose mentor or mentee."),
    "locale": N_("Choose the language of their letters."),
    "unit": N_("Enter the unit in at most 200 characters."),
    "manager": N_("Enter the manager as an id of letters a-z, digits, '.', '_' or '-'."),
    "expertise": N_("Enter at most 50 competences, separated by commas."),
    "goals": N_("Enter at most 50 goals, separated by commas."),
    "capacity": N_("Enter how many groups the mentor can take: a whole number from 1 to 5."),
    "trained_on": N_("Enter the date of the training, like 2026-03-05."),
}
"""What to do about a field that is not valid, translated; the validation's own words follow."""


def entered(form: Mapping[str, Any]) -> dict[str, Any]:
    """The form's fields as a programme file or an export gives them: empty ones absent."""
    data: dict[str, Any] = {}
    for name in FIELDS:
        text = str(form.get(name) or "").strip()
        if text:
            data[name] = listed(text) if name in LIST_FIELDS else text
    return data


def participant_of(data: dict[str, Any], gettext: Callable[[str], str]) -> Participant | Errors:
    """The participant, or each field's first error (``enrol_<field>``: the form's ids): what
    to do (``gettext`` translates it), then what is wrong as ``programme check`` says it."""
    try:
        return Participant.model_validate(data)
    except ValidationError as e:
        errors: Errors = {}
        for error in e.errors():
            field = str(error["loc"][0]) if error["loc"] else "id"
            fix = gettext(FIX.get(field, N_("Check this field.")))
            errors.setdefault(f"enrol_{field}", f"{fix} ({field}: {explain(error)})")
        return errors


async def enrol(
    web: Web, member: StaffMember, state: ProgrammeState, participant: Participant
) -> Refusal | None:
    """Enrol ``participant``: the domain's refusal, or None when the programme took it."""
    profile = participant.profile()
    try:  # the domain's refusals before the contact is written (the workflow decides again)
        acting = await acting_person(web, member, state)
        enrolment = acting.sign(Enrol(by=acting.by, profile=profile))
        decide(state, enrolment, EventFactory(web.now(), uuid.uuid4))
    except RuleViolation as e:
        return Refusal(e.code, str(e))
    directory = Directory(web.pool)
    before = (await directory.people(state.programme.id, [profile.id])).get(profile.id)
    try:
        await programmes.register(web.pool, state.programme, [participant])
    except programmes.ProgrammeError as e:
        return Refusal("erased", str(e))
    try:
        refusal = await send(
            web, state.programme.id, member, state, lambda by: Enrol(by=by, profile=profile)
        )
    except Exception:  # e.g. Temporal did not answer (503): the person may try again
        await _restore(directory, state.programme, profile.id, before)
        raise
    if refusal is not None:
        await _restore(directory, state.programme, profile.id, before)
    return refusal


async def _restore(
    directory: Directory, programme: Programme, person_id: str, before: Contact | None
) -> None:
    """Put the directory back as it was before an enrolment the programme refused (or did not
    answer): no contact is kept for someone who is not enrolled."""
    if before is None:
        await directory.forget(programme.id, person_id)
    else:
        await directory.register(programmes.entry(programme), [before])


@router.post("/{programme_id}/enrol")
async def enrol_page(request: Request, programme_id: str, member: ProgrammeActor) -> Response:
    form, state = await posted(request, programme_id)
    shown = {"enrolling": {name: str(form.get(name) or "") for name in FIELDS}}
    locale, translations = locale_of(request), web_of(request).translations
    participant = participant_of(entered(form), lambda m: translations.gettext(locale, m))
    if isinstance(participant, dict):
        return await page(request, state, 400, errors=participant, **shown)
    refusal = await enrol(web_of(request), member, state, participant)
    if refusal is None:
        return confirmed(programme_id, "enrolled")
    if refusal.type in AT_THE_ID:
        return await page(request, state, 409, errors={"enrol_id": REFUSALS[refusal.type]}, **shown)
    return await page(request, state, 409, refusal=reason_of(refusal), **shown)


# ---- the JSON twin under /api/v1 ----------------------------------------------------------

api = APIRouter(
    prefix="/api/v1/programmes", tags=["coordination"], responses=PROBLEMS, dependencies=WAYS_IN
)


@api.post(
    "/{programme_id}/enrolment",
    summary="Enrol a participant (before the matching); the name and e-mail address go to the"
    " directory only",
    responses=REFUSED,
)
async def enrolment(
    request: Request, programme_id: str, body: Participant, member: ProgrammeActor
) -> Accepted:
    """A participant as the programme file gives one; a 409 problem names the domain's rule
    (``duplicate``, ``matching_done``, ``not_allowed``) or ``erased`` (an id whose personal
    data was erased: enrol them under a new id)."""
    web = web_of(request)
    refusal = await enrol(web, member, await recorded(web, programme_id), body)
    if refusal is not None:
        raise Refused(409, f"{refusal.type}: {refusal.message}")
    return Accepted()
