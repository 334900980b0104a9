"""Staff in tests: members in the register, signed in like people are, a record to audit."""

import asyncio
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import asyncpg
import httpx
from playwright.async_api import Browser, Page
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.links import SIGN_IN_LIFETIME, STAFF_SIGN_IN, Claim, Links
from activities.record_keeping import to_new_event
from domain.calendar import calendar
from domain.envelope import Event
from domain.policy import RelationshipPolicy
from domain.programme.events import ProgrammeReport
from domain.programme.model import Participant, Programme
from domain.relationship.commands import RelationshipSpec
from domain.relationship.events import (
    AgreementRecorded,
    MeetingRecorded,
    MeetingScheduled,
    RelationshipStarted,
)
from mentorflow.mail_server import MailServer
from mentorflow.programmes import register
from store.directory import Contact, Directory, ProgrammeEntry
from store.event_store import EventStore
from store.migrate import migrate
from store.pool import create_pool
from store.staff import Role, StaffMember, StaffRegister
from tests.builders import COORDINATOR, group
from tests.temporal_helpers import sleep_until, whole_seconds_now
from tests.web_helpers import csrf_of, filed, started_group
from workflows.messages import ProgrammeInput, programme_workflow_id, workflow_id
from workflows.programme import ProgrammeWorkflow


async def staff_member(pool: asyncpg.Pool, role: Role, *programmes: str) -> StaffMember:
    """A new member with an address of their own."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@staff.example.org"
    return await StaffRegister(pool).add(email, role, programmes)


async def sign_in_staff(browser: httpx.AsyncClient, links: Links, member: StaffMember) -> None:
    """Use a staff sign-in link as the e-mailed one would be used (page, then its button)."""
    claim = Claim(
        "",
        member.staff_id,
        STAFF_SIGN_IN,
        None,
        datetime.now(UTC) + SIGN_IN_LIFETIME,
        token_id=str(uuid.uuid4()),
    )
    url = links.url(claim)
    page = await browser.get(url.removeprefix(links.public_url))
    assert page.status_code == 200, page.text
    used = await browser.post(
        "/staff/signin/link", data={"csrf": csrf_of(page.text), "t": url.split("?t=")[1]}
    )
    assert used.status_code == 303 and used.headers["location"] == "/staff"


async def mailed_staff_link(mail: MailServer, to: str) -> str:
    """The staff sign-in link in the latest message to ``to`` (waiting for it)."""
    wanted = re.compile(r"(http://\S+/staff/signin/link\?t=\S+)")
    for _ in range(600):  # a minute: the mail sink files slowly on a loaded CI machine
        for message in reversed(list(filed(mail).values())):
            if message["To"].addresses[0].addr_spec.lower() == to.lower():
                found = wanted.search(message.get_body(preferencelist=("plain",)).get_content())
                if found:
                    return found.group(1)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no staff sign-in link in a message to {to}")


async def signed_in_page(browser: Browser, base: str, mail: MailServer, email: str) -> Page:
    """A new page of ``browser`` signed in as the staff member at ``email``, as they would: they
    ask for a link on the sign-in page, open the one e-mailed to them and press its button."""
    page = await browser.new_page()
    await page.goto(f"{base}/staff/signin")
    await page.get_by_label("Your work e-mail address").fill(email)
    await page.get_by_role("button", name="Send me a sign-in link").click()
    await page.goto(await mailed_staff_link(mail, email))
    await page.get_by_role("button", name="Sign in to Mentorflow").click()
    return page


async def own_database_url(database_url: str) -> str:
    """The URL of a new, empty database on the session's server."""
    name = f"own_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(database_url)
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    return urlsplit(database_url)._replace(path=f"/{name}").geturl()


async def own_database(database_url: str) -> asyncpg.Pool:
    """A migrated database of its own (its record can be tampered with, as a superuser could)."""
    pool = await create_pool(await own_database_url(database_url))
    await migrate(pool)
    return pool


def relationship_started(rid: str, programme_id: str, starts: datetime) -> RelationshipStarted:
    """Group ``rid`` of ``programme_id`` (coordinated by hr1, 2+3 members) started at ``starts``
    (an aware time, in any zone: the programme's local time as it was) for 300 days, as the
    workflow records it."""
    members = group()
    return RelationshipStarted(
        event_id=uuid.uuid4(),
        occurred_at=starts,
        actor="system",
        recipients=tuple(m.person_id for m in members),
        relationship_id=rid,
        programme_id=programme_id,
        coordinator_id=COORDINATOR,
        members=members,
        policy=RelationshipPolicy(),
        starts_at=starts,
        ends_at=starts + timedelta(days=300),
    )


