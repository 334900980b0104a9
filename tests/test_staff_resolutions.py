"""Resolving an escalation from the attention inbox by changing the group, over a real
RelationshipWorkflow on the time-skipping server, a real PostgreSQL and the real SMTP sink.

A group misses its agreement deadline and is escalated. Its coordinator, in a real browser
(Debian's Chromium, driven by Playwright), replaces a mentee from the inbox's form: a person the
programme never enrolled is refused at the field; an enrolled one takes the leaver's place in one
Update (``member_withdrew``, ``member_added``, ``escalation_resolved``), the reason sealed; the
new member's welcome arrives in the Maildir with a link that opens the group for them. A second
resolution of the same escalation through the API is the domain's refusal, in problem details.
Through the API, later escalations are resolved by extending the agreement's deadline (escalated
again when the new one passes) and by dissolving the group, which ends the workflow; the run that
took the three Updates replays with today's code.
Every page is screenshotted and checked with axe-core.
"""

import asyncio
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from babel.dates import format_date
from playwright.async_api import Browser
from temporalio.worker import Replayer

from activities.record_keeping import to_new_event
from domain.calendar import calendar
from domain.factory import EventFactory
from domain.model import Member
from domain.model import Role as PersonRole
from domain.programme.commands import start as start_programme
from mentorflow.embedded import free_port
from mentorflow.programme_files import load_programme
from mentorflow.web.server import EmbeddedServer, started
from mentorflow.web.staff.resolutions import NotEnrolled, enrolled
from store.directory import Contact, Directory, ProgrammeEntry
from store.event_store import EventStore
from store.sealing import Sealer
from store.staff import Role, StaffRegister
from tests.builders import COORDINATOR, LOCALES
from tests.staff_helpers import (
    group_with_overdue_agreement,
    own_database,
    relationship_started,
    sign_in_staff,
    signed_in_page,
    staff_member,
)
from tests.temporal_helpers import result_within, sleep_until
from tests.test_letters import EXAMPLE
from tests.test_web_browser import browser, check_page  # noqa: F401 - the session's Chromium
from tests.web_helpers import (
    MASTER,
    app_for,
    browser_client,
    csrf_of,
    filed,
    worker_with_links,
)
from workflows.messages import programme_workflow_id, workflow_id
from workflows.relationship import RelationshipWorkflow

HELSINKI = "Europe/Helsinki"
REASON = "a3 moved to another unit; a4 takes her place"


async def welcome_to(mail, address: str, rid: str) -> tuple[str, str]:
    """(subject, the link to the group) of the member_added letter to ``address``, waiting for
    it: delivery follows the event."""
    wanted = re.compile(rf"(http://\S+?/g/{re.escape(rid)}\S*)")
    for _ in range(600):
        for message in filed(mail).values():
            if message["To"].addresses[0].addr_spec != address:
                continue
            if message["X-Mentorflow-Kind"] != "member_added":
                continue
            body = message.get_body(preferencelist=("plain",)).get_content()
            found = wanted.search(body)
            assert found, body
            return str(message["Subject"]), found.group(1)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no welcome to {address}")


