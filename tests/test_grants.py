"""Auditors read a relationship's texts only with a recorded grant (`mentorflow privacy grant`).

Without one, the auditor's pages, exports and API show every text ``[sealed]``; a grant opens
that relationship's texts for that staff member only, until the end of its last day in the
programme's zone, and is recorded (who granted, to which staff id, why, until when) in the
stream ``privacy:grants``. The auditor's database role reads neither names nor data keys.
"""

import asyncio
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from activities.record_keeping import to_new_event
from domain.envelope import Event
from domain.relationship.events import AgreementRecorded
from mentorflow.grants import GRANTS, _end_of, covers, grant, grants
from mentorflow.privacy import erase
from store.directory import Contact, Directory, ProgrammeEntry
from store.event_store import EventStore
from store.sealing import ERASED, Sealer, authors_in
from store.staff import Role
from tests.builders import COORDINATOR, known_people
from tests.staff_helpers import own_database, relationship_started, sign_in_staff, staff_member
from tests.web_helpers import MASTER, app_for, browser_client
from workflows.messages import workflow_id

MENTORFLOW = str(Path(sys.executable).parent / "mentorflow")
HELSINKI, NEW_YORK = "Europe/Helsinki", "America/New_York"
SECRET_GOAL = "Kalevala goal of Vainamoinen 7431"