async def recorded_relationship(
    pool: asyncpg.Pool, programme_id: str, zone: str, starts: datetime, agreed: datetime
) -> str:
    """Group 1 of ``programme_id`` (in ``zone``): formed at ``starts``, agreement recorded by m1
    at ``agreed``, first meeting scheduled; written to the store as the workflow writes it."""
    rid = f"{programme_id}:1"
    await Directory(pool).register(
        ProgrammeEntry(programme_id, "Audited programme", zone, COORDINATOR),
        [Contact("m1", "Person M1", "m1@example.org", "fi")],
    )
    started = relationship_started(rid, programme_id, starts)
    events: list[Event] = [
        started,
        AgreementRecorded(
            event_id=uuid.uuid4(),
            occurred_at=agreed,
            actor="m1",
            goals=("Goal one",),
            agreement="Monthly",
            late=False,
        ),
        MeetingScheduled(
            event_id=uuid.uuid4(),
            occurred_at=agreed + timedelta(minutes=1),
            actor="system",
            recipients=started.recipients,
            number=1,
            due_at=agreed + timedelta(days=30),
        ),
    ]
    await EventStore(pool).append(workflow_id(rid), 0, [to_new_event(e) for e in events])
    return rid


async def tamper(pool: asyncpg.Pool, relationship_id: str, version: int) -> int:
    """Change one stored event as a superuser would (triggers off); its global position."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        position: int = await conn.fetchval(
            "UPDATE events SET actor = 'm2' WHERE stream_id = $1 AND version = $2"
            " RETURNING global_position",
            workflow_id(relationship_id),
            version,
        )
    return position


async def record_meeting(pool: asyncpg.Pool, relationship_id: str) -> None:
    """m1 records the first meeting as held (appended as the workflow appends it)."""
    stream = workflow_id(relationship_id)
    version = await pool.fetchval("SELECT version FROM streams WHERE stream_id = $1", stream)
    last = await pool.fetchval("SELECT max(occurred_at) FROM events WHERE stream_id = $1", stream)
    held = MeetingRecorded(
        event_id=uuid.uuid4(),
        occurred_at=last + timedelta(days=3),
        actor="m1",
        number=1,
        held=True,
        held_on=(last + timedelta(days=2)).date(),
        attendees=("m1", "a1"),
    )
    await EventStore(pool).append(stream, version, [to_new_event(held)])


async def started_programme(
    client: Client, pool: asyncpg.Pool, p: Programme, cohort: list[Participant], task_queue: str
) -> WorkflowHandle[ProgrammeWorkflow, ProgrammeReport]:
    """``p`` with ``cohort`` registered and its ProgrammeWorkflow started on ``task_queue``."""
    await register(pool, p, cohort)
    return await client.start_workflow(
        ProgrammeWorkflow.run,
        ProgrammeInput(
            programme=p, calendar=calendar(p), participants=[x.profile() for x in cohort]
        ),
        id=programme_workflow_id(p.id),
        task_queue=task_queue,
    )


async def escalation_of(
    pool: asyncpg.Pool, relationship_id: str, kind: str = "escalation_raised"
) -> dict[str, object]:
    """The group's (first) event of ``kind``, once its workflow has recorded it."""
    for _ in range(200):
        row = await pool.fetchrow(
            "SELECT occurred_at, payload::text AS payload FROM events"
            " WHERE stream_id = $1 AND type = $2 ORDER BY version LIMIT 1",
            workflow_id(relationship_id),
            kind,
        )
        if row is not None:
            return {"at": row["occurred_at"], **json.loads(row["payload"])}
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind} was recorded")


async def group_with_overdue_agreement(
    env: WorkflowEnvironment, pool: asyncpg.Pool, task_queue: str, programme_id: str
) -> tuple[RelationshipSpec, dict[str, object]]:
    """A group of ``programme_id`` started now on ``task_queue`` (a worker must serve it) whose
    agreement is overdue: the clock skipped past its escalation (SHORT: the agreement is due
    after 3 days and escalated a day later); the group and its ``escalation_raised``."""
    started = await started_group(
        env.client, pool, task_queue, await whole_seconds_now(env), programme_id=programme_id
    )
    await sleep_until(env, started.starts_at + timedelta(days=4, hours=1))
    return started, await escalation_of(pool, started.relationship_id)
