"""Start a programme by uploading its programme file (and optionally the participants' export).

The same reading and checks as ``mentorflow programme check`` and ``programme start``
(``programmes.prepare``): every problem is shown at the file it is in, each naming its field or
row, and nothing is written or started until both files are valid. Then the programme starts as
``programme start`` starts it (``programmes.start``).
"""

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.datastructures import UploadFile as StarletteUpload

from mentorflow import programmes
from mentorflow.programme_files import ProgrammeFileError
from mentorflow.web.i18n import N_
from mentorflow.web.identity import Refused, checked_form
from mentorflow.web.pages import Web, render, segment, web_of
from mentorflow.web.staff.api import PROBLEMS, WAYS_IN
from mentorflow.web.staff.identity import CurrentStaff
from store.staff import Role, StaffMember

router = APIRouter(prefix="/staff/start", include_in_schema=False)
api = APIRouter(
    prefix="/api/v1/programmes", tags=["coordination"], responses=PROBLEMS, dependencies=WAYS_IN
)

MAX_UPLOAD = 5 * 1024 * 1024
"""Bytes: a programme file is a few kilobytes, an export of thousands of people a megabyte."""
EXPORT_SUFFIXES = (".csv", ".xlsx")
FILES = ("programme_file", "participants_file")


async def programme_starter(member: CurrentStaff) -> StaffMember:
    """Coordinators (of the programme the file names, checked once it is read) and admins."""
    if member.role not in (Role.COORDINATOR, Role.ADMIN):
        raise Refused(403, N_("Only coordinators and admins can start programmes."))
    return member


ProgrammeStarter = Annotated[StaffMember, Depends(programme_starter)]


@dataclass(frozen=True)
class Problem:
    where: str
    what: str


class FileProblems(Exception):
    """The uploads cannot start a programme; ``problems`` by upload field."""

    def __init__(self, problems: dict[str, list[Problem]]):
        super().__init__(problems)
        self.problems = problems


def _split(problem: str) -> Problem:
    where, _, what = problem.partition(": ")
    return Problem(where, what) if what else Problem("", where)


async def _bytes(upload: StarletteUpload | None, field: str) -> bytes | None:
    if upload is None or not upload.filename:
        return None
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise FileProblems({field: [Problem("", "the file is larger than 5 MB")]})
    return data


def _prepared(web: Web, programme: bytes, export: bytes | None, suffix: str) -> programmes.Prepared:
    """``programmes.prepare`` over the uploads, written to a private directory for the reading."""
    with tempfile.TemporaryDirectory(prefix="mentorflow-upload-") as directory:
        file = Path(directory) / "programme.yaml"
        file.write_bytes(programme)
        participants = None
        if export is not None:
            participants = Path(directory) / f"participants{suffix}"
            participants.write_bytes(export)
        try:
            return programmes.prepare(file, participants, now=web.now())
        except ProgrammeFileError as e:
            field = FILES[1] if participants is not None and e.path == participants else FILES[0]
            raise FileProblems({field: [_split(p) for p in e.problems]}) from e
        except programmes.ProgrammeError as e:
            raise FileProblems({FILES[0]: [_split(str(e))]}) from e


async def start_from(
    web: Web,
    member: StaffMember,
    programme: StarletteUpload | None,
    export: StarletteUpload | None,
) -> str:
    """Read, check and start; the programme's id, or ``FileProblems``."""
    programme_bytes = await _bytes(programme, FILES[0])
    if programme_bytes is None:
        raise FileProblems({FILES[0]: [Problem("", "choose the programme file (YAML)")]})
    export_bytes = await _bytes(export, FILES[1])
    suffix = Path(export.filename or "").suffix.lower() if export is not None else ""
    if export_bytes is not None and suffix not in EXPORT_SUFFIXES:
        raise FileProblems({FILES[1]: [Problem("", "use a .csv or .xlsx export")]})
    prepared = await asyncio.to_thread(_prepared, web, programme_bytes, export_bytes, suffix)
    programme_id = prepared.programme.id
    if not member.acts_on(programme_id):
        problem = Problem("programme.id", f"{programme_id} is not one of your programmes")
        raise FileProblems({FILES[0]: [problem]})
    try:
        await programmes.start(web.client, web.pool, prepared)
    except programmes.ProgrammeError as e:
        raise FileProblems({FILES[0]: [_split(str(e))]}) from e
    return programme_id


@router.get("")
async def start_page(request: Request, member: ProgrammeStarter) -> Response:
    return render(request, "staff/start.html", problems={})


@router.post("")
async def start_programme(request: Request, member: ProgrammeStarter) -> Response:
    form = await checked_form(request)
    programme, export = form.get(FILES[0]), form.get(FILES[1])
    try:
        programme_id = await start_from(
            web_of(request),
            member,
            programme if isinstance(programme, StarletteUpload) else None,
            export if isinstance(export, StarletteUpload) else None,
        )
    except FileProblems as e:
        return render(request, "staff/start.html", 400, problems=e.problems)
    return render(
        request,
        "staff/started.html",
        programme_id=programme_id,
        page=f"/staff/programmes/{segment(programme_id)}",
    )


class Started(BaseModel):
    """The programme started (its workflow runs; its record follows)."""

    model_config = ConfigDict(frozen=True)
    programme_id: str


@api.post(
    "",
    summary="Start a programme from its programme file and optional participants' export",
    status_code=201,
    response_model=Started,
    responses={422: PROBLEMS[422] | {"description": "The files' problems, by field and row"}},
)
async def start_api(
    request: Request,
    member: ProgrammeStarter,
    programme_file: Annotated[UploadFile, File(description="The programme file (YAML)")],
    participants_file: Annotated[
        UploadFile | None, File(description="The participants' export (.csv or .xlsx)")
    ] = None,
) -> Started | Response:
    try:
        programme_id = await start_from(web_of(request), member, programme_file, participants_file)
    except FileProblems as e:
        errors = [
            {"file": field, "where": p.where, "what": p.what}
            for field, found in e.problems.items()
            for p in found
        ]
        body = {
            "type": "about:blank",
            "title": "Unprocessable Content",
            "status": 422,
            "detail": "; ".join(f"{e['where']}: {e['what']}" for e in errors),
            "instance": request.url.path,
            "errors": errors,
        }
        return JSONResponse(body, status_code=422, media_type="application/problem+json")
    return Started(programme_id=programme_id)
