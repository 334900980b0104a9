"""The participants' web app in process (httpx), over real PostgreSQL and Temporal servers.

Identity and authorization: personal links land signed in on their own page only; sign-in links
are e-mailed, single use and short-lived; forms need their CSRF token; the acting person is
always the session's. Refusals and bad input are clear 4xx pages that write nothing.
"""

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio
from babel.dates import format_date
from babel.messages.extract import extract_from_dir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activities.links import (
    AGENDA,
    AGREEMENT,
    GROUP,
    ME,
    MEETING,
    SCHEDULE,
    SIGN_IN,
    Claim,
    Links,
    path_of,
)
from activities.mail.letters import KINDS, Stationery, occasion
from domain.calendar import zone_offsets
from domain.codec import RELATIONSHIP
from domain.envelope import SYSTEM
from domain.text import sealed
from mentorflow.settings import Settings
from mentorflow.web import i18n
from mentorflow.web.pages import Dates
from store.directory import Contact, Directory, ProgrammeEntry
from store.event_store import EventStore
from store.sealing import Sealer
from tests.builders import COORDINATOR, MENTORS
from tests.temporal_helpers import whole_seconds_now
from tests.web_helpers import (
    MASTER,
    SECRET,
    app_for,
    browser_client,
    csrf_of,
    filed,
    started_group,
    worker_with_links,
)
from workflows.messages import workflow_id

WEB = Path(__file__).parent.parent / "mentorflow" / "web"


def test_every_ui_string_is_translated_in_every_language():
    """Each string marked in the templates and the code has a Finnish and a Swedish text."""
    marked = {
        message
        for _, _, message, _, _ in extract_from_dir(
            WEB,
            method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
        )
    }
    assert len(marked) > 100
    catalogues = i18n.Translations()
    for locale in ("fi", "sv"):
        missing = sorted(marked - catalogues.known(locale))
        assert not missing, f"{locale} lacks {missing}"


def test_production_refuses_the_placeholder_secret(monkeypatch):
    """Outside development the placeholder signing secret is refused; a real one is taken."""
    monkeypatch.setenv("MENTORFLOW_ENVIRONMENT", "production")
    with pytest.raises(ValueError, match="MENTORFLOW_SECRET_KEY is the placeholder"):
        Settings()
    monkeypatch.setenv("MENTORFLOW_SECRET_KEY", "x" * 40)
    assert Settings().secret_key.get_secret_value() == "x" * 40


def test_links_carry_ids_only_and_refuse_tampering_expiry_and_other_pages():
    """A link names ids only; an altered, expired or other page's link is refused."""
    links, now = Links(SECRET, "https://mentor.example"), datetime(2026, 3, 1, tzinfo=UTC)
    claim = Claim("test", "m1", AGREEMENT, "test:7", now + timedelta(days=1))
    url = links.url(claim)
    assert url.startswith("https://mentor.example/g/test%3A7/agreement?t=")
    token = url.split("?t=")[1]
    assert links.read_for(token, AGREEMENT, "test:7", now) == claim
    with pytest.raises(Exception, match="altered"):
        links.read(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), now)
    with pytest.raises(Exception, match="expired"):
        links.read(token, now + timedelta(days=2))
    with pytest.raises(Exception, match="another page"):
        links.read_for(token, GROUP, "test:7", now)
    with pytest.raises(Exception, match="another page"):
        links.read_for(token, AGREEMENT, "test:8", now)
    with pytest.raises(Exception, match="altered"):
        Links("another secret", "https://mentor.example").read(token, now)


async def test_healthz(env, pool, mail):
    app, _ = app_for(env.client, pool, mail)
    async with browser_client(app) as browser:
        response = await browser.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def stored(pool, relationship_id: str):
    records = await EventStore(pool).read_stream(workflow_id(relationship_id))
    return [RELATIONSHIP.decode(r) for r in records]


