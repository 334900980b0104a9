"""The attention inbox's programme-level items, over a real ProgrammeWorkflow on the time-skipping
server and a real PostgreSQL.

A Helsinki programme's coordinator never approves the matching: once the approval is escalated
(the approval window, then ``escalation.overdue_after``), the inbox shows it with the local day it
was due and a link to the programme page's approval, to its coordinator and not to another
programme's coordinator. An untrained mentor's address is refused by the test relay, so their
training reminder fails (``delivery_failed``): they are listed as a person e-mail did not reach,
with what to do. Once the matching is approved the approval item is gone; the unreachable mentor
stays listed (no event records a corrected address), as the page says.
"""

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date

from domain.calendar import calendar
from domain.programme.events import ProgrammePhase
from domain.programme.state import ProgrammeState
from mentorflow.web.staff import views
from store.staff import Role, StaffRegister
from tests.conftest import BOUNCING
from tests.staff_helpers import sign_in_staff, staff_member, started_programme
from tests.temporal_helpers import running_worker, sleep_until
from tests.test_staff_coordinate import HELSINKI, people, programme
from tests.web_helpers import app_for, browser_client
from workflows.programme import ProgrammeWorkflow


def test_the_items_hold_while_the_approval_waits_and_the_person_is_in_the_programme():
    """Approval: only once escalated and until approved. Unreachable: a removed participant, or
    anyone in a closed programme, is not listed; the coordinator is."""
    p = programme(date(2027, 1, 4), "pia@example.org")
    due = datetime(2027, 1, 20, 22, tzinfo=UTC)
    waiting = ProgrammeState(
        programme=p,
        calendar=calendar(p),
        started_at=datetime(2027, 1, 1, tzinfo=UTC),
        participants={x.id: x.profile() for x in people() if x.id != "a6"},
        removed={"a6": "left"},
        unreachable=["m4", "a6", "hr1"],
        phase=ProgrammePhase.APPROVAL,
        approval_due=due,
    )
    assert views._approval_overdue(waiting) is None  # not escalated yet
    escalated = waiting.model_copy(update={"approval_escalated": True})
    assert views._approval_overdue(escalated) == due
    approved = escalated.model_copy(update={"approved": [], "phase": ProgrammePhase.RUNNING})
    assert views._approval_overdue(approved) is None
    assert views._approval_overdue(None) is None

    listed = views._unreachable(p.id, HELSINKI, waiting, [], [])
    assert [u.person_id for u in listed] == ["m4", "hr1"]
    closed = waiting.model_copy(update={"phase": ProgrammePhase.CLOSED})
    assert views._unreachable(p.id, HELSINKI, closed, [], []) == []


