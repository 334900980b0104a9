"""The auditor's pages (read only): find a relationship, its timeline and state as of a date,
the verification of its record, and the export. No page here sends an Update."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from mentorflow.audit.records import RelationshipAsOf
from mentorflow.audit.report import AuditExport, to_html
from mentorflow.web.i18n import N_
from mentorflow.web.identity import Refused, checked_form
from mentorflow.web.pages import Dates, locale_of, render, web_of
from mentorflow.web.staff import record
from mentorflow.web.staff.identity import RecordReader
from store.staff import StaffMember

router = APIRouter(prefix="/staff/audit", include_in_schema=False)


def page_of(relationship_id: str) -> str:
    """The record's page; ":" (allowed in a path segment) kept readable for auditors who share
    it, every other reserved character quoted, "/" included."""
    return f"/staff/audit/r/{quote(relationship_id, safe=':')}"


@router.get("")
async def search(request: Request, member: RecordReader, q: str = "") -> Response:
    if not q:
        return render(request, "staff/audit_search.html", errors={}, q="")
    rid = await record.found(web_of(request).pool, q)
    if rid is None:
        errors = {"q": record.NOT_FOUND}
        return render(request, "staff/audit_search.html", 404, errors=errors, q=q[:200])
    return RedirectResponse(page_of(rid), status_code=303)


@router.get("/log")
async def log_form(request: Request, member: RecordReader) -> Response:
    return render(request, "staff/audit_log.html", errors={}, values={}, v=None)


@router.post("/log")
async def log_verification(request: Request, member: RecordReader) -> Response:
    """Verify the whole log against a checkpoint the auditor kept (reads, writes nothing)."""
    form = await checked_form(request)
    values = {
        "checkpoint": str(form.get("checkpoint") or "")[:4000],
        "public_key": str(form.get("public_key") or "")[:200],
    }
    taken, key = (
        record.checkpoint_of(values["checkpoint"]),
        record.trusted_key(values["public_key"]),
    )
    errors = {}
    if taken is None:
        errors["checkpoint"] = N_("Paste the checkpoint that mentorflow audit checkpoint printed.")
    if key is None:
        errors["public_key"] = N_("Enter the public key you trust: 64 hexadecimal digits.")
    if taken is None or key is None:
        return render(request, "staff/audit_log.html", 400, errors=errors, values=values, v=None)
    report = await record.log_verified(web_of(request).pool, taken, key)
    return render(request, "staff/audit_log.html", errors={}, values=values, v=report)


@router.get("/r/{relationship_id}")
async def relationship(
    request: Request,
    relationship_id: str,
    member: RecordReader,
    as_of: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    web = web_of(request)
    sealer = await record.sealer_for(web, member, relationship_id)
    try:
        when = record.parse_as_of(as_of)
    except Refused:
        latest = await record.as_of(web.pool, relationship_id, None, sealer)
        return _relationship_page(request, latest, as_of or "", {"as_of": record.BAD_DATE}, 400)
    result = await record.as_of(web.pool, relationship_id, when, sealer)
    return _relationship_page(request, result, when.isoformat() if when else "", {}, 200)


def _relationship_page(
    request: Request,
    result: RelationshipAsOf,
    typed: str,
    errors: dict[str, str],
    status: int,
) -> Response:
    dates = Dates(result.timezone, locale_of(request))
    today = dates.today(web_of(request).now())
    return render(
        request,
        "staff/audit_relationship.html",
        status,
        r=result,
        s=result.state,
        dates=dates,
        typed=typed,
        today=today.isoformat(),
        errors=errors,
        page=page_of(result.relationship_id),
    )


@router.get("/r/{relationship_id}/verification")
async def verification(request: Request, relationship_id: str, member: RecordReader) -> Response:
    report = await record.verified(web_of(request).pool, relationship_id)
    return render(
        request,
        "staff/audit_verification.html",
        v=report,
        rid=report.scope,
        page=page_of(report.scope),
    )


@router.get("/r/{relationship_id}/export.html")
async def export_html(request: Request, relationship_id: str, member: RecordReader) -> Response:
    report = await _exported(request, relationship_id, member)
    return HTMLResponse(to_html(report), headers=_download(report, "html"))


@router.get("/r/{relationship_id}/export.json")
async def export_json(request: Request, relationship_id: str, member: RecordReader) -> Response:
    report = await _exported(request, relationship_id, member)
    return JSONResponse(report.model_dump(mode="json"), headers=_download(report, "json"))


async def _exported(request: Request, relationship_id: str, member: StaffMember) -> AuditExport:
    web = web_of(request)
    sealer = await record.sealer_for(web, member, relationship_id)
    return await record.exported(web.pool, relationship_id, sealer)


def _download(report: AuditExport, kind: str) -> dict[str, str]:
    rid = report.relationship.relationship_id.replace(":", "-")
    name = f"audit-{rid}-{report.generated_at.date().isoformat()}.{kind}"
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
