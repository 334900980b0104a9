"""Staff in a real browser (Debian's Chromium, driven by Playwright): an auditor inspects a
relationship; a coordinator starts, steers and reports on a programme, and acknowledges an
escalation in the attention inbox.

The auditor asks for a sign-in link, opens it from the e-mail, finds a relationship by its id,
moves the as-of date across the day its agreement was recorded and sees the state change, then
verifies the record, before and after a superuser alters one event: the page names the first
broken link. Every page is screenshotted and checked with axe-core (no serious or critical
violations).
"""

import asyncio
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import uvicorn
import yaml
from playwright.async_api import Browser

from domain.calendar import calendar
from domain.programme.model import Programme
from mentorflow.embedded import free_port
from mentorflow.runtime import build_worker
from mentorflow.web.server import EmbeddedServer, started
from store.staff import Role, StaffRegister
from tests.staff_helpers import (
    mailed_staff_link,
    own_database,
    recorded_relationship,
    signed_in_page,
    tamper,
)
from tests.temporal_helpers import sleep_until
from tests.test_web_browser import browser, check_page  # noqa: F401 - the session's Chromium
from tests.web_helpers import app_for
from workflows import TASK_QUEUE
from workflows.messages import programme_workflow_id, workflow_id
from workflows.programme import ProgrammeWorkflow

HELSINKI = ZoneInfo("Europe/Helsinki")
EXAMPLE = Path(__file__).parent.parent / "examples" / "palkeet-pilot.yaml"


async def test_an_auditor_moves_the_as_of_date_and_sees_a_tampered_log_named(
    env,
    database_url,
    mail,
    browser: Browser,  # noqa: F811 - the fixture imported above
    tmp_path,
):
    pool = await own_database(database_url)
    rid = await recorded_relationship(
        pool,
        "pilot",
        "Europe/Helsinki",
        datetime(2026, 3, 20, 9, tzinfo=HELSINKI),
        datetime(2026, 3, 30, 0, 30, tzinfo=HELSINKI),
    )
    auditor = await StaffRegister(pool).add("auditor@example.org", Role.AUDITOR, ())
    port = free_port()
    app, _ = app_for(env.client, pool, mail, public_url=f"http://127.0.0.1:{port}")
    server = EmbeddedServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    serving = await started(server)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        page = await browser.new_page()
        await page.goto(f"http://127.0.0.1:{port}/staff/signin")
        await check_page(page, shots, "01-staff-signin")
        await page.get_by_label("Your work e-mail address").fill(auditor.email)
        await page.get_by_role("button", name="Send me a sign-in link").click()
        await page.goto(await mailed_staff_link(mail, auditor.email))
        await page.get_by_role("button", name="Sign in to Mentorflow").click()
        await page.get_by_text("Auditor (read only)").wait_for()
        await check_page(page, shots, "02-staff-home")
        await page.get_by_role("link", name="Programmes and their groups").click()
        await page.get_by_role("link", name="pilot").click()
        await page.get_by_text("0 held, 0 not held, of 1").wait_for()
        await check_page(page, shots, "02b-staff-groups")
        await page.get_by_role("link", name="Programmes").click()
        await check_page(page, shots, "02a-staff-programmes")
        await page.get_by_role("link", name="Staff").click()

        await page.get_by_role("link", name="Inspect a relationship's record").click()
        await page.get_by_label("Relationship id").fill("pilot:9")
        await page.get_by_role("button", name="Open the record").click()
        await page.get_by_text("There is no relationship with this id").first.wait_for()
        await check_page(page, shots, "03-audit-search-error")
        await page.get_by_label("Relationship id").fill(rid)
        await page.get_by_role("button", name="Open the record").click()
        await page.get_by_role("heading", name=f"Relationship {rid}").wait_for()
        await check_page(page, shots, "04-audit-relationship-now")

        await page.get_by_label("Show the state as of").fill("2026-03-29")
        await page.get_by_role("button", name="Show", exact=True).click()
        await page.get_by_role("heading", name="State as of March 29, 2026").wait_for()
        assert "not recorded" in await page.get_by_test_id("agreement").inner_text()
        await check_page(page, shots, "05-audit-as-of-before")
        await page.get_by_label("Show the state as of").fill("2026-03-30")
        await page.get_by_role("button", name="Show", exact=True).click()
        await page.get_by_role("heading", name="State as of March 30, 2026").wait_for()
        agreement = await page.get_by_test_id("agreement").inner_text()
        assert "recorded on March 30, 2026 by m1" in agreement

        await page.get_by_role("link", name="Verify the record").click()
        await page.get_by_text("Verified: the record is complete").wait_for()
        await check_page(page, shots, "06-audit-verified")
        position = await tamper(pool, rid, 2)
        await page.reload()
        await page.get_by_role("heading", name="Not verified").wait_for()
        named = f"The first broken link: position {position} (stream relationship:{rid}, version 2)"
        await page.get_by_text(named).wait_for()
        await check_page(page, shots, "07-audit-tampered")
        await page.goto(f"http://127.0.0.1:{port}/staff/audit/log")
        await check_page(page, shots, "08-audit-log")
        await page.get_by_role("button", name="Verify the whole log").click()
        await page.get_by_text("Enter the public key you trust").first.wait_for()
        await check_page(page, shots, "09-audit-log-errors")
    finally:
        server.should_exit = True
        await serving
        await pool.close()
    assert len(list(shots.glob("*.png"))) == 11


