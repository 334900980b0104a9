"""The staff's web in process (httpx), over real PostgreSQL and Temporal servers.

Staff are added with `mentorflow staff`, sign in by e-mailed single-use links like participants,
and see by role: coordinators their own programmes, auditors and admins the record of every
programme (read only for auditors). The codec server and the JSON API answer staff only, in RFC
9457 problem details otherwise. Every route of the app has an authorization rule, checked here
for every role.
"""

import base64
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from temporalio.api.common.v1 import Payload

from activities.links import ME, Claim
from mentorflow.web.staff import views
from mentorflow.web.staff.oidc import OidcConfig
from store.api_keys import ApiKeys
from store.event_store import EventStore, NewEvent
from store.staff import Role, StaffRegister
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, ISSUER, Provider
from tests.staff_helpers import (
    mailed_staff_link,
    own_database,
    record_meeting,
    recorded_relationship,
    sign_in_staff,
    staff_member,
    tamper,
)
from tests.temporal_helpers import whole_seconds_now
from tests.web_helpers import app_for, browser_client, csrf_of, started_group, worker_with_links

MENTORFLOW = Path(sys.executable).parent / "mentorflow"
HELSINKI, NEW_YORK = "Europe/Helsinki", "America/New_York"


def staff_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MENTORFLOW_DATABASE_URL": database_url}
    return subprocess.run(
        [str(MENTORFLOW), "staff", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_staff_add_list_remove_and_clear_refusals(database_url):
    """`staff add|list|remove` keep the register; bad input is one line and changes nothing."""
    email = f"Coord-{uuid.uuid4().hex[:6]}@Example.org"
    added = staff_cli(database_url, "add", email, "--role", "coordinator", "--programme", "p1")
    assert added.returncode == 0, added.stderr
    assert "coordinator  (p1)" in added.stdout
    changed = staff_cli(
        database_url, "add", email.lower(), "--role", "coordinator", "--programme", "p1",
        "--programme", "p2", "--json",
    )  # fmt: skip
    listed = staff_cli(database_url, "list", "--json")
    mine = [m for m in json.loads(listed.stdout) if m["email"].lower() == email.lower()]
    assert mine == [{**mine[0], "role": "coordinator", "programmes": ["p1", "p2"]}]
    assert changed.returncode == 0 and mine[0]["staff_id"] in changed.stdout
    for args, reason in (
        (("add", "a@example.org", "--role", "coordinator"), "needs at least one --programme"),
        (("add", "a@example.org", "--role", "auditor", "--programme", "p1"), "give no --programme"),
        (("add", "not-an-address", "--role", "admin"), "is not an e-mail address"),
        (("remove", "nobody@example.org"), "no staff member with the address"),
    ):
        refused = staff_cli(database_url, *args)
        assert refused.returncode == 1 and reason in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    after = json.loads(staff_cli(database_url, "list", "--json").stdout)
    assert not [m for m in after if m["email"] in ("a@example.org", "not-an-address")]
    removed = staff_cli(database_url, "remove", email)
    assert removed.returncode == 0 and "removed" in removed.stdout
    final = json.loads(staff_cli(database_url, "list", "--json").stdout)
    assert not [m for m in final if m["email"].lower() == email.lower()]


async def test_staff_sign_in_by_e_mailed_single_use_link(env, pool, mail):
    """A staff address gets a link by e-mail; it works once; other addresses get the same
    answer and no mail; a participant's link does not open the staff sign-in; removal ends it."""
    app, links = app_for(env.client, pool, mail)
    auditor = await staff_member(pool, Role.AUDITOR)
    async with browser_client(app) as browser:
        form = await browser.get("/staff/signin")
        csrf = csrf_of(form.text)
        sent = await browser.post("/staff/signin", data={"csrf": csrf, "email": auditor.email})
        unknown = await browser.post(
            "/staff/signin", data={"csrf": csrf, "email": "stranger@example.org"}
        )
        assert sent.status_code == unknown.status_code == 200 and sent.text == unknown.text
        bad = await browser.post("/staff/signin", data={"csrf": csrf, "email": "not an address"})
        assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text
        url = await mailed_staff_link(mail, auditor.email)
        token = url.split("?t=")[1]
        page = await browser.get(url.removeprefix(links.public_url))
        assert page.status_code == 200 and "staff" not in browser.cookies.get(
            "mentorflow_session", ""
        )
        used = await browser.post(
            "/staff/signin/link", data={"csrf": csrf_of(page.text), "t": token}
        )
        assert used.status_code == 303 and used.headers["location"] == "/staff"
        home = await browser.get("/staff")
        assert home.status_code == 200 and "Auditor (read only)" in home.text
        again = await browser.post(
            "/staff/signin/link", data={"csrf": csrf_of(home.text), "t": token}
        )
        assert again.status_code == 410
        participant = Claim("test", "m1", ME, None, datetime.now(UTC) + timedelta(minutes=5))
        foreign = await browser.get(f"/staff/signin/link?t={links.token(participant)}")
        assert foreign.status_code == 403
        await StaffRegister(pool).remove(auditor.email)
        gone = await browser.get("/staff")
        assert gone.status_code == 303 and gone.headers["location"] == "/staff/signin"


def provider_config(provider: Provider) -> OidcConfig:
    """The web app's OIDC settings for ``provider``, reached in process."""
    return OidcConfig(ISSUER, CLIENT_ID, CLIENT_SECRET, httpx.ASGITransport(app=provider.app()))


async def oidc_round_trip(browser: httpx.AsyncClient, oidc: OidcConfig) -> httpx.Response:
    """Start the sign-in, let the provider answer, and bring its answer back to the app."""
    start = await browser.get("/staff/oidc/login")
    assert start.status_code == 302 and start.headers["location"].startswith(f"{ISSUER}/authorize?")
    assert oidc.transport is not None
    async with httpx.AsyncClient(transport=oidc.transport, base_url=ISSUER) as idp:
        answer = await idp.get(start.headers["location"].removeprefix(ISSUER))
    assert answer.status_code == 302
    return await browser.get(answer.headers["location"].removeprefix("http://testserver"))


async def test_staff_sign_in_with_openid_connect(env, pool, mail):
    """The organisation's provider signs a staff member in (code flow; the ID token's signature,
    issuer, audience and nonce checked); an address not on the staff, an unverified address, a
    token signed with another key and a replayed answer are refused."""
    provider = Provider()
    oidc = provider_config(provider)
    app, _ = app_for(env.client, pool, mail, oidc=oidc)
    admin = await staff_member(pool, Role.ADMIN)
    async with browser_client(app) as browser:
        assert "/staff/oidc/login" in (await browser.get("/staff/signin")).text
        provider.user_email = admin.email.upper()
        done = await oidc_round_trip(browser, oidc)
        assert done.status_code == 303 and done.headers["location"] == "/staff"
        assert "Administrator" in (await browser.get("/staff")).text
    for change in (
        {"user_email": "stranger@example.org"},
        {"email_verified": False},
        {"forge": True},
    ):
        provider = Provider(**{"user_email": admin.email, **change})
        oidc = provider_config(provider)
        app, _ = app_for(env.client, pool, mail, oidc=oidc)
        async with browser_client(app) as browser:
            refused = await oidc_round_trip(browser, oidc)
            assert refused.status_code == 403, change
            assert (await browser.get("/staff")).headers["location"] == "/staff/signin"
    async with browser_client(app) as browser:
        provider.forge = False
        start = await browser.get("/staff/oidc/login")
        assert oidc.transport is not None
        async with httpx.AsyncClient(transport=oidc.transport, base_url=ISSUER) as idp:
            answer = await idp.get(start.headers["location"].removeprefix(ISSUER))
        callback = answer.headers["location"].removeprefix("http://testserver")
        assert (await browser.get(callback)).status_code == 303
        assert (await browser.get(callback)).status_code == 403  # the state was used up
    unset, _ = app_for(env.client, pool, mail)
    async with browser_client(unset) as browser:
        assert (await browser.get("/staff/oidc/login")).status_code == 404
        assert "/staff/oidc/login" not in (await browser.get("/staff/signin")).text


SEALED_JSON = Payload(metadata={"encoding": b"json/plain"}, data=b'{"reason":"long sick leave"}')


def as_json(*payloads: Payload) -> dict[str, list[dict[str, object]]]:
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in payloads
        ]
    }


