"""The staff JSON API under ``/api/v1``: what the auditor's pages show, for machines.

Same sign-in (the session cookie) and the same rules as the pages, or a machine client's API
key (``Authorization: Bearer KEY``: its role on its one programme, ``keys``); errors are RFC 9457
problem details (``application/problem+json``), described with every operation in
``/openapi.json``.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import APIKeyCookie, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from mentorflow.audit.checkpoint import Checkpoint
from mentorflow.audit.records import RelationshipAsOf
from mentorflow.audit.report import AuditExport, AuditReport
from mentorflow.web.identity import Refused
from mentorflow.web.pages import web_of
from mentorflow.web.staff import record, views
from mentorflow.web.staff.identity import CurrentStaff, RecordReader
from mentorflow.web.staff.keys import check_relationship, check_whole_record
from mentorflow.web.staff.programmes import check_reads, readable
from mentorflow.web.staff.views import GroupHealth, ProgrammeSummary
from store.staff import StaffMember


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "model": Problem,
        "content": {"application/problem+json": {}},
    }


PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: _problem("Not signed in as staff, or an API key that is not valid or was revoked"),
    403: _problem("The signed-in role may not do this"),
    400: _problem("A parameter is not valid"),
    422: _problem("A parameter is not valid"),
    404: _problem("No such resource (a path that names nothing)"),
}
UPDATE_ANSWERS: dict[int | str, dict[str, Any]] = {
    409: _problem("The domain refused (the detail names the rule)"),
    503: _problem("Temporal did not answer in time: nothing is refused, try again"),
}
"""What an operation that sends an Update may answer besides ``PROBLEMS`` (web/updates.py)."""
FOUND_OR_NOT: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    404: _problem("No relationship with this id in the record"),
}

# Described in /openapi.json as either of two ways in (the checks are current_staff's).
_SESSION = APIKeyCookie(
    name="mentorflow_session",
    scheme_name="staffSession",
    description="The staff session of the web app (signed in at /staff/signin).",
    auto_error=False,
)
_API_KEY = HTTPBearer(
    scheme_name="apiKey",
    description="A machine client's API key (mentorflow staff key create): its role on its"
    " programme only.",
    auto_error=False,
)
WAYS_IN = [Depends(_SESSION), Depends(_API_KEY)]
"""Every /api/v1 router's dependencies: the two ways in, named in /openapi.json."""
router = APIRouter(prefix="/api/v1", responses=PROBLEMS, dependencies=WAYS_IN)
Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Any]])


async def whole_record_reader(member: RecordReader) -> StaffMember:
    """Staff auditors and admins (a dependency: refused before the body is read)."""
    check_whole_record(member)
    return member


WholeRecordReader = Annotated[StaffMember, Depends(whole_record_reader)]


class StaffIdentity(BaseModel):
    """The signed-in staff member (ids and role only)."""

    model_config = ConfigDict(frozen=True)
    staff_id: str
    role: str
    programmes: list[str]
    """A coordinator's programmes, or an API key's one; empty for staff auditors and admins
    (every programme)."""


@router.get("/me", tags=["staff"], summary="Who is signed in")
async def me(member: CurrentStaff) -> StaffIdentity:
    return StaffIdentity(
        staff_id=member.staff_id, role=str(member.role), programmes=list(member.programmes)
    )


AsOf = Annotated[
    str | None,
    Query(
        max_length=10,
        description="A local date (YYYY-MM-DD) in the programme's zone: the state at the end of"
        " that day. Default: now.",
    ),
]


def about_relationship(path: str, summary: str) -> Callable[[Endpoint], Endpoint]:
    """Registers a GET of the audit under one relationship (404: not in the record)."""
    return router.get(
        f"/relationships/{{relationship_id}}{path}",
        tags=["audit"],
        summary=summary,
        responses=FOUND_OR_NOT,
    )


@about_relationship("", "A relationship's state and timeline as of a date")
async def relationship(
    request: Request, relationship_id: str, member: RecordReader, as_of: AsOf = None
) -> RelationshipAsOf:
    await check_relationship(web_of(request).pool, member, relationship_id)
    when = record.parse_as_of(as_of)
    web = web_of(request)
    sealer = await record.sealer_for(web, member, relationship_id)
    return await record.as_of(web.pool, relationship_id, when, sealer)


@about_relationship(
    "/verification",
    "Verify a relationship's record: hash chains, positions, archived runs replayed",
)
async def verification(request: Request, relationship_id: str, member: RecordReader) -> AuditReport:
    await check_relationship(web_of(request).pool, member, relationship_id)
    return await record.verified(web_of(request).pool, relationship_id)


@about_relationship("/export", "The relationship's audit export: state, timeline and verification")
async def export(request: Request, relationship_id: str, member: RecordReader) -> AuditExport:
    await check_relationship(web_of(request).pool, member, relationship_id)
    web = web_of(request)
    sealer = await record.sealer_for(web, member, relationship_id)
    return await record.exported(web.pool, relationship_id, sealer)


def about_programmes(path: str, summary: str) -> Callable[[Endpoint], Endpoint]:
    """Registers a GET of the programme overviews (counts only)."""
    return router.get(f"/programmes{path}", tags=["programmes"], summary=summary)


@about_programmes(
    "", "The programmes the signed-in member reads, with counts and what needs attention"
)
async def programme_list(request: Request, member: CurrentStaff) -> list[ProgrammeSummary]:
    return await views.programmes(web_of(request).pool, readable(member))


@about_programmes("/{programme_id}/groups", "The health of a programme's groups (counts only)")
async def group_health(
    request: Request, programme_id: str, member: CurrentStaff
) -> list[GroupHealth]:
    check_reads(member, programme_id)
    return await views.groups(web_of(request).pool, programme_id)


class LogVerificationRequest(BaseModel):
    """A checkpoint the auditor kept, and the public key they trust (apart from it)."""

    model_config = ConfigDict(extra="forbid")
    checkpoint: Checkpoint
    public_key: str = Field(max_length=200, description="Ed25519 public key, 64 hex digits")


@router.post(
    "/log/verification",
    tags=["audit"],
    summary="Verify the whole log against a checkpoint and a trusted key (reads, writes nothing)",
)
async def log_verification(
    request: Request, body: LogVerificationRequest, member: WholeRecordReader
) -> AuditReport:
    key = record.trusted_key(body.public_key)
    if key is None:
        raise Refused(422, "public_key: not an Ed25519 public key (64 hexadecimal digits)")
    return await record.log_verified(web_of(request).pool, body.checkpoint, key)
