"""Rendering: one Jinja2 environment, the person's language, the CSRF token, local dates."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import asyncpg
from babel.dates import (
    format_date,
    format_datetime,
    get_date_format,
    get_datetime_format,
    get_time_format,
)
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from temporalio.client import Client

from activities.links import Links
from activities.mail import reasons
from activities.mail.smtp import SmtpConfig
from mentorflow.web import i18n
from mentorflow.web.labels import label
from mentorflow.web.reading import Reader
from store.sealing import MasterKeys, Sealer

if TYPE_CHECKING:
    from mentorflow.web.staff.oidc import OidcConfig


@dataclass
class Web:
    """What the app's routes need, built once by the entry point."""

    client: Client
    pool: asyncpg.Pool
    links: Links
    mail: SmtpConfig
    master: MasterKeys
    """The master keys of sealing (the settings'): they open the texts people wrote."""
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    oidc: "OidcConfig | None" = None
    """Staff sign-in with the organisation's OpenID Connect provider; None: e-mailed links only."""
    sealer: Sealer = field(init=False)
    reader: Reader = field(init=False)
    translations: i18n.Translations = field(init=False)
    templates: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.sealer = Sealer(self.pool, self.master)
        self.reader = Reader(self.pool, self.sealer)
        self.translations = i18n.Translations()
        self.templates = Environment(
            loader=PackageLoader("mentorflow.web", "templates"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
            # Templates are package files: compiled once per process, not checked on disk per view.
            auto_reload=False,
        )
        self.templates.filters["segment"] = segment
        self.templates.filters["label"] = label
        self.templates.filters["reason"] = reason_in


def segment(value: object) -> str:
    """``value`` as one path segment of a URL: every character but the unreserved quoted, "/"
    included (Jinja's ``urlencode`` leaves "/", which would split an id into two segments)."""
    return quote(str(value), safe="")


def web_of(request: Request) -> Web:
    web: Web = request.app.state.web
    return web


def locale_of(request: Request) -> str:
    chosen = i18n.supported(request.session.get("locale"))
    return chosen or i18n.from_header(request.headers.get("accept-language"))


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use); every form posts it back."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def reason_in(text: str, locale: str) -> str:
    """A reason the domain recorded (in English, the record's language), as the letters word
    it in ``locale``: ``{{ reason|reason(lang) }}``. People are named by id on these pages.
    A reason of a known form with a parameter that does not read (a date or duration of an
    older record) is shown as recorded rather than failing the page."""
    try:
        return reasons.render(text, locale, str)
    except ValueError:
        return text


class Dates:
    """Dates as the reader's local dates, in the programme's zone and the reader's language."""

    def __init__(self, zone: str, locale: str):
        self.zone_name = zone
        self._zone, self._locale = ZoneInfo(zone), locale

    def from_local(self, wall: datetime) -> datetime:
        """The instant of a wall-clock time in the programme's zone (the earlier of two)."""
        return wall.replace(tzinfo=self._zone).astimezone(UTC)

    def day(self, moment: datetime | date) -> str:
        value = moment.astimezone(self._zone).date() if isinstance(moment, datetime) else moment
        return str(format_date(value, "long", locale=self._locale))

    def last_day(self, end: datetime) -> str:
        """The last local day before ``end``, an exclusive end such as a group's ``ends_at``
        (midnight after its last day: read as a day, it would name the day after)."""
        return self.day(end - timedelta(microseconds=1))

    def when(self, moment: datetime) -> str:
        """A date and time as people read one: "10. joulukuuta 2026 14.00", no seconds or
        offset (the page names its zone once). The locale's own way of joining the two."""
        pattern = (
            str(get_datetime_format("long", locale=self._locale))
            .replace("{1}", get_date_format("long", locale=self._locale).pattern)
            .replace("{0}", get_time_format("short", locale=self._locale).pattern)
        )
        return str(format_datetime(moment, pattern, tzinfo=self._zone, locale=self._locale))

    def instant(self, moment: datetime) -> str:
        """A date and time to the second, with its offset: the audit timeline's precision."""
        local = moment.astimezone(self._zone)
        return str(format_datetime(local, "long", tzinfo=self._zone, locale=self._locale))

    def today(self, now: datetime) -> date:
        return now.astimezone(self._zone).date()


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    web, locale = web_of(request), locale_of(request)

    def gettext(message: str) -> str:
        return web.translations.gettext(locale, message)

    html = web.templates.get_template(name).render(
        _=gettext,
        lang=locale,
        locales=[(code, i18n.language_name(code)) for code in i18n.LOCALES],
        csrf=csrf_token(request),
        signed_in=bool(request.session.get("person") or request.session.get("staff")),
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)
