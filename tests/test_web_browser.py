"""A group's life through the web app in a real browser (Debian's Chromium, driven by Playwright).

The mentor opens the link of the relationship_started e-mail, sets the first meeting's time (the
invitation that arrives carries it, in Europe/Helsinki) and records the agreement; a mentee adds
a question to the agenda from the invitation's e-mail; the mentor records the meeting, seeing
the question; every member answers the midpoint round from the feedback_requested e-mail, one
member leaves. The stored events and the workflow's
state show each step with the person who took it. Every page is screenshotted under the test's
tmp dir and checked with axe-core: no serious or critical violations.
"""

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
import uvicorn
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright

from domain.policy import RelationshipPolicy
from domain.relationship.fold import fold
from mentorflow.embedded import free_port
from mentorflow.web.server import EmbeddedServer, started
from store.sealing import Sealer
from tests.mailbox_helpers import calendar_of
from tests.temporal_helpers import whole_seconds_now
from tests.test_web_app import stored
from tests.web_helpers import MASTER, app_for, filed, started_group, worker_with_links
from workflows.messages import workflow_id
from workflows.relationship import RelationshipWorkflow

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
IN_MINUTES = RelationshipPolicy(
    cadence="PT5M",
    meeting_length="PT1M",
    preparation_reminder="PT1M",
    meeting_record_grace="PT1M",
    agreement_due="PT10S",
    midpoint_at=0.01,
    midpoint_window="PT5M",
    final_window="PT2M",
    reminders=("PT1M",),
    overdue_after="PT1M",
)
"""A twenty-minute group on the real-time dev server: the agreement is due after 10 s and the
midpoint round opens after 12 s (it must open after the agreement's due time), about when the walk
(12 s on a quiet machine) reaches it, so the walk hardly waits for the clock: the round opened
after a minute, 49 s of waiting. (The time-skipping server's clock could not be moved reliably
with a browser session open.)"""
PHONE = {"width": 390, "height": 844}
HELSINKI = ZoneInfo("Europe/Helsinki")


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Chromium is missing: `apt-get install -y chromium` (.ci/run does it)")
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def message_to(mail, to: str, kind: str, rid: str):
    """The first message of ``kind`` to ``to`` about group ``rid`` (waiting for it: delivery
    follows the event; the session's mailbox holds other tests' messages to the same people)."""
    for _ in range(1200):
        for message in filed(mail).values():
            if message["To"].addresses[0].addr_spec != to or message["X-Mentorflow-Kind"] != kind:
                continue
            if f"/g/{rid}" in message.get_body(preferencelist=("plain",)).get_content():
                return message
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {kind} message to {to}")


async def link_in(mail, to: str, page: str, rid: str, kind: str | None = None) -> str:
    """The personal link to ``page`` of group ``rid`` in a message to ``to`` (of ``kind``, if
    given), waiting for it: delivery follows the event."""
    wanted = re.compile(rf"(http://127\.0\.0\.1:\d+/g/{re.escape(rid)}/{page}\?t=\S+)")
    for _ in range(1200):
        for message in filed(mail).values():
            if message["To"].addresses[0].addr_spec != to:
                continue
            if kind is not None and message["X-Mentorflow-Kind"] != kind:
                continue
            found = wanted.search(message.get_body(preferencelist=("plain",)).get_content())
            if found:
                return found.group(1)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no link to {page} of {rid} in a message to {to}")


async def guide_in(mail, to: str, rid: str) -> str:
    """The guide's address in the footer of a message to ``to`` about group ``rid`` (another
    test's message to the same person names another server)."""
    wanted = re.compile(r"(http://127\.0\.0\.1:\d+/guide)\b")
    for message in filed(mail).values():
        if message["To"].addresses[0].addr_spec == to:
            body = message.get_body(preferencelist=("plain",)).get_content()
            found = wanted.search(body)
            if found and f"/g/{rid}" in body:
                return found.group(1)
    raise AssertionError(f"no guide link in a message to {to}")