async def test_a_link_signs_in_on_its_page_and_the_actor_is_the_session_person(env, pool, mail):
    """The agreement link of m1 lands signed in; a posted `by` is ignored; m1 is the actor."""
    app, links = app_for(env.client, pool, mail)
    async with worker_with_links(env.client, pool, mail, links) as queue:
        group = await started_group(env.client, pool, queue, await whole_seconds_now(env))
        rid = group.relationship_id
        claim = Claim("test", "m1", AGREEMENT, rid, datetime.now(UTC) + timedelta(days=3))
        async with browser_client(app) as browser:
            landed = await browser.get(links.url(claim).removeprefix("http://testserver"))
            assert landed.status_code == 303
            assert landed.headers["location"] == f"/g/{rid.replace(':', '%3A')}/agreement"
            cookie = landed.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=lax" in cookie
            page = await browser.get(landed.headers["location"])
            assert page.status_code == 200 and 'lang="fi"' in page.text  # m1 reads Finnish
            form = {
                "csrf": csrf_of(page.text),
                "goals": "Palkkahallinto\nEsiintyminen",
                "agreement": "Kerran kuussa",
                "by": "a3",
            }
            done = await browser.post(f"/g/{rid}/agreement", data=form)
            assert done.status_code == 303 and done.headers["location"].endswith("?done=agreement")
            group_page = await browser.get(done.headers["location"])
            assert "Sopimus ja tavoitteet on kirjattu." in group_page.text
            assert "Person M1" in group_page.text and "Palkkahallinto" in group_page.text
            again = await browser.post(f"/g/{rid}/agreement", data=form)
            assert again.status_code == 409  # refused by the workflow, with its reason
            assert "Tämä on jo kirjattu." in again.text and "already recorded" in again.text
            early = await browser.get(f"/g/{rid}/feedback/midpoint")
            assert "Tämä arviointikierros ei ole vielä auki." in early.text
            assert 'name="usefulness"' not in early.text  # no form to fill in vain
    recorded = [e for e in await stored(pool, rid) if e.type == "agreement_recorded"]
    assert [e.actor for e in recorded] == ["m1"]
    # Stored sealed with m1's data key; the page above showed them opened.
    assert all(sealed(goal) and goal.endswith(":m1") for goal in recorded[0].goals)
    opened = await Sealer(pool, MASTER).open_tree(list(recorded[0].goals))
    assert opened == ["Palkkahallinto", "Esiintyminen"]


async def test_authorization_matrix(env, pool, mail):
    """Other groups, other purposes, forged links, missing CSRF and unsigned-in posts are all
    refused with a clear 4xx page, and nothing is written."""
    app, links = app_for(env.client, pool, mail)
    later = datetime.now(UTC) + timedelta(days=3)
    async with worker_with_links(env.client, pool, mail, links) as queue:
        starts = await whole_seconds_now(env)
        group_a = await started_group(env.client, pool, queue, starts)
        from tests.builders import group as members

        group_b = await started_group(
            env.client, pool, queue, starts, members=members(("m2",), ("a2", "a3"))
        )
        a, b = group_a.relationship_id, group_b.relationship_id
        async with browser_client(app) as outsider:
            # Not signed in: pages send to sign-in, posts are refused.
            assert (await outsider.get(f"/g/{a}")).headers["location"] == "/signin"
            refused = await outsider.post(f"/g/{a}/agreement", data={"goals": "x"})
            assert refused.status_code == 403
        async with browser_client(app) as m1:
            url = links.url(Claim("test", "m1", GROUP, a, later)).removeprefix("http://testserver")
            assert (await m1.get(url)).status_code == 303
            assert (await m1.get(f"/g/{a}")).status_code == 200
            # m1 is not in group B: no page, no action (the same answer as for no group at all).
            assert (await m1.get(f"/g/{b}")).status_code == 404
            assert (await m1.get("/g/no-such-group")).status_code == 404
            page = await m1.get(f"/g/{a}/agreement")
            posted = await m1.post(
                f"/g/{b}/agreement",
                data={"csrf": csrf_of(page.text), "goals": "x", "agreement": "y"},
            )
            assert posted.status_code == 404
            # Nor B's meeting time or agenda: not seen, not set, nothing added.
            for page_name in ("schedule", "agenda"):
                assert (await m1.get(f"/g/{b}/{page_name}")).status_code == 404
            csrf = csrf_of(page.text)
            other_agenda = await m1.post(f"/g/{b}/agenda", data={"csrf": csrf, "text": "hi"})
            assert other_agenda.status_code == 404
            other_time = {"csrf": csrf, "on": "2030-01-01", "at": "10:00", "place": "x"}
            assert (await m1.post(f"/g/{b}/schedule", data=other_time)).status_code == 404
            assert (
                await m1.post(f"/g/{b}/schedule/cancel", data={"csrf": csrf})
            ).status_code == 404
            no_csrf = await m1.post(f"/g/{a}/agenda", data={"text": "hi"})
            assert no_csrf.status_code == 403
            # A form without its CSRF token, or with another one, is refused.
            no_csrf = await m1.post(f"/g/{a}/agreement", data={"goals": "x", "agreement": "y"})
            assert no_csrf.status_code == 403
            wrong = await m1.post(
                f"/g/{a}/agreement", data={"csrf": "forged", "goals": "x", "agreement": "y"}
            )
            assert wrong.status_code == 403
            # A link for one purpose (or group) does not open another page.
            token = url.split("?t=")[1]
            assert (await m1.get(f"/g/{a}/agreement?t={token}")).status_code == 403
            assert (await m1.get(f"/g/{b}?t={token}")).status_code == 403
            assert (await m1.get(f"/me?t={token}")).status_code == 403
            assert (await m1.get(f"/g/{a}/schedule?t={token}")).status_code == 403
            forged = await m1.get(f"/g/{a}?t={token[:-3]}xyz")
            assert forged.status_code == 403 and "Tämä linkki ei avaa tätä sivua" in forged.text
            expired = Claim("test", "m1", GROUP, a, datetime.now(UTC) - timedelta(seconds=1))
            gone = await m1.get(links.url(expired).removeprefix("http://testserver"))
            assert gone.status_code == 410
    for rid in (a, b):
        assert {e.actor for e in await stored(pool, rid)} == {SYSTEM}  # no person's act


