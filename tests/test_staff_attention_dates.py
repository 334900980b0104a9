"""The attention inbox gives the local date an escalation was raised on, east of UTC across DST,
and its reason in the reader's language.

A group of a Helsinki programme is escalated half an hour after local midnight on the days
summer time starts (2027-03-28) and ends (2027-10-31): still the day before in UTC. The inbox
shows each on its local day, never the UTC one. The reasons are recorded in the domain's English
with ISO durations ("P1D"); the page writes them in its language, as the letters do, and the API
gives them as recorded. The group's events are written to the store as its workflow writes them
(the inbox reads the record, not the workflow).
"""

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from activities.record_keeping import to_new_event
from domain.envelope import Event
from domain.relationship.events import EscalationKind, EscalationRaised
from store.directory import Contact, Directory, ProgrammeEntry
from store.event_store import EventStore
from store.staff import Role
from tests.builders import COORDINATOR
from tests.staff_helpers import relationship_started, sign_in_staff, staff_member
from tests.web_helpers import app_for, browser_client
from workflows.messages import workflow_id

HELSINKI = ZoneInfo("Europe/Helsinki")
REASONS = {  # as domain/relationship/schedule.py words them
    "agreement": "group agreement not recorded P1D after it was due",
    "midpoint": "midpoint feedback missing from 2 member(s) P7D after it was due",
}
SPRING = datetime(2027, 3, 28, 0, 30, tzinfo=HELSINKI)  # 2027-03-27 22:30 UTC (EET, +2)
AUTUMN = datetime(2027, 10, 31, 0, 30, tzinfo=HELSINKI)  # 2027-10-30 21:30 UTC (EEST, +3)


def escalation(at: datetime, kind: EscalationKind, subject: str) -> EscalationRaised:
    return EscalationRaised(
        event_id=uuid.uuid4(),
        occurred_at=at,
        actor="system",
        recipients=(COORDINATOR,),
        kind=kind,
        subject=subject,
        reason=REASONS[subject],
        scheduled_for=at,
    )


async def escalated_group(pool, programme_id: str) -> str:
    """Group 1 of a Helsinki programme, escalated at SPRING and at AUTUMN (both still open)."""
    rid = f"{programme_id}:1"
    await Directory(pool).register(
        ProgrammeEntry(programme_id, "Helsinki", "Europe/Helsinki", COORDINATOR),
        [Contact("m1", "Person M1", "m1@example.org", "fi")],
    )
    starts = datetime(2027, 3, 1, 9, tzinfo=HELSINKI)
    events: list[Event] = [
        relationship_started(rid, programme_id, starts),
        escalation(SPRING, EscalationKind.AGREEMENT_OVERDUE, "agreement"),
        escalation(AUTUMN, EscalationKind.FEEDBACK_OVERDUE, "midpoint"),
    ]
    await EventStore(pool).append(workflow_id(rid), 0, [to_new_event(e) for e in events])
    return rid


async def test_the_inbox_shows_the_local_day_an_escalation_was_raised_across_dst(env, pool, mail):
    """Raised just after local midnight as summer time starts and ends: the Helsinki day."""
    assert SPRING.astimezone(UTC).date().day == 27 and AUTUMN.astimezone(UTC).date().day == 30
    pid = f"hel-{uuid.uuid4().hex[:8]}"
    rid = await escalated_group(pool, pid)
    coordinator = await staff_member(pool, Role.COORDINATOR, pid)
    app, links = app_for(env.client, pool, mail)
    async with browser_client(app) as browser:
        await sign_in_staff(browser, links, coordinator)
        page = await browser.get("/staff/attention")
        assert page.status_code == 200, page.text
        spring = page.text.split(f'data-testid="escalation-{rid}/1"')[1].split("</section>")[0]
        autumn = page.text.split(f'data-testid="escalation-{rid}/2"')[1].split("</section>")[0]
        assert "<dd>March 28, 2027</dd>" in spring, spring
        assert "<dd>October 31, 2027</dd>" in autumn, autumn
        assert "March 27, 2027" not in page.text and "October 30, 2027" not in page.text

        fi = await browser.get("/staff/attention", headers={"Accept-Language": "fi"})
        assert "28. maaliskuuta 2027" in fi.text and "31. lokakuuta 2027" in fi.text

        listed = (await browser.get("/api/v1/attention")).json()
        assert [(e["number"], e["timezone"]) for e in listed] == [
            (1, "Europe/Helsinki"),
            (2, "Europe/Helsinki"),
        ]
        assert [datetime.fromisoformat(e["since"]) for e in listed] == [SPRING, AUTUMN]


def shown(page: str, key: str) -> str:
    """The section of escalation ``key`` (``<relationship_id>/<number>``) on the inbox page."""
    return page.split(f'data-testid="escalation-{key}"')[1].split("</section>")[0]


async def test_the_inbox_gives_the_recorded_reason_in_the_readers_language(env, pool, mail):
    """Finnish, Swedish and English wording, the durations in words; the API keeps the record's."""
    pid = f"why-{uuid.uuid4().hex[:8]}"
    rid = await escalated_group(pool, pid)
    coordinator = await staff_member(pool, Role.COORDINATOR, pid)
    app, links = app_for(env.client, pool, mail)
    async with browser_client(app) as browser:
        await sign_in_staff(browser, links, coordinator)
        fi = (await browser.get("/staff/attention", headers={"Accept-Language": "fi"})).text
        assert "P1D" not in fi and "P7D" not in fi and "after it was due" not in fi
        assert (
            "ryhmän sopimusta ei ole vieläkään kirjattu, vaikka määräajasta on kulunut 24 tuntia"
            in shown(fi, f"{rid}/1")
        )
        assert "väliarvio puuttuu 2 jäseneltä, vaikka määräajasta on kulunut 7 päivää" in shown(
            fi, f"{rid}/2"
        )

        sv = (await browser.get("/staff/attention", headers={"Accept-Language": "sv"})).text
        assert "P1D" not in sv and "after it was due" not in sv
        assert "gruppens överenskommelse är fortfarande inte registrerad 24 timmar efter" in sv

        en = (await browser.get("/staff/attention", headers={"Accept-Language": "en"})).text
        assert "P1D" not in en and "after it was due" not in en
        assert "the group agreement is still not recorded 24 hours after its due date" in shown(
            en, f"{rid}/1"
        )
        assert "midpoint feedback is missing from 2 member(s) 7 days after its due date" in shown(
            en, f"{rid}/2"
        )

        listed = (await browser.get("/api/v1/attention")).json()
        assert [e["reason"] for e in listed] == [REASONS["agreement"], REASONS["midpoint"]]