def walk_programme(today, programme_id: str, email: str) -> dict:
    """The example pilot moved to ``today`` (the test server's date): m4 untrained, training
    due in five days, matching in ten; m1 and a4 report to the same manager. A group's agreement
    is due three days after its start and escalated a day later, so that the walk meets an
    escalation within a few virtual days."""
    data = yaml.safe_load(EXAMPLE.read_text())
    p = data["programme"]
    p.update(
        id=programme_id, starts_on=today + timedelta(days=10), ends_on=today + timedelta(days=400)
    )
    p["coordinator"]["email"] = email
    p["training"]["deadline"] = today + timedelta(days=5)
    p["matching"]["runs_on"] = today + timedelta(days=10)
    p["closing"]["event_on"] = today + timedelta(days=390)
    p["agreement"] = {"due": "P3D"}
    p["escalation"]["overdue_after"] = "P1D"
    data.pop("behaviour")
    return data


async def test_a_coordinator_starts_steers_and_reports_on_a_programme(
    env,
    pool,
    mail,
    browser: Browser,  # noqa: F811 - the fixture imported above
    tmp_path,
):
    """Upload a bad file (errors at their fields), then a good one; mark a mentor trained; edit
    the proposal with a typo (refused at its field), so a hard rule breaks (refused, the rule
    named), then validly; approve; open
    the report; when a group's agreement is overdue, find it in the attention inbox and
    acknowledge it with a note: it is gone. Every page screenshotted and checked with axe-core."""
    today = (await env.get_current_time()).date()
    pid = f"walk-{uuid.uuid4().hex[:6]}"
    email = f"pia-{uuid.uuid4().hex[:6]}@example.org"
    await StaffRegister(pool).add(email, Role.COORDINATOR, (pid,))
    good = walk_programme(today, pid, email)
    bad = yaml.safe_load(yaml.safe_dump(good))
    bad["programme"]["starts_on"] = "20.11.2026"
    bad["programme"]["group_shape"]["mentors"] = 0
    files = tmp_path / "files"
    files.mkdir()
    (files / "bad.yaml").write_text(yaml.safe_dump(bad))
    (files / "programme.yaml").write_text(yaml.safe_dump(good))
    port = free_port()
    app, _ = app_for(env.client, pool, mail, public_url=f"http://127.0.0.1:{port}")
    server = EmbeddedServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    serving = await started(server)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    base = f"http://127.0.0.1:{port}"
    try:
        async with build_worker(env.client, pool, mail.config, TASK_QUEUE):
            page = await signed_in_page(browser, base, mail, email)
            await page.get_by_role("link", name="Start a programme").click()
            await check_page(page, shots, "10-start")

            await page.get_by_label("Programme file (YAML)").set_input_files(files / "bad.yaml")
            await page.get_by_role("button", name="Check and start").click()
            await page.get_by_text("Nothing was started.").wait_for()
            errors = await page.locator("#programme_file-error").inner_text()
            assert "programme.starts_on" in errors and "2026-11-20" in errors
            assert "programme.group_shape.mentors" in errors
            await check_page(page, shots, "11-start-errors")

            await page.get_by_label("Programme file (YAML)").set_input_files(
                files / "programme.yaml"
            )
            await page.get_by_role("button", name="Check and start").click()
            await page.get_by_role("heading", name="The programme has started").wait_for()
            await check_page(page, shots, "12-started")
            await page.get_by_role("link", name="Open the programme").click()
            for _ in range(100):  # the worker records the start as it takes the workflow
                if await page.get_by_test_id("phase").count():
                    break
                await asyncio.sleep(0.1)
                await page.reload()
            assert await page.get_by_test_id("phase").inner_text() == "enrolment"
            assert await page.get_by_test_id("trained-m4").inner_text() == "not trained"
            await page.get_by_label("Mentor", exact=True).select_option("m4")
            await page.get_by_label("Date of the training").fill(str(today))
            await page.get_by_role("button", name="Mark trained").click()
            await page.get_by_text("The mentor's training is recorded.").wait_for()
            assert await page.get_by_test_id("trained-m4").inner_text() != "not trained"
            assert await page.get_by_test_id("all-trained").inner_text() == (
                "Every mentor is trained: there is no one to mark trained."
            )
            await check_page(page, shots, "13-programme-trained")

            await sleep_until(env, calendar_of(good).matching_at + timedelta(hours=1))
            await page.goto(f"{base}/staff/programmes/{pid}")
            await page.get_by_role("heading", name="Edit and approve the groups").wait_for()
            await check_page(page, shots, "14-programme-proposal")

            await place(page, {"m1": "1", "m3": "I", "a4": "1", "a2": "1"})
            await page.get_by_role("button", name="Check the groups").click()
            await page.get_by_role("link", name="Enter the number of a group").click()
            assert await page.locator("#p-m3").get_attribute("aria-invalid") == "true"
            await check_page(page, shots, "14a-matching-typo")
            await place(page, {"m1": "1", "m3": "1", "a4": "1", "a2": "1"})
            await page.get_by_role("button", name="Check the groups").click()
            broken = await page.get_by_test_id("broken-rule").inner_text()
            assert broken == "group 1: m1 and a4 have the same manager"
            await check_page(page, shots, "15-matching-broken")
            await place(page, {"m1": "1", "m2": "1", "a1": "1", "a3": "1"})
            await page.get_by_role("button", name="Check the groups").click()
            await page.get_by_test_id("rules-hold").wait_for()
            await page.get_by_role("button", name="Approve the groups").click()
            await page.get_by_text("The matching is approved.").wait_for()
            await check_page(page, shots, "16-approved")

            await page.get_by_role("link", name="Report").click()
            await page.get_by_role("heading", name=f"Report of {pid}").wait_for()
            await page.get_by_test_id("confidential").wait_for()
            await check_page(page, shots, "17-report")

            handle = env.client.get_workflow_handle(programme_workflow_id(pid))
            await sleep_until(env, calendar_of(good).matching_at + timedelta(days=5))
            first = sorted((await handle.query(ProgrammeWorkflow.state)).launched)[0]
            await page.goto(f"{base}/staff")
            await page.get_by_role("link", name="Attention: open escalations").click()
            escalation = page.get_by_test_id(f"escalation-{first}/1")
            for _ in range(100):  # the group records its escalation as its timer fires
                if await escalation.count():
                    break
                await asyncio.sleep(0.1)
                await page.reload()
            assert "Group agreement overdue" in await escalation.inner_text()
            await check_page(page, shots, "18-attention")
            await escalation.get_by_label("Acknowledge with a note").fill(
                "Called the mentors: the agreement is signed this week"
            )
            await escalation.get_by_role("button", name="Acknowledge", exact=True).click()
            await page.get_by_text("The escalation is acknowledged.").wait_for()
            assert await page.get_by_test_id(f"escalation-{first}/1").count() == 0
            await check_page(page, shots, "19-attention-acknowledged")

            for rid in (await handle.query(ProgrammeWorkflow.state)).launched:
                await env.client.get_workflow_handle(workflow_id(rid)).terminate("test done")
            await handle.terminate("test done")
    finally:
        server.should_exit = True
        await serving
    assert len(list(shots.glob("*.png"))) == 11


async def place(page, groups: dict[str, str]) -> None:
    """Everyone left out, then each person of ``groups`` in their group."""
    for field in await page.locator("input[name^='p:']").all():
        await field.fill("-")
    for person, group in groups.items():
        await page.locator(f"input[name='p:{person}']").fill(group)


def calendar_of(data: dict):
    return calendar(Programme.model_validate(data["programme"]))