def sign_in_link(mail, address: str, after: set[str]) -> str:
    for key, message in filed(mail).items():
        if key in after:
            continue
        if message["To"] == address:
            body = message.get_body().get_content()
            return re.search(r"http://testserver(\S+)", body).group(1)
    raise AssertionError(f"no sign-in link to {address}")


async def test_sign_in_by_email_is_single_use_short_lived_and_says_the_same_for_anyone(
    env, pool, mail
):
    """Known and unknown addresses get the same page; the link works once, for 15 minutes."""
    clock = {"now": datetime.now(UTC)}
    app, links = app_for(env.client, pool, mail, now=lambda: clock["now"])
    before = set(filed(mail))
    address = "a1@example.org"
    async with browser_client(app) as browser:
        page = await browser.get("/signin")
        csrf = csrf_of(page.text)
        known = await browser.post("/signin", data={"csrf": csrf, "email": address.upper()})
        unknown = await browser.post("/signin", data={"csrf": csrf, "email": "nobody@example.org"})
        assert known.status_code == unknown.status_code == 200
        assert known.text == unknown.text
        bad = await browser.post("/signin", data={"csrf": csrf, "email": "not an address"})
        assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text
        link = sign_in_link(mail, address, before)
        assert "a1" not in link.split("?")[0] and "example" not in link
        token = link.split("?t=")[1]
        confirm = await browser.get(link)
        assert confirm.status_code == 200  # a button: opening the link alone uses nothing
        use = {"csrf": csrf_of(confirm.text), "t": token}
        signed_in = await browser.post("/signin/link", data=use)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/me"
        replay = await browser.post(
            "/signin/link", data={**use, "csrf": csrf_of((await browser.get(link)).text)}
        )
        assert replay.status_code == 410
        late = Claim(
            "test", "a1", SIGN_IN, None, clock["now"] + timedelta(minutes=15), str(uuid.uuid4())
        )
        clock["now"] += timedelta(minutes=15)
        expired = await browser.get(links.url(late).removeprefix("http://testserver"))
        assert expired.status_code == 410


async def test_sign_in_requests_are_rate_limited_with_the_same_answer(env, pool, mail):
    """Past three requests for one address in 15 minutes no more mail goes out."""
    # An address of one person in one programme (the test people are in several programmes).
    address = f"rate-{uuid.uuid4().hex[:8]}@example.org"
    entry = ProgrammeEntry("rate-limit", "Rate limit", "Europe/Helsinki", COORDINATOR)
    await Directory(pool).register(entry, [Contact("r1", "Person R1", address, "fi")])
    app, _ = app_for(env.client, pool, mail)

    def to_address() -> int:
        return sum(m["To"] == address for m in filed(mail).values())

    async with browser_client(app) as browser:
        csrf = csrf_of((await browser.get("/signin")).text)
        answers = [
            (await browser.post("/signin", data={"csrf": csrf, "email": address})).text
            for _ in range(5)
        ]
    assert len(set(answers)) == 1
    assert to_address() == 3