async def test_the_codec_server_decodes_for_signed_in_staff_only(env, pool, mail):
    """Anonymous callers and participants get 401 problem details and nothing decoded."""
    app, links = app_for(env.client, pool, mail)
    codec = env.client.data_converter.payload_codec
    assert codec is not None, "the test clients encrypt like production ones"
    [sealed] = await codec.encode([SEALED_JSON])
    body = as_json(sealed)
    async with browser_client(app) as anonymous:
        refused = await anonymous.post("/codec/decode", json=body)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert "sick leave" not in refused.text
    async with browser_client(app) as participant:
        claim = Claim("test", "m1", ME, None, datetime.now(UTC) + timedelta(minutes=5))
        landed = await participant.get(links.url(claim).removeprefix(links.public_url))
        assert landed.status_code == 303
        refused = await participant.post("/codec/decode", json=body)
        assert refused.status_code == 401 and "sick leave" not in refused.text
    async with browser_client(app) as staff:
        await sign_in_staff(staff, links, await staff_member(pool, Role.COORDINATOR, "test"))
        decoded = await staff.post("/codec/decode", json=body)
        assert decoded.status_code == 200 and decoded.json() == as_json(SEALED_JSON)


# ---- the authorization matrix -------------------------------------------------------------

ANONYMOUS, PARTICIPANT, OTHER_COORDINATOR, AUDITOR, ADMIN, OTHER_KEY, KEY = (
    "anonymous",
    "participant",
    "coordinator of another programme",
    "auditor",
    "admin",
    "API key of another programme",
    "API key of the programme",
)
"""Both API keys have the auditor role (the widest a key can have): one on programme "other",
one on programme "test", whose group the paths name. A key counts on /api/v1 only."""
ROLES = (ANONYMOUS, PARTICIPANT, OTHER_COORDINATOR, AUDITOR, ADMIN, OTHER_KEY, KEY)
EVERYONE = frozenset(ROLES)
STAFF = frozenset({OTHER_COORDINATOR, AUDITOR, ADMIN})
API = STAFF | {OTHER_KEY, KEY}
RECORD = frozenset({AUDITOR, ADMIN})
PROGRAMME_RECORD = RECORD | {KEY}
MEMBER = frozenset({PARTICIPANT})
STEER = frozenset({ADMIN})
"""The programme's own coordinators and admins, who act on every programme (under their own staff
id, with an admin's authority the domain accepts); the matrix's coordinator is another's."""
STARTERS = frozenset({OTHER_COORDINATOR, ADMIN})
"""The programme's own coordinators and admins (the matrix's coordinator is another's)."""
LINK = frozenset[str]()
"""Whoever holds a valid sign-in link (the link is the credential, tested above): without one,
everyone is refused."""

