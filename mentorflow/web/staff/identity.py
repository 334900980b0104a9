"""Staff sign-in: the participants' e-mailed single-use links, for the addresses of ``staff``.

The session holds the staff id only; every request reads the member again, so a member removed
with ``mentorflow staff remove`` (or given another role) is judged by the register as it is now.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from activities.links import STAFF_SIGN_IN
from mentorflow.web.i18n import N_
from mentorflow.web.identity import (
    Refused,
    answer_sign_in_form,
    mail_sign_in_link,
    read_link,
    sign_in_claim,
    used_sign_in_link,  # the participants' single-use record: one table of used links
)
from mentorflow.web.pages import locale_of, render, web_of
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
    oidc = web_of(request).oidc is not None
    return render(request, "signin.html", errors={}, email="", staff=True, oidc=oidc)


@router.post("/signin", include_in_schema=False)
async def send_staff_sign_in_link(request: Request) -> Response:
    web = web_of(request)

    async def mail_link(email: str) -> None:
        member = await StaffRegister(web.pool).by_email(email)
        if member is not None:
            claim = sign_in_claim(web, "", member.staff_id, STAFF_SIGN_IN)
            await mail_sign_in_link(web, member.email, claim, locale_of(request))

    # The same answer whether the address is staff's or not.
    return await answer_sign_in_form(request, mail_link, staff=True, oidc=web.oidc is not None)


@router.get("/signin/link", include_in_schema=False)
async def staff_sign_in_link_page(request: Request, t: str = "") -> Response:
    """A button, not an automatic sign-in: mail scanners that open links must not use them up."""
    read_link(web_of(request), t, STAFF_SIGN_IN, None)
    return render(request, "signin_link.html", token=t, staff=True)


@router.post("/signin/link", include_in_schema=False)
async def use_staff_sign_in_link(request: Request) -> Response:
    claim = await used_sign_in_link(request, STAFF_SIGN_IN)
    member = await StaffRegister(web_of(request).pool).by_id(claim.person_id)
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