@pytest_asyncio.fixture(scope="module")
async def fuzz_target(env, pool, mail):
    """m1 signed in to a fresh group, with a worker answering its Updates."""
    app, links = app_for(env.client, pool, mail)
    async with worker_with_links(env.client, pool, mail, links) as queue:
        group = await started_group(env.client, pool, queue, await whole_seconds_now(env))
        rid = group.relationship_id
        claim = Claim("test", "m1", GROUP, rid, datetime.now(UTC) + timedelta(days=3))
        async with browser_client(app) as browser:
            await browser.get(links.url(claim).removeprefix("http://testserver"))
            csrf = csrf_of((await browser.get(f"/g/{rid}")).text)
            yield browser, rid, csrf


FIELDS = [
    "goals", "agreement", "held_on", "held", "attendees", "reason", "by",
    "usefulness", "rhythm", "went_well", "to_change", "goals_met", "recommend", "learned",
    "on", "at", "minutes", "place", "text",
]  # fmt: skip
PAGES = [
    *("agreement", "meeting", "feedback/midpoint", "feedback/x", "pause", "leave", "resume"),
    *("schedule", "schedule/cancel", "agenda"),
]


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    page=st.sampled_from([*PAGES, "nope"]),
    form=st.dictionaries(
        st.sampled_from(FIELDS),
        st.one_of(st.text(max_size=40), st.text(min_size=3990, max_size=4100), st.dates().map(str)),
        max_size=6,
    ),
)
async def test_fuzzed_forms_never_give_a_server_error(fuzz_target, page, form):
    """Any posted form, signed in and with a valid CSRF token, gets a 2xx, 3xx or 4xx answer."""
    browser, rid, csrf = fuzz_target
    response = await browser.post(f"/g/{rid}/{page}", data={**form, "csrf": csrf})
    assert response.status_code < 500, response.text


EXPECTED_PURPOSE = {
    "relationship_started": AGREEMENT,
    "agreement_reminder": AGREEMENT,
    "meeting_scheduled": AGENDA,
    "meeting_planned": AGENDA,
    "meeting_preparation_reminder": MEETING,
    "feedback_requested": "feedback:final",
    "feedback_reminder": "feedback:midpoint",
}
MENTORS_PURPOSE = {
    "relationship_started": SCHEDULE,
    "meeting_scheduled": SCHEDULE,
    "meeting_unscheduled_reminder": SCHEDULE,
}
"""Mentors plan the meetings: these lead them to *Set the meeting time*."""


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_letter_carries_the_readers_link_to_the_page_of_its_action(locale):
    """Kinds that ask a member for something link to that page; the rest to My group."""
    from tests.test_letters import programme_cases, relationship_cases

    links = Links(SECRET, "https://mentor.example")
    stationery = Stationery(links)
    test_programme = ProgrammeEntry("test", "Testiohjelma", "Europe/Helsinki", COORDINATOR)
    pilot, pilot_cases = programme_cases()
    cases = [(test_programme, h) for h in relationship_cases()] + [(pilot, h) for h in pilot_cases]
    seen = set()
    for entry, history in cases:
        event = history[-1]
        kind = event.notification_kind
        contacts = {
            p: Contact(p, f"Name {p}", f"{p}@example.org", locale) for p in event.recipients
        }
        for person in event.recipients:
            letter = stationery.write(
                occasion(kind, event, history, entry, contacts), contacts[person]
            )
            url = re.search(r"https://mentor\.example(\S+)", letter.body)
            assert url, (kind, letter.body)
            token = url.group(1).split("?t=")[1]
            claim = links.read(token, event.occurred_at)
            assert (claim.programme_id, claim.person_id) == (entry.programme_id, person)
            member = entry is test_programme and person != COORDINATOR
            expected = EXPECTED_PURPOSE.get(kind, GROUP) if member else ME
            if member and person in MENTORS:
                expected = MENTORS_PURPOSE.get(kind, expected)
            assert claim.purpose == expected, (kind, person)
            assert url.group(1).split("?")[0] == path_of(claim.purpose, claim.relationship_id)
            assert "example.org" not in url.group(1) and "Name" not in url.group(1)
            seen.add(kind)
    assert seen == set(KINDS)