RULES: dict[tuple[str, str], frozenset[str]] = {
    # public: the sign-in pages, the guide, health, the language switch, the API's description
    ("GET", "/openapi.json"): EVERYONE,
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/guide"): EVERYONE,
    ("GET", "/language/{locale}"): EVERYONE,
    ("GET", "/signin"): EVERYONE,
    ("POST", "/signin"): EVERYONE,
    ("GET", "/signin/link"): LINK,
    ("POST", "/signin/link"): LINK,
    ("POST", "/signout"): EVERYONE,
    ("GET", "/staff/signin"): EVERYONE,
    ("POST", "/staff/signin"): EVERYONE,
    ("GET", "/staff/signin/link"): LINK,
    ("POST", "/staff/signin/link"): LINK,
    ("GET", "/staff/oidc/login"): EVERYONE,  # off to the organisation's provider
    ("GET", "/staff/oidc/callback"): LINK,  # the provider's answer to this session's request
    # a participant's own pages and Updates (the group of the path is theirs)
    ("GET", "/"): MEMBER,
    ("GET", "/me"): MEMBER,
    ("GET", "/g/{rid}"): MEMBER,
    ("GET", "/g/{rid}/agreement"): MEMBER,
    ("POST", "/g/{rid}/agreement"): MEMBER,
    ("GET", "/g/{rid}/meeting"): MEMBER,
    ("POST", "/g/{rid}/meeting"): MEMBER,
    ("GET", "/g/{rid}/feedback/{round_name}"): MEMBER,
    ("POST", "/g/{rid}/feedback/{round_name}"): MEMBER,
    ("GET", "/g/{rid}/schedule"): MEMBER,
    ("POST", "/g/{rid}/schedule"): MEMBER,
    ("POST", "/g/{rid}/schedule/cancel"): MEMBER,
    ("GET", "/g/{rid}/agenda"): MEMBER,
    ("POST", "/g/{rid}/agenda"): MEMBER,
    ("GET", "/g/{rid}/{action}"): MEMBER,
    ("POST", "/g/{rid}/{action}"): MEMBER,
    # staff: anyone on the staff; the codec server for the Temporal UI
    ("GET", "/staff"): STAFF,
    ("GET", "/staff/programmes"): STAFF,
    ("GET", "/api/v1/programmes"): API,
    ("GET", "/api/v1/me"): API,
    ("POST", "/codec/decode"): STAFF,
    ("POST", "/codec/encode"): STAFF,
    # the record, read only: auditors and admins
    ("GET", "/staff/audit"): RECORD,
    ("GET", "/staff/audit/log"): RECORD,
    ("POST", "/staff/audit/log"): RECORD,  # verifies the whole log: reads, writes nothing
    ("POST", "/api/v1/log/verification"): RECORD,  # every programme's: not a key's
    ("GET", "/staff/audit/r/{relationship_id}"): RECORD,
    ("GET", "/staff/audit/r/{relationship_id}/verification"): RECORD,
    ("GET", "/staff/audit/r/{relationship_id}/export.html"): RECORD,
    ("GET", "/staff/audit/r/{relationship_id}/export.json"): RECORD,
    ("GET", "/api/v1/relationships/{relationship_id}"): PROGRAMME_RECORD,
    ("GET", "/api/v1/relationships/{relationship_id}/verification"): PROGRAMME_RECORD,
    ("GET", "/api/v1/relationships/{relationship_id}/export"): PROGRAMME_RECORD,
    # a programme's groups: its coordinators, auditors and admins (programme "test" here)
    ("GET", "/staff/programmes/{programme_id}/groups"): RECORD,
    ("GET", "/api/v1/programmes/{programme_id}/groups"): PROGRAMME_RECORD,
    # starting a programme: coordinators (of the programme the file names) and admins
    ("GET", "/staff/start"): STARTERS,
    ("POST", "/staff/start"): STARTERS,
    ("POST", "/api/v1/programmes"): STARTERS,
    # steering a programme: its coordinators and admins; auditors read only (none of this)
    ("GET", "/staff/programmes/{programme_id}"): STEER,
    ("POST", "/staff/programmes/{programme_id}/trained"): STEER,
    ("POST", "/staff/programmes/{programme_id}/remove"): STEER,
    ("POST", "/staff/programmes/{programme_id}/enrol"): STEER,
    ("POST", "/staff/programmes/{programme_id}/matching"): STEER,
    ("GET", "/api/v1/programmes/{programme_id}"): STEER,
    ("POST", "/api/v1/programmes/{programme_id}/trained"): STEER,
    ("POST", "/api/v1/programmes/{programme_id}/removal"): STEER,
    ("POST", "/api/v1/programmes/{programme_id}/enrolment"): STEER,
    ("POST", "/api/v1/programmes/{programme_id}/matching/check"): STEER,
    ("POST", "/api/v1/programmes/{programme_id}/matching/approval"): STEER,
    ("GET", "/staff/programmes/{programme_id}/report"): STEER,
    ("GET", "/staff/programmes/{programme_id}/report.csv"): STEER,
    ("GET", "/staff/programmes/{programme_id}/report.json"): STEER,
    ("GET", "/api/v1/programmes/{programme_id}/report"): STEER,
    # the attention inbox: every staff member sees the open escalations of what they read; only
    # the group's programme's coordinators and admins may send the acknowledgement
    ("GET", "/staff/attention"): STAFF,
    ("GET", "/api/v1/attention"): API,
    ("GET", "/api/v1/attention/programmes"): API,
    ("POST", "/staff/attention/{relationship_id}/{number}"): STEER,
    ("POST", "/api/v1/relationships/{relationship_id}/escalations/{number}/acknowledgement"): STEER,
    # ... and resolve it by changing the group (the domain accepts the group's coordinator and,
    # under their own staff id, admins: tests/test_staff_attention.py sends them for real)
    ("POST", "/staff/attention/{relationship_id}/{number}/member"): STEER,
    ("POST", "/staff/attention/{relationship_id}/{number}/deadline"): STEER,
    ("POST", "/staff/attention/{relationship_id}/{number}/dissolution"): STEER,
    ("POST", "/api/v1/relationships/{relationship_id}/escalations/{number}/member"): STEER,
    (
        "POST",
        "/api/v1/relationships/{relationship_id}/escalations/{number}/deadline-extension",
    ): STEER,
    ("POST", "/api/v1/relationships/{relationship_id}/escalations/{number}/dissolution"): STEER,
}
"""Who may use each route. A route the app gains without a rule here fails the test."""

