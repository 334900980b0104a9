"""The coordinator's attention inbox, over a real RelationshipWorkflow on the time-skipping server
and a real PostgreSQL.

A group of a New York programme misses its agreement deadline and is escalated; the escalation
shows in its coordinator's inbox (its local date, kind and reason), not in another programme's
coordinator's, who can resolve nothing; auditors read it without a form; a coordinator listed for
the programme who is not the group's coordinator is refused by the domain's rule before the note
is sealed, so no data key is made for them. The coordinator
acknowledges it with a note: an empty note is refused at its field, the acknowledgement is an
``escalation_resolved`` event whose actor is the coordinator and whose note is sealed, and the
escalation leaves the inbox and the overviews' counts (a second acknowledgement is the domain's
refusal). An admin who does not coordinate the programme acknowledges another group's
escalation: recorded with the admin's own staff id as actor, the note sealed with their key.
"""

import json
import uuid
from zoneinfo import ZoneInfo

from babel.dates import format_date

from activities.mail import reasons
from store.directory import Contact, Directory, ProgrammeEntry
from store.sealing import Sealer
from store.staff import Role, StaffRegister
from tests.builders import COORDINATOR, LOCALES
from tests.staff_helpers import group_with_overdue_agreement, sign_in_staff, staff_member
from tests.web_helpers import (
    MASTER,
    app_for,
    browser_client,
    csrf_of,
    worker_with_links,
)
from workflows.messages import workflow_id

NEW_YORK = "America/New_York"
NOTE = "Called both mentors: the agreement is signed next week"


async def registered(pool, programme_id: str, coordinator_email: str) -> None:
    """The programme's directory: its people and its coordinator (hr1) at ``coordinator_email``."""
    people = [
        Contact(
            p,
            f"Person {p.upper()}",
            coordinator_email if p == COORDINATOR else f"{p}-{programme_id}@example.org",
            lang,
        )
        for p, lang in LOCALES.items()
    ]
    entry = ProgrammeEntry(programme_id, "Attention", NEW_YORK, COORDINATOR)
    await Directory(pool).register(entry, people)


async def open_counts(browser, programme_id: str) -> tuple[int, int]:
    """The open escalations the programme list and the group health count."""
    [summary] = [
        p
        for p in (await browser.get("/api/v1/programmes")).json()
        if p["programme_id"] == programme_id
    ]
    [group] = (await browser.get(f"/api/v1/programmes/{programme_id}/groups")).json()
    return summary["escalations"], group["escalations"]


async def test_a_coordinator_acknowledges_an_escalation_from_the_inbox(env, pool, mail):
    """Only their own programme's; the note required; recorded by them, sealed; then gone."""
    pid = f"att-{uuid.uuid4().hex[:8]}"
    email = f"hr1-{pid}@example.org"
    await registered(pool, pid, email)
    coordinator = await StaffRegister(pool).add(email, Role.COORDINATOR, (pid,))
    other = await staff_member(pool, Role.COORDINATOR, "other")
    auditor = await staff_member(pool, Role.AUDITOR)
    deputy = await StaffRegister(pool).add(f"deputy-{pid}@example.org", Role.COORDINATOR, (pid,))
    app, links = app_for(env.client, pool, mail)
    async with (
        worker_with_links(env.client, pool, mail, links) as queue,
        browser_client(app) as browser,
        browser_client(app) as other_browser,
        browser_client(app) as auditor_browser,
        browser_client(app) as deputy_browser,
    ):
        group, raised = await group_with_overdue_agreement(env, pool, queue, pid)
        rid = group.relationship_id
        assert raised["kind"] == "agreement_overdue"
        await sign_in_staff(browser, links, coordinator)
        await sign_in_staff(other_browser, links, other)
        await sign_in_staff(auditor_browser, links, auditor)
        await sign_in_staff(deputy_browser, links, deputy)
        action = f"/staff/attention/{rid}/1"
        api = f"/api/v1/relationships/{rid}/escalations/1/acknowledgement"

        page = await browser.get("/staff/attention")
        assert page.status_code == 200, page.text
        assert f'data-testid="escalation-{rid}/1"' in page.text
        assert "Group agreement overdue" in page.text
        assert reasons.render(str(raised["reason"]), "en", str) in page.text  # in words
        local_day = raised["at"].astimezone(ZoneInfo(NEW_YORK)).date()  # type: ignore[attr-defined]
        assert format_date(local_day, "long", locale="en") in page.text
        assert f'action="{action}"' in page.text
        listed = (await browser.get("/api/v1/attention")).json()
        assert [(e["relationship_id"], e["number"], e["timezone"]) for e in listed] == [
            (rid, 1, NEW_YORK)
        ]
        assert 'href="/staff/attention"' in (await browser.get("/staff")).text
        assert await open_counts(browser, pid) == (1, 1)

        # Another programme's coordinator neither sees nor resolves it; auditors read only.
        assert rid not in (await other_browser.get("/staff/attention")).text
        assert rid not in (await other_browser.get("/api/v1/attention")).text
        other_csrf = csrf_of((await other_browser.get("/staff/attention")).text)
        refused = await other_browser.post(action, data={"csrf": other_csrf, "note": NOTE})
        assert refused.status_code == 403
        assert (await other_browser.post(api, json={"note": NOTE})).status_code == 403
        read_only = await auditor_browser.get("/staff/attention")
        assert rid in read_only.text and f'action="{action}"' not in read_only.text
        auditor_csrf = csrf_of(read_only.text)
        refused = await auditor_browser.post(action, data={"csrf": auditor_csrf, "note": NOTE})
        assert refused.status_code == 403

        # Listed for the programme (so the page offers the form) but not the group's coordinator
        # (another address) nor an admin: the domain's rule refuses before the note is sealed, so
        # no data key is made for them.
        deputy_page = await deputy_browser.get("/staff/attention")
        assert f'action="{action}"' in deputy_page.text
        by_deputy = await deputy_browser.post(
            action, data={"csrf": csrf_of(deputy_page.text), "note": NOTE}
        )
        assert by_deputy.status_code == 409
        assert "Only the group&#39;s coordinator can do this." in by_deputy.text
        by_deputy = await deputy_browser.post(api, json={"note": NOTE})
        assert by_deputy.status_code == 409
        assert by_deputy.json()["detail"].startswith("not_allowed:")
        deputy_keys = await pool.fetchval(
            "SELECT count(*) FROM data_keys WHERE person_id = $1", f"staff:{deputy.staff_id}"
        )
        assert deputy_keys == 0

        csrf = csrf_of(page.text)
        assert (await browser.post(action, data={"note": NOTE})).status_code == 403  # no CSRF
        empty = await browser.post(action, data={"csrf": csrf, "note": "   "})
        assert empty.status_code == 400 and f'id="note-{rid}/1-error"' in empty.text
        done = await browser.post(action, data={"csrf": csrf, "note": NOTE})
        assert done.status_code == 303, done.text
        assert done.headers["location"] == "/staff/attention?done=acknowledged"
        after = await browser.get(done.headers["location"])
        assert "The escalation is acknowledged." in after.text
        assert rid not in after.text and 'data-testid="nothing-open"' in after.text
        assert (await browser.get("/api/v1/attention")).json() == []
        assert await open_counts(browser, pid) == (0, 0)  # the overviews count open ones only
        again = await browser.post(api, json={"note": NOTE})
        assert again.status_code == 409
        assert again.json()["detail"].startswith("escalation_resolved:")
        record = await auditor_browser.get(f"/staff/audit/r/{rid}")  # no grant: not opened
        assert "escalation 1 (agreement_overdue) acknowledged: [sealed]" in record.text
        assert NOTE not in record.text

    rows = await pool.fetch(
        "SELECT actor, payload::text AS payload FROM events"
        " WHERE stream_id = $1 AND type = 'escalation_resolved'",
        workflow_id(rid),
    )
    assert len(rows) == 1 and rows[0]["actor"] == COORDINATOR
    assert NOTE not in rows[0]["payload"]  # sealed before it reached Temporal and the record
    payload = json.loads(rows[0]["payload"])
    assert (payload["number"], payload["how"], payload["subject"]) == (
        1,
        "acknowledged",
        "agreement",
    )
    assert await Sealer(pool, MASTER).open(payload["note"]) == NOTE


