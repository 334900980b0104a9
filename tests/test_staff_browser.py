"""An auditor inspects a relationship in a real browser (Debian's Chromium, driven by Playwright).

The auditor asks for a sign-in link, opens it from the e-mail, finds a relationship by its id,
moves the as-of date across the day its agreement was recorded and sees the state change, then
verifies the record, before and after a superuser alters one event: the page names the first
broken link. Every page is screenshotted and checked with axe-core (no serious or critical
violations).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import uvicorn
from playwright.async_api import Browser

from mentorflow.embedded import free_port
from mentorflow.web.server import EmbeddedServer, started
from store.staff import Role, StaffRegister
from tests.staff_helpers import mailed_staff_link, own_database, recorded_relationship, tamper
from tests.test_web_browser import browser, check_page  # noqa: F401 - the session's Chromium
from tests.web_helpers import app_for

HELSINKI = ZoneInfo("Europe/Helsinki")


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