async def check_page(page: Page, shots, name: str) -> None:
    """Screenshot the page and fail on serious or critical accessibility violations."""
    assert await page.locator("script").count() == 0  # works without JavaScript: it has none
    await page.screenshot(path=shots / f"{name}.png", full_page=True)
    results = await Axe().run(page)
    bad = [
        (v["id"], v["impact"], v["help"])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: {bad}"


async def test_a_group_acts_through_the_web_app_from_its_e_mails(
    dev_env, pool, mail, browser, tmp_path
):
    env = dev_env
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    app, links = app_for(env.client, pool, mail, public_url=public)
    server = EmbeddedServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    serving = await started(server)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        async with worker_with_links(env.client, pool, mail, links) as queue:
            starts = await whole_seconds_now(env)
            ends = starts + timedelta(minutes=20)
            group = await started_group(
                env.client, pool, queue, starts, policy=IN_MINUTES, ends_at=ends
            )
            rid = group.relationship_id
            await _walk(pool, mail, browser, shots, rid)
            state = await env.client.get_workflow_handle(workflow_id(rid)).query(
                RelationshipWorkflow.state
            )
    finally:
        server.should_exit = True
        await serving
    events = await stored(pool, rid)
    assert fold(events) == state
    acts = [(e.type, e.actor) for e in events if e.actor != "system"]
    assert acts[:4] == [
        ("meeting_planned", "m1"),
        ("agreement_recorded", "m1"),
        ("agenda_item_added", "a1"),
        ("meeting_recorded", "m1"),
    ]
    assert sorted(a for t, a in acts if t == "feedback_submitted") == ["a1", "a2", "a3", "m1", "m2"]
    assert acts[-1] == ("member_withdrew", "a3")
    assert state.agreement.recorded_by == "m1"
    assert state.meetings[0].attendees == ["m1", "a1", "a2"]
    sealer = Sealer(pool, MASTER)  # the texts are stored, and held by the workflow, sealed
    assert [(i.by, await sealer.open(i.text)) for i in state.agenda] == [
        ("a1", "Miten annan palautetta?")
    ]
    assert not state.members["a3"].active
    assert len(list(shots.glob("*.png"))) >= 8


async def _walk(pool, mail, browser, shots, rid) -> None:
    # The mentor (Finnish) opens the link of the first e-mail and sets the first meeting's time.
    mentor = await browser.new_page()
    await mentor.goto(
        await link_in(mail, "m1@example.org", "schedule", rid, "relationship_started")
    )
    assert "/schedule" in mentor.url and "t=" not in mentor.url
    # The first meeting opens in the workflow step right after the start; the e-mail about the
    # start may arrive a moment before that step is recorded (see the session note).
    for _ in range(50):
        if await mentor.get_by_label("Päivämäärä").count():
            break
        await asyncio.sleep(0.2)
        await mentor.reload()
    assert await mentor.get_attribute("html", "lang") == "fi"
    await check_page(mentor, shots, "00-schedule-fi")
    # Three minutes ahead, in the programme's zone, to the minute; the length left to the policy.
    at = (datetime.now(HELSINKI) + timedelta(minutes=3)).replace(second=0, microsecond=0)
    await mentor.get_by_label("Päivämäärä").fill(at.date().isoformat())
    await mentor.get_by_label("Alkamisaika").fill(f"{at:%H:%M}")
    await mentor.get_by_label("Kesto minuutteina").fill("")
    await mentor.get_by_label("Paikka tai videolinkki").fill("Neuvotteluhuone Kuusi")
    await mentor.get_by_role("button", name="Tallenna tapaamisaika").click()
    await mentor.get_by_text("Tapaamisaika on sovittu.").wait_for()
    group_url = mentor.url.split("?")[0]

    # The invitation that arrives carries that time, in Europe/Helsinki.
    invitation = await message_to(mail, "a1@example.org", "meeting_planned", rid)
    (event,) = calendar_of(invitation).walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "Europe/Helsinki"
    assert event["DTSTART"].dt == at and str(event["DTSTART"].dt.tzinfo) == "Europe/Helsinki"

    # Then the agreement.
    await mentor.goto(group_url + "/agreement")
    await check_page(mentor, shots, "01-agreement-fi")
    await mentor.get_by_role("button", name="Kirjaa sopimus").click()
    await check_page(mentor, shots, "02-agreement-errors-fi")
    await mentor.get_by_label("Tavoitteet").fill("Palkkahallinnon perusteet\nEsiintyminen")
    await mentor.get_by_label("Miten toimitte yhdessä").fill("Kerran kuussa, 90 minuuttia.")
    await mentor.get_by_role("button", name="Kirjaa sopimus").click()
    await mentor.get_by_text("Sopimus ja tavoitteet on kirjattu.").wait_for()
    await check_page(mentor, shots, "03-group-fi")
    # The footer of each participant's e-mail links the guide for mentors and mentees.
    await mentor.goto(await guide_in(mail, "m1@example.org", rid))
    await mentor.get_by_role(
        "heading", name=re.compile("a guide for mentors and mentees")
    ).wait_for()
    await check_page(mentor, shots, "03b-guide")

    # A mentee (English, on a phone) adds a question to the agenda from the invitation's e-mail.
    context = await browser.new_context(viewport=PHONE)
    mentee = await context.new_page()
    await mentee.goto(await link_in(mail, "a1@example.org", "agenda", rid, "meeting_planned"))
    assert mentee.url.endswith("/agenda")
    await mentee.get_by_label("Your question or topic").fill("Miten annan palautetta?")
    await mentee.get_by_role("button", name="Add to the agenda").click()
    await mentee.get_by_text("Your question or topic is on the agenda.").wait_for()
    await mentee.goto(mentee.url.split("?")[0] + "/agenda")
    await mentee.get_by_text("Miten annan palautetta?").wait_for()
    await check_page(mentee, shots, "04-agenda-en-phone")

    # The mentor records the meeting, with the question on the page.
    await mentor.goto(group_url + "/meeting")
    await mentor.get_by_text("Miten annan palautetta?").wait_for()
    await check_page(mentor, shots, "04b-meeting-fi")
    await mentor.get_by_label("Tapaamisen päivämäärä").fill(at.date().isoformat())
    for name in ("Person M1", "Person A1", "Person A2"):
        await mentor.get_by_label(name).check()
    await mentor.get_by_role("button", name="Kirjaa tapaaminen").click()
    await mentor.get_by_text("Tapaaminen on kirjattu.").wait_for()
    await check_page(mentor, shots, "05-group-fi")

    # The midpoint round has opened (after 12 s); everyone answers through their own e-mail.
    for person in ("m1", "m2", "a1", "a2", "a3"):
        await _answer_midpoint(browser, mail, shots, rid, person)

    # a3 (Swedish) leaves the programme from the group page.
    leaver = await browser.new_page()
    await leaver.goto(await link_in(mail, "a3@example.org", "feedback/midpoint", rid))
    await leaver.get_by_role("link", name="Tillbaka till min grupp").click()
    await leaver.get_by_role("link", name="Lämna programmet").click()
    await check_page(leaver, shots, "08-leave-sv")
    await leaver.get_by_label("Varför lämnar du programmet?").fill("Byter arbetsplats.")
    await leaver.get_by_role("button", name="Lämna programmet").click()
    await leaver.get_by_text("Du har lämnat programmet.").wait_for()
    await check_page(leaver, shots, "09-left-sv")


async def _answer_midpoint(browser, mail, shots, rid: str, person: str) -> None:
    page = await browser.new_page()
    await page.goto(await link_in(mail, f"{person}@example.org", "feedback/midpoint", rid))
    assert page.url.endswith("/feedback/midpoint"), page.url
    if person == "a1":
        await check_page(page, shots, "06-feedback-en")
    await page.locator("#usefulness-4").check()
    await page.locator("#rhythm-right").check()
    await page.locator("#went_well").fill("Hyvät keskustelut / Good talks")
    await page.locator("main button[type=submit]").click()
    await page.wait_for_url(re.compile(r"done=feedback"))
    if person == "a1":
        await check_page(page, shots, "07-feedback-done-en")
        await page.goto(page.url.split("?")[0] + "/feedback/midpoint")
        await page.get_by_text("You have answered this round. Thank you!").wait_for()
    await page.close()
