"""Staff pages benchmark: *Programmes* and *Groups* of a 1,000-participant programme.

Creates a scratch database next to the event store (the embedded PostgreSQL unless
MENTORFLOW_DATABASE_URL is set) and writes to it, through the event store's own append, the
record of a running programme of 1,000 people (400 mentors, 600 mentees) in 200 groups of 2+3,
each with its agreement and 10 meetings recorded: about 4,600 events. Then it measures:

1. the projection (``mentorflow/web/staff/views.py``): folding the whole log into
   ``staff_views`` once (what the first request after a rebuild pays), and catching up after one
   new event (what a request pays in normal use: the events new since the last one);
2. the pages, in process over the app (signed in as an admin, no network): *Programmes*
   (``/staff/programmes``), *Groups* (``/staff/programmes/{id}/groups``) and their JSON twins,
   each rendered ``RENDERS`` times one after another: median and p95. Every request catches up
   the projection first and reads the folded states; none replays the log.

The coordinator's report is measured once it exists (``mentorflow/web/staff/report.py``);
until then it is named as skipped. Run: ``.venv/bin/python -m bench.staff``.
"""

import asyncio
import os
import re
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
from temporalio.testing import WorkflowEnvironment

from activities.links import SIGN_IN_LIFETIME, STAFF_SIGN_IN, Claim, Links
from activities.record_keeping import to_new_event
from domain.calendar import calendar
from domain.envelope import Event
from domain.model import Member
from domain.model import Role as MemberRole
from domain.policy import RelationshipPolicy
from domain.programme.events import (
    PhaseEntered,
    ProgrammePhase,
    ProgrammeStarted,
    RelationshipLaunched,
)
from domain.programme.model import Coordinator, Matching, Participant, Programme, Training
from domain.relationship.events import (
    AgreementRecorded,
    MeetingRecorded,
    MeetingScheduled,
    RelationshipStarted,
)
from mentorflow import embedded
from mentorflow.log_setup import configure_logging
from mentorflow.mail_server import MailServer
from mentorflow.programmes import register
from mentorflow.runtime import database_url
from mentorflow.settings import Settings
from mentorflow.synthetic import cohort
from mentorflow.web.app import create_app
from mentorflow.web.pages import Web
from mentorflow.web.staff import views
from store.event_store import EventStore
from store.migrate import migrate
from store.pool import create_pool
from store.staff import Role, StaffRegister
from workflows.messages import programme_workflow_id, workflow_id

MENTORS, MENTEES, MEETINGS = 400, 600, 10
RENDERS = 50
SECRET = "bench-" + uuid.uuid4().hex
STARTS = datetime(2026, 1, 12, 8, tzinfo=UTC)
ZONE = "Europe/Helsinki"


def programme() -> Programme:
    day = STARTS.date()
    return Programme(
        id="bench-staff",
        name="Staff pages bench",
        timezone=ZONE,
        starts_on=day,
        ends_on=day + timedelta(days=330),
        coordinator=Coordinator(id="hr1", name="Pia Coordinator", email="pia@example.org"),
        training=Training(required=False, deadline=day - timedelta(days=2)),
        matching=Matching(runs_on=day, approval="automatic"),
    )


def _event(kind: type[Event], at: datetime, **fields: object) -> Event:
    return kind(event_id=uuid.uuid4(), occurred_at=at, actor="system", **fields)


def group_events(p: Programme, n: int, mentors: list[str], mentees: list[str]) -> list[Event]:
    """Group ``n``: formed, agreed, and ``MEETINGS`` monthly meetings held (every fifth not)."""
    members = (
        *(Member(person_id=m, role=MemberRole.MENTOR) for m in mentors),
        *(Member(person_id=m, role=MemberRole.MENTEE) for m in mentees),
    )
    started = RelationshipStarted(
        event_id=uuid.uuid4(),
        occurred_at=STARTS,
        actor="system",
        recipients=(),
        relationship_id=f"{p.id}:{n}",
        programme_id=p.id,
        coordinator_id=p.coordinator.id,
        members=members,
        policy=RelationshipPolicy(),
        starts_at=STARTS,
        ends_at=STARTS + timedelta(days=330),
    )
    agreed = STARTS + timedelta(days=5)
    events: list[Event] = [
        started,
        AgreementRecorded(
            event_id=uuid.uuid4(),
            occurred_at=agreed,
            actor=mentors[0],
            goals=("g",),
            agreement="a",
            late=False,
        ),
    ]
    for number in range(1, MEETINGS + 1):
        due = agreed + timedelta(days=30 * number)
        events += [
            _event(
                MeetingScheduled, due - timedelta(days=30), recipients=(), number=number, due_at=due
            ),
            MeetingRecorded(
                event_id=uuid.uuid4(),
                occurred_at=due - timedelta(days=2),
                actor=mentors[0],
                number=number,
                held=number % 5 != 0,
                held_on=(due - timedelta(days=3)).date(),
                attendees=(mentors[0], mentees[0]),
            ),
        ]
    return events