NOT_ROUTES = {"/static"}  # the stylesheet: a mount of files, public


def routes_of(app) -> set[tuple[str, str]]:
    """(method, path) of every route the app answers, routers included (FastAPI's own walk)."""
    found = set()
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, Mount):
            assert context.path in NOT_ROUTES, f"an unexpected mount {context.path}"
            continue
        assert context.path is not None and context.methods, context
        found |= {(m, context.path) for m in context.methods if m != "HEAD"}
    return found


async def test_every_route_has_an_authorization_rule(env, pool, mail):
    """The rules cover the app's route table exactly: a new route needs a rule first."""
    app, _ = app_for(env.client, pool, mail)
    routes = routes_of(app)
    assert not routes - RULES.keys(), f"routes without a rule: {sorted(routes - RULES.keys())}"
    assert not RULES.keys() - routes, f"rules without a route: {sorted(RULES.keys() - routes)}"


def refused(method: str, status: int, location: str | None) -> bool:
    """Refused: 401/403, or a page sending the reader to sign in."""
    to_sign_in = status == 303 and (location or "").endswith("signin")
    return status in (401, 403) or (method == "GET" and to_sign_in)


async def test_authorization_matrix_over_every_route_and_role(env, pool, mail):
    """Each role is allowed exactly the routes its rule names and refused every other."""
    app, links = app_for(env.client, pool, mail, oidc=provider_config(Provider()))
    async with worker_with_links(env.client, pool, mail, links) as queue:
        group = await started_group(env.client, pool, queue, await whole_seconds_now(env))
        rid = group.relationship_id
        values = {"rid": rid, "relationship_id": rid, "round_name": "midpoint", "locale": "fi"}
        values["programme_id"] = "test"
        values["number"] = "1"  # an escalation (none is raised, and the bodies are empty)
        values["action"] = "pause"  # posted without a reason: refused as input, nothing written
        clients = {role: browser_client(app) for role in ROLES}
        try:
            await _sign_in_everyone(clients, links, pool, rid)
            for (method, template), allowed in sorted(RULES.items()):
                path = template.format(**values)
                for role, browser in clients.items():
                    page = await browser.get("/signin")  # this session's CSRF token
                    data = {"csrf": csrf_of(page.text)}
                    if method == "GET":
                        answer = await browser.get(path)
                    elif path.startswith("/codec/"):
                        answer = await browser.post(path, json={"payloads": []})
                    else:
                        answer = await browser.post(path, data=data)
                    assert answer.status_code < 500, (method, path, role, answer.text[:300])
                    no = refused(method, answer.status_code, answer.headers.get("location"))
                    assert no == (role not in allowed), (method, path, role, answer.status_code)
                    if path == "/signout":  # it ended the session: sign in again
                        await _sign_in_everyone({role: browser}, links, pool, rid)
        finally:
            for browser in clients.values():
                await browser.aclose()