async def test_a_coordinator_replaces_a_member_and_the_new_member_is_invited(
    env,
    pool,
    mail,
    browser: Browser,  # noqa: F811 - the session's Chromium
    tmp_path,
):
    """In Chromium: a stranger refused at the field, then the replacement confirmed; the
    newcomer's welcome in the Maildir opens the group for them. Pages checked with axe-core."""
    pid = f"rep-{uuid.uuid4().hex[:8]}"
    email = f"hr1-{pid}@example.org"
    people = [
        Contact(
            p, f"Person {p.upper()}", email if p == COORDINATOR else f"{p}-{pid}@example.org", lang
        )
        for p, lang in {**LOCALES, "a4": "en"}.items()
    ]
    await Directory(pool).register(ProgrammeEntry(pid, "Replacing", HELSINKI, COORDINATOR), people)
    member = await StaffRegister(pool).add(email, Role.COORDINATOR, (pid,))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app, links = app_for(env.client, pool, mail, public_url=base)
    server = EmbeddedServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    serving = await started(server)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        async with (
            worker_with_links(env.client, pool, mail, links) as queue,
            browser_client(app) as coordinator,
            browser_client(app) as newcomer,
            browser_client(app) as auditor,
        ):
            group = (await group_with_overdue_agreement(env, pool, queue, pid))[0]
            rid = group.relationship_id

            # The other forms' input is checked at its field before anything is sent.
            await sign_in_staff(coordinator, links, member)
            inbox = (await coordinator.get("/staff/attention")).text
            due = group.starts_at + timedelta(days=3)  # SHORT: the agreement's deadline
            local = format_date(due.astimezone(ZoneInfo(HELSINKI)).date(), "long", locale="en")
            assert f'<option value="agreement" selected>Group agreement (due {local})' in inbox
            csrf = csrf_of(inbox)
            action = f"/staff/attention/{rid}/1"
            bad_date = await coordinator.post(
                f"{action}/deadline",
                data={"csrf": csrf, "deadline": "agreement", "until": "31.3.2027", "reason": "x"},
            )
            assert bad_date.status_code == 400 and f'href="#until-{rid}/1"' in bad_date.text
            no_reason = await coordinator.post(
                f"{action}/dissolution", data={"csrf": csrf, "reason": " "}
            )
            assert no_reason.status_code == 400
            assert f'href="#dissolve-reason-{rid}/1"' in no_reason.text

            page = await signed_in_page(browser, base, mail, email)
            await page.goto(f"{base}/staff/attention")
            escalation = page.get_by_test_id(f"replace-{rid}/1")
            await escalation.get_by_text("Replace or add a member").click()
            await escalation.get_by_label("The new member's id").fill("a9")
            await escalation.get_by_label("In place of").select_option("a3")
            await escalation.get_by_label("Why").fill(REASON)
            await check_page(page, shots, "20-attention-replace")
            await escalation.get_by_role("button", name="Change the group").click()
            await page.get_by_text("This person is not enrolled in the group").first.wait_for()
            await check_page(page, shots, "21-attention-not-enrolled")
            escalation = page.get_by_test_id(f"replace-{rid}/1")
            await escalation.get_by_label("The new member's id").fill("a4")
            await escalation.get_by_role("button", name="Change the group").click()
            await page.get_by_text("The group has changed: the new member is invited.").wait_for()
            assert await page.get_by_test_id(f"escalation-{rid}/1").count() == 0
            await check_page(page, shots, "22-attention-replaced")

            subject, link = await welcome_to(mail, f"a4-{pid}@example.org", rid)
            assert subject == "Welcome to mentoring group " + rid.rpartition(":")[2]
            signed_in = await newcomer.get(link.removeprefix(base))
            assert signed_in.is_redirect, signed_in.text
            group_page = await newcomer.get(signed_in.headers["location"])
            assert group_page.status_code == 200 and "Person A4" in group_page.text

            again = await coordinator.post(
                f"/api/v1/relationships/{rid}/escalations/1/dissolution", json={"reason": "x"}
            )
            assert again.status_code == 409
            assert again.headers["content-type"] == "application/problem+json"
            assert again.json()["detail"].startswith("escalation_resolved:")

            # Later meetings are missed: that escalation is answered by moving the agreement's
            # deadline, which is escalated again when it passes; that one by dissolving.
            await sleep_until(env, group.starts_at + timedelta(days=17))
            [missed] = (await coordinator.get("/api/v1/attention")).json()
            assert missed["kind"] == "inactive"
            api = f"/api/v1/relationships/{rid}/escalations"
            until = (group.starts_at + timedelta(days=20)).date().isoformat()
            moved = await coordinator.post(
                f"{api}/{missed['number']}/deadline-extension",
                json={"deadline": "agreement", "until": until, "reason": "new member"},
            )
            assert moved.status_code == 200, moved.text
            assert (await coordinator.get("/api/v1/attention")).json() == []
            await sleep_until(env, group.starts_at + timedelta(days=21, hours=1))
            [late] = (await coordinator.get("/api/v1/attention")).json()
            assert (late["kind"], late["subject"]) == ("agreement_overdue", "agreement")
            dissolved = await coordinator.post(
                f"{api}/{late['number']}/dissolution", json={"reason": "never got going"}
            )
            assert dissolved.status_code == 200, dissolved.text
            handle = env.client.get_workflow_handle(workflow_id(rid))
            result = await result_within(handle)
            assert (result["outcome"], result["reason"]) == (
                "dissolved",
                "dissolved by the coordinator",
            )
            history = await handle.fetch_history()  # the run that took all three Updates

            # The auditor's timeline names each change; without a grant the texts stay sealed.
            await sign_in_staff(auditor, links, await staff_member(pool, Role.AUDITOR))
            record = (await auditor.get(f"/staff/audit/r/{rid}")).text
            assert "a4 (mentee) added in place of a3: [sealed]" in record
            assert f"agreement deadline moved from {due:%Y-%m-%d} to {until}: [sealed]" in record
            assert "closed, dissolved: dissolved by the coordinator ([sealed])" in record
            assert REASON not in record
    finally:
        server.should_exit = True
        await serving
    assert len(list(shots.glob("*.png"))) == 3

    await Replayer(
        workflows=[RelationshipWorkflow], data_converter=env.client.data_converter
    ).replay_workflow(history)
    update_names = {
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    }
    assert {"add_member", "extend_deadline", "dissolve"} <= update_names

    rows = await pool.fetch(
        "SELECT type, actor, payload::text AS payload FROM events WHERE stream_id = $1"
        " AND type IN ('member_withdrew', 'member_added', 'escalation_resolved')"
        " ORDER BY version",
        workflow_id(rid),
    )
    assert [(r["type"], r["actor"]) for r in rows] == [
        ("member_withdrew", COORDINATOR),
        ("member_added", COORDINATOR),
        *[("escalation_resolved", COORDINATOR)] * 3,
    ]
    added = json.loads(rows[1]["payload"])
    assert (added["person_id"], added["role"], added["replaces"]) == ("a4", "mentee", "a3")
    assert REASON not in rows[1]["payload"]  # sealed before it reached Temporal and the record
    assert await Sealer(pool, MASTER).open(added["reason"]) == REASON
    hows = [json.loads(r["payload"])["how"] for r in rows[2:]]
    assert hows == ["member_replaced", "deadline_extended", "dissolved"]