async def test_an_admin_who_does_not_coordinate_the_programme_acknowledges_an_escalation(
    env, pool, mail
):
    """Accepted under the admin's own staff id (the event's actor), the note sealed with the
    admin's key; another programme's coordinator and an auditor are still refused."""
    pid = f"att-{uuid.uuid4().hex[:8]}"
    await registered(pool, pid, f"hr1-{pid}@example.org")
    admin = await staff_member(pool, Role.ADMIN)
    other = await staff_member(pool, Role.COORDINATOR, "other")
    auditor = await staff_member(pool, Role.AUDITOR)
    app, links = app_for(env.client, pool, mail)
    async with (
        worker_with_links(env.client, pool, mail, links) as queue,
        browser_client(app) as admin_browser,
        browser_client(app) as other_browser,
        browser_client(app) as auditor_browser,
    ):
        rid = (await group_with_overdue_agreement(env, pool, queue, pid))[0].relationship_id
        await sign_in_staff(admin_browser, links, admin)
        await sign_in_staff(other_browser, links, other)
        await sign_in_staff(auditor_browser, links, auditor)
        action = f"/staff/attention/{rid}/1"
        api = f"/api/v1/relationships/{rid}/escalations/1/acknowledgement"
        for refused_browser in (other_browser, auditor_browser):
            csrf = csrf_of((await refused_browser.get("/staff/attention")).text)
            by_page = await refused_browser.post(action, data={"csrf": csrf, "note": NOTE})
            assert by_page.status_code == 403
            assert (await refused_browser.post(api, json={"note": NOTE})).status_code == 403

        page = await admin_browser.get("/staff/attention")
        assert f'action="{action}"' in page.text
        done = await admin_browser.post(action, data={"csrf": csrf_of(page.text), "note": NOTE})
        assert done.status_code == 303, done.text
        still_open = (await admin_browser.get("/api/v1/attention")).json()
        assert rid not in {e["relationship_id"] for e in still_open}
        again = await admin_browser.post(api, json={"note": NOTE})
        assert again.status_code == 409
        assert again.json()["detail"].startswith("escalation_resolved:")

    rows = await pool.fetch(
        "SELECT actor, payload::text AS payload FROM events"
        " WHERE stream_id = $1 AND type = 'escalation_resolved'",
        workflow_id(rid),
    )
    assert [r["actor"] for r in rows] == [f"staff:{admin.staff_id}"]
    assert NOTE not in rows[0]["payload"]  # sealed before it reached Temporal and the record
    note = json.loads(rows[0]["payload"])["note"]
    assert await Sealer(pool, MASTER).open(note) == NOTE