async def _sign_in_everyone(clients, links, pool, rid: str) -> None:
    for role, browser in clients.items():
        if role == PARTICIPANT:
            claim = Claim("test", "m1", ME, None, datetime.now(UTC) + timedelta(minutes=5))
            assert (await browser.get(links.url(claim).removeprefix(links.public_url))).is_redirect
        elif role == OTHER_COORDINATOR:
            await sign_in_staff(browser, links, await staff_member(pool, Role.COORDINATOR, "other"))
        elif role == AUDITOR:
            await sign_in_staff(browser, links, await staff_member(pool, Role.AUDITOR))
        elif role == ADMIN:
            await sign_in_staff(browser, links, await staff_member(pool, Role.ADMIN))
        elif role in (OTHER_KEY, KEY):
            programme = "test" if role == KEY else "other"
            _, secret = await ApiKeys(pool).create(programme, Role.AUDITOR, "matrix")
            browser.headers["Authorization"] = f"Bearer {secret}"


# ---- the auditor's pages and API on a record of their own ---------------------------------


@pytest_asyncio.fixture(scope="module")
async def audited(database_url):
    """A database with a Helsinki and a New York relationship, agreements recorded just after
    midnight local time across each zone's start of summer time."""
    pool = await own_database(database_url)
    hel = await recorded_relationship(
        pool,
        "hel",
        HELSINKI,
        datetime(2026, 3, 20, 9, tzinfo=ZoneInfo(HELSINKI)),
        datetime(2026, 3, 30, 0, 30, tzinfo=ZoneInfo(HELSINKI)),  # 2026-03-29 21:30 UTC
    )
    nyc = await recorded_relationship(
        pool,
        "nyc",
        NEW_YORK,
        datetime(2026, 3, 1, 9, tzinfo=ZoneInfo(NEW_YORK)),
        datetime(2026, 3, 9, 23, 30, tzinfo=ZoneInfo(NEW_YORK)),  # 2026-03-10 03:30 UTC
    )
    yield pool, {"hel": hel, "nyc": nyc}
    await pool.close()


