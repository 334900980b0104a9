"""The FastAPI application: routers per area, the session, static files, error pages."""

from datetime import timedelta

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from mentorflow.web import forms, groups, guide, identity, meetings, staff
from mentorflow.web.i18n import N_
from mentorflow.web.pages import Web, render

SESSION_LIFETIME = timedelta(hours=12)
STATUS_TITLES = {
    400: N_("Check the form"),
    403: N_("This page cannot be opened"),
    404: N_("Page not found"),
    405: N_("This page cannot be opened"),
    410: N_("This link no longer works"),
    503: N_("Please try again"),
}


def create_app(web: Web, secret: str, secure_cookies: bool) -> FastAPI:
    """The app over ``web``; ``secret`` signs the session cookie (HTTPS-only when secure)."""
    app = FastAPI(title="Mentorflow", docs_url=None, redoc_url=None)
    app.state.web = web
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="mentorflow_session",
        max_age=int(SESSION_LIFETIME.total_seconds()),
        same_site="lax",
        https_only=secure_cookies,
    )
    app.mount("/static", StaticFiles(packages=[("mentorflow.web", "static")]), name="static")
    app.include_router(identity.router)
    app.include_router(groups.router)
    app.include_router(meetings.router)  # before forms: its /g/{rid}/{action} takes the rest
    app.include_router(forms.router)
    app.include_router(guide.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return JSONResponse({"status": "ok"})

    @app.exception_handler(identity.NotSignedIn)
    async def not_signed_in(request: Request, exc: identity.NotSignedIn) -> Response:
        if request.method != "GET":
            return _problem(request, 403, N_("Sign in first."))
        return RedirectResponse("/signin", status_code=303)

    @app.exception_handler(HTTPException)
    async def problem(request: Request, exc: HTTPException) -> Response:
        message = (
            exc.detail
            if isinstance(exc, identity.Refused)
            else STATUS_TITLES.get(exc.status_code, N_("This page cannot be opened"))
        )
        return _problem(request, exc.status_code, str(message))

    staff.install(app)  # after the pages' handlers: it answers machines in problem details
    return app


def _problem(request: Request, status: int, message: str) -> Response:
    title = STATUS_TITLES.get(status, N_("This page cannot be opened"))
    return render(request, "problem.html", status_code=status, title=title, message=message)
