"""Staff sign-in: the participants' e-mailed single-use links, for the addresses of ``staff``.

The session holds the staff id only; every request reads the member again, so a member removed
with ``mentorflow staff remove`` (or given another role) is judged by the register as it is now.
"""

import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from activities.links import SIGN_IN_LIFETIME, STAFF_SIGN_IN, Claim
from activities.mail import smtp
from mentorflow.web.i18n import N_
from mentorflow.web.identity import (
    Refused,
    _first_use,  # the participants' single-use record: one table of used links
    checked_form,
    per_address,
    per_client,
    read_link,
)
from mentorflow.web.pages import Web, locale_of, render, web_of
from mentorflow.web.staff import keys
from store.staff import Role, StaffMember, StaffRegister

router = APIRouter(prefix="/staff")


class StaffNotSignedIn(Exception):
    """The page is for signed-in staff: pages send people to the staff sign-in, the API says 401."""


async def current_staff(request: Request) -> StaffMember:
    holder = await keys.bearer(request)  # an API request with a key: the key, not the session
    if holder is not None:
        return holder
    staff_id = request.session.get("staff")
    if not isinstance(staff_id, str):
        raise StaffNotSignedIn
    member = await StaffRegister(web_of(request).pool).by_id(staff_id)
    if member is None:  # removed since they signed in
        request.session.clear()
        raise StaffNotSignedIn
    return member


CurrentStaff = Annotated[StaffMember, Depends(current_staff)]


async def record_reader(member: CurrentStaff) -> StaffMember:
    """Auditors and admins: the whole record, read only (coordinators see aggregates)."""
    if member.role not in (Role.AUDITOR, Role.ADMIN):
        raise Refused(403, N_("Only auditors and admins can open the record."))
    return member


RecordReader = Annotated[StaffMember, Depends(record_reader)]


async def is_staff(request: Request) -> bool:
    """For the codec server: a signed-in staff member (any role) sends this request."""
    try:
        await current_staff(request)
    except StaffNotSignedIn:
        return False
    return True


@router.get("/signin", include_in_schema=False)
async def staff_sign_in_page(request: Request) -> Response:
    return render(
        request, "staff/signin.html", errors={}, email="", oidc=web_of(request).oidc is not None
    )


@router.post("/signin", include_in_schema=False)
async def send_staff_sign_in_link(request: Request) -> Response:
    form = await checked_form(request)
    raw = str(form.get("email") or "").strip()
    try:
        email = validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError:
        errors = {"email": N_("Enter your work e-mail address, like name@example.org.")}
        oidc = web_of(request).oidc is not None
        return render(request, "staff/signin.html", 400, errors=errors, email=raw[:200], oidc=oidc)
    client = request.client.host if request.client else "unknown"
    if per_client.allow(f"client:{client}") and per_address.allow(f"address:{email.lower()}"):
        member = await StaffRegister(web_of(request).pool).by_email(email)
        if member is not None:
            await _mail_link(web_of(request), member, locale_of(request))
    # The same answer whether the address is staff's or not.
    return render(request, "signin_sent.html")


async def _mail_link(web: Web, member: StaffMember, locale: str) -> None:
    expires = web.now() + SIGN_IN_LIFETIME
    claim = Claim("", member.staff_id, STAFF_SIGN_IN, None, expires, token_id=str(uuid.uuid4()))
    message = EmailMessage()
    message["From"] = web.mail.sender
    message["To"] = member.email
    message["Subject"] = web.translations.gettext(locale, N_("Your Mentorflow sign-in link"))
    message["Content-Language"] = locale
    message["Date"] = format_datetime(web.now())
    message["Message-ID"] = make_msgid(domain=smtp.sender_domain(web.mail.sender))
    text = web.translations.gettext(
        locale, N_("Open this link within 15 minutes to sign in (it works once):")
    )
    message.set_content(f"{text}\n{web.links.url(claim)}\n")
    async with smtp.Session(web.mail) as session:
        await session.send(message, member.email)


@router.get("/signin/link", include_in_schema=False)
async def staff_sign_in_link_page(request: Request, t: str = "") -> Response:
    """A button, not an automatic sign-in: mail scanners that open links must not use them up."""
    read_link(web_of(request), t, STAFF_SIGN_IN, None)
    return render(request, "staff/signin_link.html", token=t)


@router.post("/signin/link", include_in_schema=False)
async def use_staff_sign_in_link(request: Request) -> Response:
    form = await checked_form(request)
    web = web_of(request)
    claim = read_link(web, str(form.get("t") or ""), STAFF_SIGN_IN, None)
    if claim.token_id is None or not await _first_use(web.pool, claim.token_id):
        raise Refused(410, N_("This sign-in link was already used. Ask for a new one."))
    member = await StaffRegister(web.pool).by_id(claim.person_id)
    if member is None:
        raise Refused(403, N_("This link is for someone who is no longer on the staff."))
    locale = request.session.get("locale")
    request.session.clear()  # a fresh session (and CSRF token) for every sign-in
    request.session["staff"] = member.staff_id
    if locale:
        request.session["locale"] = locale
    return RedirectResponse("/staff", status_code=303)


@router.get("", include_in_schema=False)
async def staff_home(request: Request, member: CurrentStaff) -> Response:
    return render(request, "staff/home.html", member=member)