@pytest.mark.parametrize(
    ("key", "before", "after"),
    [("hel", "2026-03-29", "2026-03-30"), ("nyc", "2026-03-08", "2026-03-09")],
)
async def test_the_state_as_of_a_local_date(env, mail, audited, key, before, after):
    """The as-of date is the programme's local day (after its change to summer time): the
    agreement recorded after local midnight is not in the state of the day before."""
    pool, rids = audited
    rid = rids[key]
    app, links = app_for(env.client, pool, mail)
    async with browser_client(app) as auditor:
        await sign_in_staff(auditor, links, await staff_member(pool, Role.AUDITOR))
        earlier = await auditor.get(f"/staff/audit/r/{rid}", params={"as_of": before})
        later = await auditor.get(f"/staff/audit/r/{rid}", params={"as_of": after})
        api = await auditor.get(f"/api/v1/relationships/{rid}", params={"as_of": before})
    assert earlier.status_code == later.status_code == api.status_code == 200
    assert "not recorded, due" in earlier.text and "1 of 3 events" in earlier.text
    assert "recorded on" in later.text and "by m1" in later.text
    assert api.json()["events"] == 1 and api.json()["state"]["agreement"]["recorded_at"] is None
    assert api.json()["timezone"] == (HELSINKI if key == "hel" else NEW_YORK)


async def test_search_bad_dates_and_unknown_ids_are_clear(env, mail, audited):
    """A search finds a relationship by either id form; an unknown id or a bad date is named at
    its field (pages) or answered in problem details (API)."""
    pool, rids = audited
    app, links = app_for(env.client, pool, mail)
    async with browser_client(app) as auditor:
        await sign_in_staff(auditor, links, await staff_member(pool, Role.ADMIN))
        found = await auditor.get("/staff/audit", params={"q": f"relationship:{rids['hel']}"})
        assert found.status_code == 303 and found.headers["location"].endswith("/r/hel:1")
        missing = await auditor.get("/staff/audit", params={"q": "nope:9"})
        assert missing.status_code == 404 and 'href="#q"' in missing.text
        bad = await auditor.get("/staff/audit/r/hel:1", params={"as_of": "30.3.2026"})
        assert bad.status_code == 400 and 'href="#as_of"' in bad.text
        problems = [
            await auditor.get("/api/v1/relationships/nope:9"),
            await auditor.get("/api/v1/relationships/hel:1", params={"as_of": "yesterday"}),
        ]
    assert [p.status_code for p in problems] == [404, 400]
    for p in problems:
        assert p.headers["content-type"] == "application/problem+json"
        assert set(p.json()) >= {"type", "title", "status", "detail"}


async def test_verification_names_the_first_broken_link(env, mail, audited):
    """The record verifies; after a superuser changes an event, the page and the API name its
    position; the export says NOT verified."""
    pool, rids = audited
    rid = rids["nyc"]
    app, links = app_for(env.client, pool, mail)
    async with browser_client(app) as auditor:
        await sign_in_staff(auditor, links, await staff_member(pool, Role.AUDITOR))
        good = await auditor.get(f"/staff/audit/r/{rid}/verification")
        assert good.status_code == 200 and "Verified: the record is complete" in good.text
        position = await tamper(pool, rid, 2)
        bad = await auditor.get(f"/staff/audit/r/{rid}/verification")
        api = await auditor.get(f"/api/v1/relationships/{rid}/verification")
        exported = await auditor.get(f"/staff/audit/r/{rid}/export.html")
        as_json = await auditor.get(f"/staff/audit/r/{rid}/export.json")
    assert f"The first broken link: position {position}" in bad.text
    assert "stream hash does not match" in bad.text
    assert api.json()["ok"] is False and api.json()["log"]["broken"]["global_position"] == position
    assert (
        "NOT verified" in exported.text and "attachment" in exported.headers["content-disposition"]
    )
    assert as_json.json()["verification"]["ok"] is False


