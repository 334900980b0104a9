"""Who is acting: personal links, e-mailed sign-in links, the session, and CSRF.

A signed-in session holds ids only (programme, person), in a signed, HttpOnly, SameSite=Lax
cookie. The acting person of every Update comes from here, never from a request body.
"""

import secrets
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from activities.links import SIGN_IN, SIGN_IN_LIFETIME, Claim, ExpiredLink, LinkError
from activities.mail import smtp
from mentorflow.web import i18n
from mentorflow.web.i18n import N_
from mentorflow.web.pages import Web, csrf_token, render, web_of
from store.sign_in_links import use_once

router = APIRouter()


@dataclass(frozen=True)
class Person:
    programme_id: str
    person_id: str


class NotSignedIn(Exception):
    """The page needs a signed-in person; the app sends them to the sign-in page."""


class Refused(HTTPException):
    """A clear 4xx page: ``detail`` is an untranslated message id, translated when shown."""


def current_person(request: Request) -> Person:
    who = request.session.get("person")
    if not (isinstance(who, list) and len(who) == 2):
        raise NotSignedIn
    return Person(str(who[0]), str(who[1]))


CurrentPerson = Annotated[Person, Depends(current_person)]


async def sign_in(request: Request, claim: Claim) -> None:
    """Start a session for the claim's person, in their own language."""
    contact = await web_of(request).reader.person(claim.programme_id, claim.person_id)
    if contact is None:
        raise Refused(403, N_("This link is for someone who is no longer in the programme."))
    request.session.clear()  # a fresh session (and CSRF token) for every sign-in
    request.session["person"] = [claim.programme_id, claim.person_id]
    request.session["locale"] = i18n.supported(contact.locale) or i18n.DEFAULT_LOCALE


def read_link(web: Web, token: str, purpose: str, relationship_id: str | None) -> Claim:
    """The claim of a personal link for this page, or a clear refusal."""
    try:
        return web.links.read_for(token, purpose, relationship_id, web.now())
    except ExpiredLink as e:
        raise Refused(410, N_("This link has expired. Sign in to get a new one.")) from e
    except LinkError as e:
        raise Refused(403, N_("This link does not open this page. Sign in instead.")) from e


async def checked_form(request: Request) -> FormData:
    """The posted form, if it carries this session's CSRF token."""
    form = await request.form()
    sent, expected = form.get("csrf"), request.session.get("csrf")
    if not (isinstance(sent, str) and isinstance(expected, str)):
        raise Refused(403, N_("The form had expired. Go back, reload the page and try again."))
    # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
    if not secrets.compare_digest(sent.encode(), expected.encode()):
        raise Refused(403, N_("The form had expired. Go back, reload the page and try again."))
    return form


class RateLimit:
    """At most ``limit`` uses per key within ``window`` seconds (kept in memory)."""

    def __init__(self, limit: int, window: float):
        self._limit, self._window = limit, window
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str) -> bool:
        now, seen = time.monotonic(), self._seen[key]
        while seen and seen[0] <= now - self._window:
            seen.popleft()
        if len(seen) >= self._limit:
            return False
        seen.append(now)
        return True


per_address = RateLimit(limit=3, window=15 * 60)
per_client = RateLimit(limit=20, window=15 * 60)


@router.get("/signin")
async def sign_in_page(request: Request) -> Response:
    return render(request, "signin.html", errors={}, email="")


@router.post("/signin")
async def send_sign_in_link(request: Request) -> Response:
    web = web_of(request)
    return await answer_sign_in_form(request, lambda email: _mail_sign_in_links(web, email))


async def answer_sign_in_form(
    request: Request, mail_links: Callable[[str], Awaitable[None]], **page: object
) -> Response:
    """Answer a posted sign-in form: ``mail_links(address)`` within the rate limits, and the same
    page whether the address is known, unknown or rate-limited; ``signin.html`` again (with
    ``page``) when it is not an address."""
    form = await checked_form(request)
    raw = str(form.get("email") or "").strip()
    try:
        email = validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError:
        errors = {"email": N_("Enter your work e-mail address, like name@example.org.")}
        return render(request, "signin.html", 400, errors=errors, email=raw[:200], **page)
    client = request.client.host if request.client else "unknown"
    if per_client.allow(f"client:{client}") and per_address.allow(f"address:{email.lower()}"):
        await mail_links(email)
    return render(request, "signin_sent.html")


async def _mail_sign_in_links(web: Web, email: str) -> None:
    for account in await web.reader.accounts(email):
        claim = sign_in_claim(web, account.programme_id, account.contact.person_id, SIGN_IN)
        locale = i18n.supported(account.contact.locale) or i18n.DEFAULT_LOCALE
        await mail_sign_in_link(web, account.contact.email, claim, locale)


def sign_in_claim(web: Web, programme_id: str, subject_id: str, purpose: str) -> Claim:
    """A single-use sign-in link's claim, for ``SIGN_IN_LIFETIME`` from now."""
    expires = web.now() + SIGN_IN_LIFETIME
    return Claim(programme_id, subject_id, purpose, None, expires, token_id=str(uuid.uuid4()))


async def mail_sign_in_link(web: Web, address: str, claim: Claim, locale: str) -> None:
    """E-mail ``address`` the link of ``claim``, in ``locale``."""
    message = EmailMessage()
    message["From"] = web.mail.sender
    message["To"] = address
    message["Subject"] = web.translations.gettext(locale, N_("Your Mentorflow sign-in link"))
    message["Content-Language"] = locale
    message["Date"] = format_datetime(web.now())
    message["Message-ID"] = make_msgid(domain=smtp.sender_domain(web.mail.sender))
    text = web.translations.gettext(
        locale, N_("Open this link within 15 minutes to sign in (it works once):")
    )
    message.set_content(f"{text}\n{web.links.url(claim)}\n")
    async with smtp.Session(web.mail) as session:
        await session.send(message, address)


@router.get("/signin/link")
async def sign_in_link_page(request: Request, t: str = "") -> Response:
    """A button, not an automatic sign-in: mail scanners that open links must not use them up."""
    read_link(web_of(request), t, SIGN_IN, None)
    return render(request, "signin_link.html", token=t)


@router.post("/signin/link")
async def use_sign_in_link(request: Request) -> Response:
    await sign_in(request, await used_sign_in_link(request, SIGN_IN))
    return RedirectResponse("/me", status_code=303)


async def used_sign_in_link(request: Request, purpose: str) -> Claim:
    """The claim of the posted sign-in link, used up now: refused when it was used before."""
    form = await checked_form(request)
    web = web_of(request)
    claim = read_link(web, str(form.get("t") or ""), purpose, None)
    if claim.token_id is None or not await use_once(web.pool, uuid.UUID(claim.token_id)):
        raise Refused(410, N_("This sign-in link was already used. Ask for a new one."))
    return claim


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    await checked_form(request)
    request.session.clear()
    return RedirectResponse("/signin", status_code=303)


@router.get("/language/{locale}")
async def choose_language(request: Request, locale: str, back: str = "/") -> Response:
    if i18n.supported(locale):
        request.session["locale"] = locale
        csrf_token(request)
    local = back.startswith("/") and not back.startswith("//") and "\\" not in back
    safe_back = back if local else "/"
    return RedirectResponse(safe_back, status_code=303)
