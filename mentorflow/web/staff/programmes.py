"""The coordinator's overviews (read only): programmes with what needs attention, and the health
of each programme's groups, from the projection in ``views`` (counts only)."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mentorflow.web.i18n import N_
from mentorflow.web.identity import Refused
from mentorflow.web.pages import Dates, locale_of, render, web_of
from mentorflow.web.staff import views
from mentorflow.web.staff.identity import CurrentStaff
from store.staff import Role, StaffMember

router = APIRouter(prefix="/staff/programmes", include_in_schema=False)


def readable(member: StaffMember) -> list[str] | None:
    """The programmes ``member`` may read (None: every one)."""
    # Staff auditors and admins have no programmes listed (the register's CHECK); an API key
    # has its one programme, whatever its role.
    scoped = member.role == Role.COORDINATOR or member.programmes
    return list(member.programmes) if scoped else None


def check_reads(member: StaffMember, programme_id: str) -> None:
    if not member.reads(programme_id):
        raise Refused(403, N_("This programme is not one of yours."))


@router.get("")
async def programme_list(request: Request, member: CurrentStaff) -> Response:
    found = await views.programmes(web_of(request).pool, readable(member))
    locale = locale_of(request)
    dates = {p.programme_id: Dates(p.timezone, locale) for p in found}
    acts = {p.programme_id for p in found if member.acts_on(p.programme_id)}
    return render(request, "staff/programmes.html", programmes=found, dates=dates, acts=acts)


@router.get("/{programme_id}/groups")
async def group_health(request: Request, programme_id: str, member: CurrentStaff) -> Response:
    check_reads(member, programme_id)
    web = web_of(request)
    found = await views.groups(web.pool, programme_id)
    entry = await web.reader.programme(programme_id)
    zone = entry.timezone if entry else "UTC"
    return render(
        request,
        "staff/groups.html",
        programme_id=programme_id,
        groups=found,
        dates=Dates(zone, locale_of(request)),
        zone=zone,
        auditor=member.role in (Role.AUDITOR, Role.ADMIN),
    )