async def test_the_coordinator_lands_on_a_page_that_says_what_they_coordinate(env, pool, mail):
    """A programme notice's link opens My group; the coordinator is told they see no texts."""
    app, links = app_for(env.client, pool, mail)
    claim = Claim("test", COORDINATOR, ME, None, datetime.now(UTC) + timedelta(days=1))
    async with browser_client(app) as browser:
        landed = await browser.get(links.url(claim).removeprefix("http://testserver"))
        assert landed.headers["location"] == "/me"
        page = await browser.get("/me")
    assert page.status_code == 200 and "You coordinate this programme." in page.text


def test_mentorflow_web_refuses_the_placeholder_secret_in_production():
    """`mentorflow web` in production without a secret stops at once with one line saying so."""
    mentorflow = Path(sys.executable).parent / "mentorflow"
    env = {**os.environ, "MENTORFLOW_ENVIRONMENT": "production"}
    env.pop("MENTORFLOW_SECRET_KEY", None)
    done = subprocess.run(
        [str(mentorflow), "web"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "MENTORFLOW_SECRET_KEY is the placeholder" in done.stderr


@pytest.mark.parametrize(
    ("zone", "moment", "day", "today"),
    [
        # New York: DST begins on 8 March 2026 at 02:00; 03:30 UTC is still the 7th there.
        (
            "America/New_York",
            datetime(2026, 3, 8, 3, 30, tzinfo=UTC),
            "March 7, 2026",
            "2026-03-07",
        ),
        (
            "America/New_York",
            datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
            "March 8, 2026",
            "2026-03-08",
        ),
        # Helsinki: DST begins on 29 March 2026 at 03:00; 22:30 UTC is already the 30th there.
        (
            "Europe/Helsinki",
            datetime(2026, 3, 29, 22, 30, tzinfo=UTC),
            "March 30, 2026",
            "2026-03-30",
        ),
        (
            "Europe/Helsinki",
            datetime(2026, 10, 24, 21, 30, tzinfo=UTC),
            "October 25, 2026",
            "2026-10-25",
        ),
    ],
)
def test_pages_show_the_programmes_local_dates_across_daylight_saving(zone, moment, day, today):
    """A deadline shows as the local date in the programme's zone, east or west of UTC."""
    dates = Dates(zone, "en")
    assert dates.day(moment) == day
    assert dates.when(moment).startswith(f"{day}, ") and dates.when(moment).count(":") == 1
    midnight = datetime.combine(date.fromisoformat(today), time(0), ZoneInfo(zone))
    assert dates.last_day(midnight) == dates.day(midnight - timedelta(days=1))  # an exclusive end
    assert dates.today(moment).isoformat() == today
    assert Dates(zone, "fi").day(moment).split()[0].rstrip(".") == day.split()[1].rstrip(",")


async def test_the_sign_in_page_speaks_the_browsers_language_until_one_is_chosen(env, pool, mail):
    """Accept-Language picks fi, sv or en (English otherwise); the language links override it."""
    app, _ = app_for(env.client, pool, mail)
    async with browser_client(app) as browser:
        swedish = await browser.get("/signin", headers={"accept-language": "sv-FI,sv;q=0.9"})
        assert 'lang="sv"' in swedish.text and "Logga in" in swedish.text
        other = await browser.get("/signin", headers={"accept-language": "de-DE"})
        assert 'lang="en"' in other.text
        chosen = await browser.get("/language/fi?back=/signin")
        assert chosen.headers["location"] == "/signin"
        finnish = await browser.get("/signin", headers={"accept-language": "sv"})
        assert 'lang="fi"' in finnish.text and "Kirjaudu sisään" in finnish.text
        away = await browser.get("/language/fi?back=//evil.example/")
        assert away.headers["location"] == "/"


async def test_the_participant_guide_is_a_page(env, pool, mail):
    """/guide shows docs/participant.md (the e-mails' footer links it), marked as English."""
    app, links = app_for(env.client, pool, mail)
    async with browser_client(app) as browser:
        page = await browser.get("/guide")
    assert page.status_code == 200
    assert '<article lang="en" class="guide">' in page.text
    assert "<h1>Mentoring with Mentorflow: a guide for mentors and mentees</h1>" in page.text
    assert "<table>" in page.text
    assert links.guide_url() == "http://testserver/guide"


async def test_a_mentor_sets_the_meeting_time_in_the_programmes_zone_and_members_write_the_agenda(
    env, pool, mail
):
    """m1's schedule link: 14:30 in Helsinki (the programme's zone, not UTC), 60 minutes, a place;
    a mentee may not set the time (the domain's reason, in English for a1) but adds an agenda
    question that m2 sees on My group and the meeting page; every actor is the session's."""
    app, links = app_for(env.client, pool, mail)
    starts = await whole_seconds_now(env)
    zone = zone_offsets("Europe/Helsinki", starts, starts + timedelta(days=60))
    last = (starts + timedelta(days=59)).astimezone(ZoneInfo("Europe/Helsinki")).date()
    ends = datetime.combine(last + timedelta(days=1), time(0), ZoneInfo("Europe/Helsinki"))
    async with worker_with_links(env.client, pool, mail, links) as queue:
        group = await started_group(env.client, pool, queue, starts, zone=zone, ends_at=ends)
        rid = group.relationship_id
        base = f"/g/{rid.replace(':', '%3A')}"
        on = (starts + timedelta(days=3)).astimezone(ZoneInfo("Europe/Helsinki")).date()
        for _ in range(200):  # meeting 1 opens just after the start
            if any(e.type == "meeting_scheduled" for e in await stored(pool, rid)):
                break
            await asyncio.sleep(0.05)

        @contextlib.asynccontextmanager
        async def signed_in(person: str, purpose: str) -> AsyncIterator[httpx.AsyncClient]:
            async with browser_client(app) as browser:
                claim = Claim("test", person, purpose, rid, datetime.now(UTC) + timedelta(days=3))
                landed = await browser.get(links.url(claim).removeprefix("http://testserver"))
                assert landed.headers["location"] == base + path_of(purpose, rid).removeprefix(
                    f"/g/{rid}"
                )
                yield browser

        async with signed_in("m1", SCHEDULE) as m1:
            page = await m1.get(f"{base}/schedule")
            assert page.status_code == 200 and 'value="90"' in page.text  # the policy's length
            form = {"csrf": csrf_of(page.text), "on": str(on), "at": "14:30", "minutes": "60"}
            missing = await m1.post(f"{base}/schedule", data=form)
            assert missing.status_code == 400 and 'href="#place"' in missing.text
            form |= {"place": "Kokoushuone 3", "by": "a3"}
            done = await m1.post(f"{base}/schedule", data=form)
            assert done.status_code == 303 and done.headers["location"].endswith("?done=schedule")
            past = await m1.post(
                f"{base}/schedule", data=form | {"on": str(on - timedelta(days=5))}
            )
            assert past.status_code == 409 and "Se aika on jo mennyt." in past.text
        async with signed_in("a1", AGENDA) as a1:
            page = await a1.get(f"{base}/agenda")
            assert "Kokoushuone 3" in page.text and "Nothing on the agenda yet." in page.text
            schedule = await a1.get(f"{base}/schedule")
            form = {"csrf": csrf_of(schedule.text), "on": str(on), "at": "10:00", "place": "x"}
            refused = await a1.post(f"{base}/schedule", data=form)
            assert refused.status_code == 409
            assert "Only the group&#39;s mentors set the meeting time." in refused.text
            question = {"csrf": csrf_of(page.text), "text": "How do I say no?", "by": "m2"}
            added = await a1.post(f"{base}/agenda", data=question)
            assert added.headers["location"].endswith("?done=agenda")
        async with signed_in("m2", GROUP) as m2:
            mine = (await m2.get(base)).text
            assert "How do I say no?" in mine and "Person A1" in mine
            assert "14:30" in mine  # m2 reads Swedish: the local time m1 entered
            # the group ends at midnight after its last day: the page names that last day
            assert f"\u2013 {format_date(last, 'long', locale='sv')}</p>" in mine
            assert "How do I say no?" in (await m2.get(f"{base}/meeting")).text

    events = await stored(pool, rid)
    planned = [e for e in events if e.type == "meeting_planned"]
    sealer = Sealer(pool, MASTER)  # the texts are stored sealed with their author's data key
    assert all(sealed(e.place) for e in planned)
    assert [(e.actor, e.starts_at, e.minutes, await sealer.open(e.place)) for e in planned] == [
        ("m1", datetime.combine(on, time(14, 30), ZoneInfo("Europe/Helsinki")), 60, "Kokoushuone 3")
    ]
    added = [e for e in events if e.type == "agenda_item_added"]
    assert [(e.actor, await sealer.open(e.text)) for e in added] == [("a1", "How do I say no?")]