async def test_openapi_describes_the_api_with_problem_details(env, pool, mail):
    """/openapi.json lists the /api/v1 operations, each with its problem responses."""
    app, _ = app_for(env.client, pool, mail)
    async with browser_client(app) as anyone:
        document = (await anyone.get("/openapi.json")).json()
    api = {p: ops for p, ops in document["paths"].items() if p.startswith("/api/v1/")}
    assert set(api) == {
        "/api/v1/me",
        "/api/v1/programmes",
        "/api/v1/programmes/{programme_id}/groups",
        "/api/v1/programmes/{programme_id}",
        "/api/v1/programmes/{programme_id}/trained",
        "/api/v1/programmes/{programme_id}/removal",
        "/api/v1/programmes/{programme_id}/enrolment",
        "/api/v1/programmes/{programme_id}/matching/check",
        "/api/v1/programmes/{programme_id}/matching/approval",
        "/api/v1/programmes/{programme_id}/report",
        "/api/v1/relationships/{relationship_id}",
        "/api/v1/relationships/{relationship_id}/verification",
        "/api/v1/relationships/{relationship_id}/export",
        "/api/v1/log/verification",
        "/api/v1/attention",
        "/api/v1/attention/programmes",
        "/api/v1/relationships/{relationship_id}/escalations/{number}/acknowledgement",
        "/api/v1/relationships/{relationship_id}/escalations/{number}/member",
        "/api/v1/relationships/{relationship_id}/escalations/{number}/deadline-extension",
        "/api/v1/relationships/{relationship_id}/escalations/{number}/dissolution",
    }
    for ops in api.values():
        responses = next(iter(ops.values()))["responses"]
        assert "application/problem+json" in responses["401"]["content"]
        assert "application/problem+json" in responses["403"]["content"]
    assert not [p for p in document["paths"] if p.startswith(("/staff", "/codec"))]


async def test_programmes_and_groups_come_from_the_projection_as_events_arrive(env, mail, audited):
    """A coordinator sees their own programmes only; the groups' health follows new events
    (applied incrementally past the projection's position) and equals a rebuild from scratch."""
    pool, rids = audited
    app, links = app_for(env.client, pool, mail)
    async with browser_client(app) as coordinator:
        await sign_in_staff(coordinator, links, await staff_member(pool, Role.COORDINATOR, "hel"))
        listed = await coordinator.get("/api/v1/programmes")
        assert [p["programme_id"] for p in listed.json()] == ["hel"]
        page = await coordinator.get("/staff/programmes")
        assert "/staff/programmes/hel/groups" in page.text and "nyc" not in page.text
        before = (await coordinator.get("/api/v1/programmes/hel/groups")).json()
        assert before[0]["meetings_held"] == 0 and before[0]["meetings_planned"] == 1
        position = await views.catch_up(pool)
        await record_meeting(pool, rids["hel"])
        after = (await coordinator.get("/api/v1/programmes/hel/groups")).json()
        assert after[0]["meetings_held"] == 1
        assert await views.catch_up(pool) > position
        groups_page = await coordinator.get("/staff/programmes/hel/groups")
        assert "1 held, 0 not held, of 1" in groups_page.text
        assert "/staff/audit/" not in groups_page.text  # coordinators do not open the record
        other = await coordinator.get("/staff/programmes/nyc/groups")
        other_api = await coordinator.get("/api/v1/programmes/nyc/groups")
    assert other.status_code == other_api.status_code == 403
    await pool.execute("DELETE FROM staff_views")
    await pool.execute("UPDATE staff_view_position SET position = 0")
    assert [g.model_dump(mode="json") for g in await views.groups(pool, "hel")] == after


