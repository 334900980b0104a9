"""Resolving an escalation from the attention inbox by changing the group, over a real
RelationshipWorkflow on the time-skipping server, a real PostgreSQL and the real SMTP sink.

A group misses its agreement deadline and is escalated. Its coordinator replaces a mentee from
the inbox's form: a person the programme never enrolled is refused at the field; an enrolled one
takes the leaver's place in one Update (``member_withdrew``, ``member_added``,
``escalation_resolved``), the reason sealed; the new member's welcome arrives in the Maildir with
a link that opens the group for them. A second resolution of the same escalation through the
API is the domain's refusal, in problem details.
"""

import asyncio
import json
import re
import uuid
from datetime import timedelta

from store.directory import Contact, Directory, ProgrammeEntry
from store.sealing import Sealer
from store.staff import Role, StaffRegister
from tests.builders import COORDINATOR, LOCALES
from tests.staff_helpers import sign_in_staff
from tests.temporal_helpers import sleep_until, whole_seconds_now
from tests.test_staff_attention import escalation_of
from tests.web_helpers import (
    MASTER,
    app_for,
    browser_client,
    csrf_of,
    filed,
    started_group,
    worker_with_links,
)
from workflows.messages import workflow_id

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


async def test_a_coordinator_replaces_a_member_and_the_new_member_is_invited(env, pool, mail):
    pid = f"rep-{uuid.uuid4().hex[:8]}"
    email = f"hr1-{pid}@example.org"
    people = [
        Contact(
            p, f"Person {p.upper()}", email if p == COORDINATOR else f"{p}-{pid}@example.org", lang
        )
        for p, lang in {**LOCALES, "a4": "en"}.items()
    ]
    await Directory(pool).register(ProgrammeEntry(pid, "Replacing", HELSINKI, COORDINATOR), people)
    coordinator = await StaffRegister(pool).add(email, Role.COORDINATOR, (pid,))
    app, links = app_for(env.client, pool, mail)
    async with (
        worker_with_links(env.client, pool, mail, links) as queue,
        browser_client(app) as browser,
        browser_client(app) as newcomer,
    ):
        group = await started_group(
            env.client, pool, queue, await whole_seconds_now(env), programme_id=pid
        )
        rid = group.relationship_id
        await sleep_until(env, group.starts_at + timedelta(days=4, hours=1))  # escalated
        await escalation_of(pool, rid)
        await sign_in_staff(browser, links, coordinator)
        page = await browser.get("/staff/attention")
        action = f"/staff/attention/{rid}/1/member"
        assert f'action="{action}"' in page.text
        assert '<option value="a3">a3</option>' in page.text  # whom a replacement may replace
        csrf = csrf_of(page.text)
        form = {"csrf": csrf, "role": "mentee", "replaces": "a3", "reason": REASON}

        stranger = await browser.post(action, data={**form, "person_id": "a9"})
        assert stranger.status_code == 400
        assert f'href="#person-{rid}/1"' in stranger.text
        assert "not enrolled in the group" in stranger.text
        done = await browser.post(action, data={**form, "person_id": "a4"})
        assert done.status_code == 303, done.text
        after = await browser.get(done.headers["location"])
        assert "the new member is invited" in after.text and rid not in after.text

        subject, link = await welcome_to(mail, f"a4-{pid}@example.org", rid)
        assert subject == "Welcome to mentoring group " + rid.rpartition(":")[2]
        signed_in = await newcomer.get(link.removeprefix(links.public_url))
        assert signed_in.is_redirect, signed_in.text
        group_page = await newcomer.get(signed_in.headers["location"])
        assert group_page.status_code == 200 and "Person A4" in group_page.text

        again = await browser.post(
            f"/api/v1/relationships/{rid}/escalations/1/dissolution", json={"reason": "x"}
        )
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"
        assert again.json()["detail"].startswith("escalation_resolved:")

    rows = await pool.fetch(
        "SELECT type, actor, payload::text AS payload FROM events WHERE stream_id = $1"
        " AND type IN ('member_withdrew', 'member_added', 'escalation_resolved')"
        " ORDER BY version",
        workflow_id(rid),
    )
    assert [(r["type"], r["actor"]) for r in rows] == [
        ("member_withdrew", COORDINATOR),
        ("member_added", COORDINATOR),
        ("escalation_resolved", COORDINATOR),
    ]
    added = json.loads(rows[1]["payload"])
    assert (added["person_id"], added["role"], added["replaces"]) == ("a4", "mentee", "a3")
    assert REASON not in rows[1]["payload"]  # sealed before it reached Temporal and the record
    assert await Sealer(pool, MASTER).open(added["reason"]) == REASON
    assert json.loads(rows[2]["payload"])["how"] == "member_replaced"