async def test_only_a_person_the_programme_enrolled_in_that_role_may_join(database_url):
    """The programme's recorded state decides: enrolled, in that role, and a mentor trained
    (the example programme requires training, and m4 has none)."""
    pool = await own_database(database_url)
    try:
        loaded = load_programme(EXAMPLE)
        p = loaded.programme
        f = EventFactory(datetime(2020, 5, 1, tzinfo=UTC), uuid.uuid4)
        profiles = tuple(x.profile() for x in loaded.participants)
        started = start_programme(p, calendar(p), profiles, f)
        await EventStore(pool).append(programme_workflow_id(p.id), 0, [to_new_event(started)])
        mentee = await enrolled(pool, p.id, "a1", PersonRole.MENTEE)
        assert mentee == Member(person_id="a1", role=PersonRole.MENTEE)
        assert (await enrolled(pool, p.id, "m1", PersonRole.MENTOR)).person_id == "m1"
        for person, role, why in (
            ("a9", PersonRole.MENTEE, "not enrolled"),
            ("a1", PersonRole.MENTOR, "another role"),
            ("m4", PersonRole.MENTOR, "mentor training"),
        ):
            with pytest.raises(NotEnrolled, match=why):
                await enrolled(pool, p.id, person, role)

        # Placed as the matching places: a mentee in one open group, a mentor (capacity 1 in
        # the example) in as many as their capacity.
        rid = f"{p.id}:1"
        placed = relationship_started(rid, p.id, datetime(2020, 9, 1, tzinfo=UTC))
        await EventStore(pool).append(workflow_id(rid), 0, [to_new_event(placed)])
        for person, role, why in (
            ("a1", PersonRole.MENTEE, "already in another open group"),
            ("m1", PersonRole.MENTOR, "capacity"),
        ):
            with pytest.raises(NotEnrolled, match=why):
                await enrolled(pool, p.id, person, role, joining=f"{p.id}:2")
            # in their own group the domain answers (already a member)
            assert (await enrolled(pool, p.id, person, role, joining=rid)).person_id == person
        assert (await enrolled(pool, p.id, "a4", PersonRole.MENTEE, joining=rid)).person_id == "a4"
    finally:
        await pool.close()