async def test_a_stream_the_domain_cannot_read_does_not_take_the_overview_down(env, mail, audited):
    """A relationship stream that does not begin with relationship_started is skipped (and
    logged); every other programme is still shown."""
    pool, _ = audited
    odd = NewEvent(
        event_id=uuid.uuid4(),
        type="meeting_recorded",
        schema_version=1,
        occurred_at=datetime(2026, 4, 1, tzinfo=UTC),
        actor="m1",
        payload={"number": 1},
    )
    await EventStore(pool).append("relationship:odd:1", 0, [odd])
    found = await views.programmes(pool, None)
    assert {"hel", "nyc"} <= {p.programme_id for p in found}
    assert "odd" not in {p.programme_id for p in found}


def test_the_oidc_settings_go_together(monkeypatch):
    """Two of the three OIDC settings are refused with a message naming all three."""
    from mentorflow.settings import Settings
    from mentorflow.web.server import oidc_of

    monkeypatch.setenv("MENTORFLOW_OIDC_ISSUER", "https://idp.example.org")
    monkeypatch.setenv("MENTORFLOW_OIDC_CLIENT_ID", "mentorflow")
    with pytest.raises(ValueError, match="MENTORFLOW_OIDC_CLIENT_SECRET go together"):
        Settings()
    monkeypatch.setenv("MENTORFLOW_OIDC_CLIENT_SECRET", "s3cret")
    config = oidc_of(Settings())
    assert config is not None and config.issuer == "https://idp.example.org"
    monkeypatch.delenv("MENTORFLOW_OIDC_ISSUER")
    monkeypatch.delenv("MENTORFLOW_OIDC_CLIENT_ID")
    monkeypatch.delenv("MENTORFLOW_OIDC_CLIENT_SECRET")
    assert oidc_of(Settings()) is None


async def test_the_whole_log_is_verified_against_a_checkpoint_and_a_trusted_key(
    env, database_url, mail, tmp_path
):
    """A checkpoint signed by the trusted key holds; under another key, or after a tail is cut,
    the page says why; a malformed checkpoint or key is named at its field."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from mentorflow.audit.checkpoint import sign
    from store.integrity import verify_log

    pool = await own_database(database_url)
    try:
        await recorded_relationship(
            pool,
            "log",
            HELSINKI,
            datetime(2026, 3, 2, tzinfo=UTC),
            datetime(2026, 3, 5, tzinfo=UTC),
        )
        async with pool.acquire() as conn:
            head = await verify_log(conn)
        key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        taken = sign(key, head.head_position, head.head_hash, datetime.now(UTC))
        trusted = taken.public_key
        foreign = sign(other, head.head_position, head.head_hash, datetime.now(UTC))
        app, links = app_for(env.client, pool, mail)
        async with browser_client(app) as auditor:
            await sign_in_staff(auditor, links, await staff_member(pool, Role.AUDITOR))

            async def post(checkpoint: str, public_key: str) -> httpx.Response:
                form = await auditor.get("/staff/audit/log")
                data = {"csrf": csrf_of(form.text), "checkpoint": checkpoint}
                return await auditor.post(
                    "/staff/audit/log", data={**data, "public_key": public_key}
                )

            api = await auditor.post(
                "/api/v1/log/verification",
                json={"checkpoint": taken.model_dump(mode="json"), "public_key": trusted},
            )
            assert api.status_code == 200 and api.json()["checkpoint"] == "ok", api.text
            refused = await auditor.post(
                "/api/v1/log/verification",
                json={"checkpoint": taken.model_dump(mode="json"), "public_key": "zz"},
            )
            assert refused.status_code == 422
            assert refused.headers["content-type"] == "application/problem+json"
            held = await post(taken.model_dump_json(), trusted.upper())
            assert held.status_code == 200 and "Verified: the record is complete" in held.text
            assert "the log still extends the checkpoint" in held.text
            wrong = await post(foreign.model_dump_json(), trusted)
            assert "Not verified" in wrong.text and "not by the trusted key" in wrong.text
            bad = await post("{not json", "/etc/passwd")
            assert bad.status_code == 400
            assert 'href="#checkpoint"' in bad.text and 'href="#public_key"' in bad.text
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SET LOCAL session_replication_role = replica")
                await conn.execute(
                    "DELETE FROM events WHERE global_position = $1", head.head_position
                )
            cut = await post(taken.model_dump_json(), trusted)
            assert "Not verified" in cut.text and f"position {head.head_position}" in cut.text
    finally:
        await pool.close()