async def _cli(database_url: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        MENTORFLOW,
        "privacy",
        "grant",
        *args,
        env={**os.environ, "MENTORFLOW_DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 300)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _sealed_relationship(pool: asyncpg.Pool) -> str:
    """A Helsinki group whose agreement's goal m1 wrote (sealed with m1's data key)."""
    programme_id = f"grant-{uuid.uuid4().hex[:8]}"
    rid = f"{programme_id}:1"
    await Directory(pool).register(
        ProgrammeEntry(programme_id, "Granted programme", HELSINKI, COORDINATOR),
        [Contact("m1", "Person M1", "m1@example.org", "fi")],
    )
    starts = datetime(2026, 3, 20, 9, tzinfo=ZoneInfo(HELSINKI))
    goal = await Sealer(pool, MASTER).seal(SECRET_GOAL, "m1")
    events: list[Event] = [
        relationship_started(rid, programme_id, starts),
        AgreementRecorded(
            event_id=uuid.uuid4(),
            occurred_at=starts + timedelta(days=3),
            actor="m1",
            goals=(goal,),
            agreement=goal,
            late=False,
        ),
    ]
    await EventStore(pool).append(workflow_id(rid), 0, [to_new_event(e) for e in events])
    return rid


async def _views(app_and_links, member, rid: str) -> list[str]:  # type: ignore[no-untyped-def]
    """What ``member`` reads of ``rid``: the page, the API, both exports."""
    app, links = app_and_links
    async with browser_client(app) as browser:
        await sign_in_staff(browser, links, member)
        pages = [
            await browser.get(f"/staff/audit/r/{rid}"),
            await browser.get(f"/api/v1/relationships/{rid}"),
            await browser.get(f"/staff/audit/r/{rid}/export.html"),
            await browser.get(f"/staff/audit/r/{rid}/export.json"),
            await browser.get(f"/api/v1/relationships/{rid}/export"),
        ]
    assert [p.status_code for p in pages] == [200] * len(pages)
    return [p.text for p in pages]


async def test_a_grant_opens_one_relationship_for_one_auditor_until_its_last_local_day(
    env, pool, mail, database_url
):
    """Without a grant every view is ``[sealed]``; the grant opens the texts for the auditor it
    names, not another; it ends at midnight after its last day in Helsinki (22:00 UTC in
    winter); the record holds the staff id and the reason, not the address."""
    rid = await _sealed_relationship(pool)
    granted = await staff_member(pool, Role.AUDITOR)
    other = await staff_member(pool, Role.AUDITOR)
    in_force = app_for(env.client, pool, mail)
    before = await _views(in_force, granted, rid)
    assert all(SECRET_GOAL not in v for v in before)
    assert "[sealed]" in before[0] and "[sealed]" in before[1]

    code, out, err = await _cli(
        database_url,
        *("--auditor", granted.email, "--relationship", rid),
        *("--reason", "complaint 42", "--until", "2099-01-15", "--by", "dpo1"),
    )
    assert code == 0, err
    assert f"granted staff member {granted.staff_id} the texts of {rid} until 2099-01-15" in out

    opened = await _views(in_force, granted, rid)
    assert all(SECRET_GOAL in v for v in opened)
    assert SECRET_GOAL in opened[0]
    assert all(SECRET_GOAL not in v for v in await _views(in_force, other, rid))

    last_minute = datetime(2099, 1, 15, 21, 59, tzinfo=UTC)
    midnight = datetime(2099, 1, 15, 22, 0, tzinfo=UTC)  # 2099-01-16 00:00 in Helsinki
    assert await covers(pool, granted.staff_id, rid, last_minute)
    assert not await covers(pool, granted.staff_id, rid, midnight)
    assert not await covers(pool, other.staff_id, rid, last_minute)

    [recorded] = [g for g in await grants(pool) if g.relationship_id == rid]
    assert (recorded.staff_id, recorded.granted_by, recorded.reason) == (
        granted.staff_id,
        "dpo1",
        "complaint 42",
    )
    [event] = [
        r for r in await EventStore(pool).read_stream(GRANTS) if r.payload["relationship_id"] == rid
    ]
    assert granted.email not in str(event.payload) and event.type == "text_access_granted"


async def test_grant_refusals_are_one_line_and_record_nothing(pool, database_url):
    """An unknown address, a coordinator, an unknown relationship, a bad or past date, an empty
    reason: refused in one line, and the grants stream is unchanged."""
    rid = await _sealed_relationship(pool)
    auditor = await staff_member(pool, Role.AUDITOR)
    coordinator = await staff_member(pool, Role.COORDINATOR, rid.split(":")[0])
    count = len(await grants(pool))
    cases = [
        (("--auditor", "nobody@example.org", "--relationship", rid), "not an auditor"),
        (("--auditor", coordinator.email, "--relationship", rid), "not an auditor"),
        (("--auditor", auditor.email, "--relationship", "nope:9"), "--relationship"),
        (("--auditor", auditor.email, "--relationship", rid, "--until", "15.1.2099"), "--until"),
        (("--auditor", auditor.email, "--relationship", rid, "--until", "2020-01-01"), "past"),
    ]
    for args, message in cases:
        code, _, err = await _cli(database_url, *args, "--reason", "complaint 42")
        assert code != 0 and message in err and len(err.strip().splitlines()) == 1, (args, err)
    code, _, err = await _cli(
        database_url, "--auditor", auditor.email, "--relationship", rid, "--reason", " "
    )
    assert code != 0 and "--reason" in err and len(err.strip().splitlines()) == 1, err
    assert len(await grants(pool)) == count


@pytest.mark.parametrize(
    ("zone", "day", "ends"),
    [
        (HELSINKI, "2026-03-28", datetime(2026, 3, 28, 22, tzinfo=UTC)),  # before summer time
        (HELSINKI, "2026-03-29", datetime(2026, 3, 29, 21, tzinfo=UTC)),  # summer time from 29th
        (NEW_YORK, "2026-03-07", datetime(2026, 3, 8, 5, tzinfo=UTC)),
        (NEW_YORK, "2026-03-08", datetime(2026, 3, 9, 4, tzinfo=UTC)),  # summer time from 8th
    ],
)
def test_a_grant_ends_at_local_midnight_after_its_last_day_across_dst(zone, day, ends):
    from datetime import date

    assert _end_of(date.fromisoformat(day), zone) == ends


async def test_the_auditor_role_reads_neither_names_nor_data_keys(pool):
    """``mentorflow_auditor`` reads the events, not ``people`` nor ``data_keys``."""
    await known_people(pool, "role-check")
    await Sealer(pool, MASTER).seal("a text so that a data key exists", "role-check")
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL ROLE mentorflow_auditor")
        assert await conn.fetchval("SELECT count(*) FROM events") >= 0
        for table in ("people", "data_keys"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():  # a savepoint, rolled back by the refusal
                    await conn.fetch(f"SELECT * FROM {table}")


async def test_an_erasure_by_another_process_shows_at_once_under_a_grant(env, mail, database_url):
    """The web process opened m1's text under a grant (and keeps m1's key); m1 is erased by
    another process (the CLI): the next view of every page reads ``[erased]``."""
    pool = await own_database(database_url)  # m1 erased here must not be every test's m1
    try:
        rid = await _sealed_relationship(pool)
        auditor = await staff_member(pool, Role.AUDITOR)
        await grant(pool, auditor.email, rid, "dpo1", "complaint 43", None, datetime.now(UTC))
        web = app_for(env.client, pool, mail)
        assert all(SECRET_GOAL in v for v in await _views(web, auditor, rid))
        await erase(pool, Sealer(pool, MASTER), "m1", "dpo1", "request of 2026-12-01")
        after = await _views(web, auditor, rid)
        assert all(SECRET_GOAL not in v for v in after)
        assert "[erased]" in after[0] and "[erased]" in after[1]
    finally:
        await pool.close()


async def test_a_view_asks_about_the_authors_of_its_own_texts_only(database_url):
    """The web app's sealer keeps keys across requests; a view asks whether the authors of the
    texts it opens were erased since, not every person whose key the process keeps: after two
    people are erased by another process, a view of one's text reads ``[erased]`` while the
    other's key is left until a view opens one of their texts."""
    pool = await own_database(database_url)  # its people are erased: ours alone
    try:
        await known_people(pool, "fe-1", "fe-2")
        kept = Sealer(pool, MASTER)
        one, two = await kept.seal("first text", "fe-1"), await kept.seal("second text", "fe-2")
        for person in ("fe-1", "fe-2"):
            await erase(pool, Sealer(pool, MASTER), person, "dpo1", "request of 2026-12-02")
        page = [{"type": "paused", "reason": one}]
        assert authors_in(page) == {"fe-1"}
        await kept.forget_erased(authors_in(page))
        assert await kept.open(one) == ERASED
        assert await kept.open(two) == "second text"  # not asked about: not on that page
        await kept.forget_erased(authors_in({"goals": [two]}))
        assert await kept.open(two) == ERASED
    finally:
        await pool.close()