async def record(pool: asyncpg.Pool) -> tuple[str, int]:
    """The programme's and its groups' streams, as the workflows write them; the event count."""
    p = programme()
    people: list[Participant] = cohort(MENTORS, MENTEES, seed=15, trained_share=1.0)
    await register(pool, p, people)
    mentors = [x.id for x in people if x.role == MemberRole.MENTOR]
    mentees = [x.id for x in people if x.role == MemberRole.MENTEE]
    store = EventStore(pool)
    groups = MENTORS // 2
    programme_events: list[Event] = [
        ProgrammeStarted(
            event_id=uuid.uuid4(),
            occurred_at=STARTS - timedelta(days=1),
            actor="hr1",
            recipients=(),
            programme=p,
            calendar=calendar(p),
            participants=tuple(x.profile() for x in people),
        ),
        _event(PhaseEntered, STARTS, phase=ProgrammePhase.RUNNING),
    ]
    total = 0
    for n in range(1, groups + 1):
        ms, es = mentors[2 * n - 2 : 2 * n], mentees[3 * n - 3 : 3 * n]
        events = group_events(p, n, ms, es)
        await store.append(workflow_id(f"{p.id}:{n}"), 0, [to_new_event(e) for e in events])
        total += len(events)
        launched = _event(
            RelationshipLaunched,
            STARTS,
            relationship_id=f"{p.id}:{n}",
            number=n,
            mentors=tuple(ms),
            mentees=tuple(es),
        )
        programme_events.append(launched)
    await store.append(programme_workflow_id(p.id), 0, [to_new_event(e) for e in programme_events])
    return p.id, total + len(programme_events)


async def signed_in_admin(browser: httpx.AsyncClient, pool: asyncpg.Pool, links: Links) -> None:
    admin = await StaffRegister(pool).add("admin@bench.example.org", Role.ADMIN, [])
    expires = datetime.now(UTC) + SIGN_IN_LIFETIME
    claim = Claim("", admin.staff_id, STAFF_SIGN_IN, None, expires, token_id=str(uuid.uuid4()))
    url = links.url(claim)
    page = await browser.get(url.removeprefix(links.public_url))
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    used = await browser.post(
        "/staff/signin/link", data={"csrf": found.group(1), "t": url.split("?t=")[1]}
    )
    assert used.status_code == 303, used.status_code


def figures(name: str, times: list[float]) -> str:
    median = statistics.median(times) * 1000
    p95 = statistics.quantiles(times, n=20)[-1] * 1000
    return f"{name:<44} median {median:6.1f} ms   p95 {p95:6.1f} ms   ({len(times)} renders)"


async def timed(browser: httpx.AsyncClient, path: str) -> list[float]:
    times = []
    for _ in range(RENDERS):
        started = time.perf_counter()
        answer = await browser.get(path)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, (path, answer.status_code)
    return times


async def one_more_event(pool: asyncpg.Pool, programme_id: str) -> None:
    stream = workflow_id(f"{programme_id}:1")
    version = len(await EventStore(pool).read_stream(stream))
    held = MeetingRecorded(
        event_id=uuid.uuid4(),
        occurred_at=STARTS + timedelta(days=320),
        actor="system",
        number=MEETINGS,
        held=True,
        held_on=date(2026, 11, 20),
        attendees=(),
    )
    await EventStore(pool).append(stream, version, [to_new_event(held)])


async def measure(pool: asyncpg.Pool, env: WorkflowEnvironment, mail: MailServer) -> None:
    started = time.perf_counter()
    programme_id, events = await record(pool)
    print(
        f"recorded 1,000 people in {MENTORS // 2} groups: {events:,} events"
        f" in {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    await views.catch_up(pool)
    print(
        f"projection built from the whole log (once, after a rebuild): "
        f"{(time.perf_counter() - started) * 1000:.0f} ms"
    )
    await one_more_event(pool, programme_id)
    started = time.perf_counter()
    await views.catch_up(pool)
    print(
        f"projection caught up after one new event: {(time.perf_counter() - started) * 1000:.1f} ms"
    )
    links = Links(SECRET, "http://bench")
    web = Web(
        client=env.client, pool=pool, links=links, mail=mail.config, master=Settings().master()
    )
    app = create_app(web, SECRET, secure_cookies=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as browser:
        await signed_in_admin(browser, pool, links)
        pages = {
            "Programmes page (/staff/programmes)": "/staff/programmes",
            "Groups page (200 groups)": f"/staff/programmes/{programme_id}/groups",
            "GET /api/v1/programmes": "/api/v1/programmes",
            "GET /api/v1/programmes/{id}/groups": f"/api/v1/programmes/{programme_id}/groups",
        }
        for name, path in pages.items():
            await browser.get(path)  # warm: templates compiled, connections open
            print(figures(name, await timed(browser, path)))
    if find_spec("mentorflow.web.staff.report") is None:
        print("Report page: skipped (the coordinator's report is not built yet)")
    print(f"on {os.cpu_count()} cores")


async def main() -> None:
    url = database_url(Settings())
    name = f"bench_staff_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(url)
    await admin.execute(f"CREATE DATABASE {name}")
    env = await embedded.start_time_skipping()
    mail = MailServer(Path(Settings().data_dir) / "bench-staff-mail").start()
    try:
        pool = await create_pool(urlsplit(url)._replace(path=f"/{name}").geturl())
        try:
            await migrate(pool)
            await measure(pool, env, mail)
        finally:
            await pool.close()
    finally:
        mail.stop()
        await env.shutdown()
        await admin.execute(f"DROP DATABASE {name}")
        await admin.close()


if __name__ == "__main__":
    configure_logging("WARNING", "console")
    asyncio.run(main())