async def test_an_overdue_approval_and_an_unreachable_mentor_are_in_the_inbox(env, pool, mail):
    """Its own coordinator's, with local days and the actions; the approval gone once approved."""
    today = (await env.get_current_time()).date()
    email = f"pia-{uuid.uuid4().hex[:8]}@example.org"
    p = programme(today, email, HELSINKI)
    cohort_ = people()  # m4 is an untrained mentor: reminded of the training
    cohort_[3] = cohort_[3].model_copy(update={"email": f"{BOUNCING}-{p.id}@example.org"})
    coordinator = await StaffRegister(pool).add(email, Role.COORDINATOR, (p.id,))
    other = await staff_member(pool, Role.COORDINATOR, f"other-{p.id}")
    auditor = await staff_member(pool, Role.AUDITOR)
    app, links = app_for(env.client, pool, mail)
    item = f'data-testid="approval-{p.id}"'
    unreachable = f'data-testid="unreachable-{p.id}/m4"'
    async with (
        running_worker(env.client, pool, mail) as task_queue,
        browser_client(app) as browser,
        browser_client(app) as other_browser,
        browser_client(app) as auditor_browser,
    ):
        handle = await started_programme(env.client, pool, p, cohort_, task_queue)
        await sign_in_staff(browser, links, coordinator)
        await sign_in_staff(other_browser, links, other)
        await sign_in_staff(auditor_browser, links, auditor)

        # Waiting for approval, within the window: not an item yet.
        await sleep_until(env, calendar(p).matching_at + timedelta(days=1))
        state = await handle.query(ProgrammeWorkflow.state)
        assert state.phase == "approval" and state.approval_due is not None
        assert "m4" in state.unreachable
        page = await browser.get("/staff/attention")
        assert page.status_code == 200, page.text
        assert item not in page.text and unreachable in page.text

        # Escalated: the approval window (P7D) and then overdue_after (P7D) have passed.
        await sleep_until(env, state.approval_due + timedelta(days=7, hours=1))
        assert (await handle.query(ProgrammeWorkflow.state)).approval_escalated
        page = await browser.get("/staff/attention")
        assert item in page.text and "Approval overdue" in page.text
        due_day = state.approval_due.astimezone(ZoneInfo(HELSINKI)).date()
        assert format_date(due_day, "long", locale="en") in page.text
        utc_day = state.approval_due.date()  # the day before, unless summer time ended between
        if utc_day != due_day:
            assert format_date(utc_day, "long", locale="en") not in page.text
        assert f'href="/staff/programmes/{p.id}#edit"' in page.text
        assert unreachable in page.text and "mentorflow programme sync" in page.text
        # The page's hint speaks of both kinds, and of the groups' escalations.
        assert "A person e-mail did not reach has nothing to acknowledge" in page.text
        home = (await browser.get("/staff")).text  # the link to the inbox names them too
        assert "overdue approvals, people e-mail did not reach" in home
        listed = (await browser.get("/api/v1/attention/programmes")).json()
        [overdue] = [a for a in listed["approvals_overdue"] if a["programme_id"] == p.id]
        assert overdue["timezone"] == HELSINKI
        assert datetime.fromisoformat(overdue["due"]) == state.approval_due
        [person] = [u for u in listed["unreachable"] if u["programme_id"] == p.id]
        assert (person["person_id"], person["groups"]) == ("m4", [])
        assert not any(u["person_id"] != "m4" for u in listed["unreachable"])
        summary = [
            s for s in (await browser.get("/api/v1/programmes")).json() if s["programme_id"] == p.id
        ]
        assert summary[0]["escalations"] == 1 and summary[0]["unreachable"] == 1

        await browser.get("/language/fi?back=/staff")
        finnish = await browser.get("/staff/attention")
        assert "Hyväksyntä myöhässä" in finnish.text
        assert "Henkilöä, jolle sähköposti ei mennyt perille, ei kuitata" in finnish.text
        assert format_date(due_day, "long", locale="fi") in finnish.text

        # Not another programme's coordinator's; an auditor reads it without the link to act.
        assert p.id not in (await other_browser.get("/staff/attention")).text
        others = (await other_browser.get("/api/v1/attention/programmes")).json()
        assert others == {"approvals_overdue": [], "unreachable": []}
        read_only = await auditor_browser.get("/staff/attention")
        assert item in read_only.text and f"/staff/programmes/{p.id}#edit" not in read_only.text

        approved = await browser.post(f"/api/v1/programmes/{p.id}/matching/approval", json={})
        assert approved.status_code == 200, approved.text
        after = await browser.get("/staff/attention")
        assert item not in after.text and unreachable in after.text
        assert "Korjattua osoitetta ei kirjata tapahtumana" in after.text
        listed = (await browser.get("/api/v1/attention/programmes")).json()
        assert listed["approvals_overdue"] == []
        assert [u["person_id"] for u in listed["unreachable"]] == ["m4"]
    # The programme and the groups it launched are left to the module's end (conftest), which
    # terminates them once the worker has gone: terminating them here, with the groups' first
    # deliveries in flight, could hold the time-skipping server's clock for later tests.
