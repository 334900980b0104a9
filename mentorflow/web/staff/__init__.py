"""The staff's web: sign-in for coordinators, auditors and admins, the auditor's pages, the
JSON API under ``/api/v1`` and the codec server for the Temporal UI.

``install(app)`` adds it all to the participants' app: same session, same CSRF, same sign-in
links; API and codec errors become RFC 9457 problem details.
"""

import inspect
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response

from mentorflow.web.codec import codec_router
from mentorflow.web.staff import (
    api,
    attention,
    audit,
    coordinate,
    enrol,
    identity,
    keys,
    oidc,
    programmes,
    report,
    resolutions,
    start,
)

__all__ = ["install"]

MACHINE_PATHS = ("/api/", "/codec/")


def install(app: FastAPI) -> None:
    app.include_router(identity.router)
    app.include_router(oidc.router)
    app.include_router(audit.router)
    app.include_router(programmes.router)
    app.include_router(start.router)
    app.include_router(start.api)
    app.include_router(coordinate.router)
    app.include_router(coordinate.api)
    app.include_router(enrol.router)
    app.include_router(enrol.api)
    app.include_router(report.router)
    app.include_router(report.api)
    app.include_router(attention.router)
    app.include_router(attention.api)
    app.include_router(resolutions.router)
    app.include_router(resolutions.api)
    app.include_router(api.router)
    codec = app.state.web.client.data_converter.payload_codec
    if codec is not None:
        app.include_router(codec_router(codec, identity.is_staff), include_in_schema=False)

    pages = app.exception_handlers[HTTPException]

    async def http_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if not _for_machines(request):
            answer = pages(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        return problem(request, exc.status_code, str(exc.detail), exc.headers)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not _for_machines(request):
            return await request_validation_exception_handler(request, exc)
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return problem(request, 422, detail)

    async def not_staff(request: Request, exc: Exception) -> Response:
        if _for_machines(request) or request.method != "GET":
            headers = {"WWW-Authenticate": 'Cookie realm="mentorflow-staff"'}
            return problem(request, 401, "Sign in as staff first (/staff/signin).", headers)
        return RedirectResponse("/staff/signin", status_code=303)

    async def bad_key(request: Request, exc: Exception) -> Response:
        headers = {"WWW-Authenticate": 'Bearer realm="mentorflow-api", error="invalid_token"'}
        return problem(request, 401, "This API key is not valid or was revoked.", headers)

    app.add_exception_handler(HTTPException, http_problem)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(identity.StaffNotSignedIn, not_staff)
    app.add_exception_handler(keys.KeyRefused, bad_key)


def _for_machines(request: Request) -> bool:
    return request.url.path.startswith(MACHINE_PATHS)


def problem(
    request: Request, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """An RFC 9457 problem details answer (the detail untranslated: machines read it)."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    return JSONResponse(
        body,
        status_code=status,
        headers=dict(headers or {}),
        media_type="application/problem+json",
    )
