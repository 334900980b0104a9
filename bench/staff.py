"""Staff pages benchmark: the coordinator's pages of a 1,000-participant programme.

Creates a scratch database next to the event store (the embedded PostgreSQL unless
MENTORFLOW_DATABASE_URL is set) and writes to it, through the event store's own append, the
record of a running programme of 1,000 people (400 mentors, 600 mentees) whose matching was
proposed and approved as 200 groups of 2+3, each group with its agreement, 10 meetings, a
midpoint and a final feedback round answered by its 5 members (scale and choice answers), and
every tenth group an escalation: about 7,000 events. Then it measures:

1. the projection (``mentorflow/web/staff/views.py``): folding the whole log into
   ``staff_views`` once (what the first request after a rebuild pays), and catching up after one
   new event (what a request pays in normal use: the events new since the last one);
2. the pages, in process over the app (signed in as an admin, no network), each rendered
   ``RENDERS`` times one after another: median and p95. *Programmes*, *Groups*, the *Programme*
   page (phase, calendar, the 400 mentors' training, the 200 approved groups with their
   explanations), the *Report* page (counts and pygal SVG charts) with its CSV and JSON exports,
   and their JSON twins under ``/api/v1``; then a second programme of the same 1,000 people whose
   proposal of 200 groups waits for the coordinator's approval: its *Programme* page carries the
   edit form (a group-number field for each of the 1,000 people, one shared list of the groups).
   Each line also gives the answer's size.

How each page is computed is printed with its figures (``HOW``): every request catches up the
projection, then reads folded states from it; none replays the log or asks Temporal.
Run: ``.venv/bin/python -m bench.staff``.
"""

import asyncio
import os
import re
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
from temporalio.testing import WorkflowEnvironment

from activities.links import SIGN_IN_LIFETIME, STAFF_SIGN_IN, Claim, Links
from activities.record_keeping import to_new_event
from domain.calendar import calendar
from domain.envelope import Event
from domain.feedback import FeedbackQuestions
from domain.matching import GroupAssignment, MatchingResult, MatchingRules, assign
from domain.model import Member
from domain.model import Role as MemberRole
from domain.policy import RelationshipPolicy
from domain.programme.events import (
    MatchingApproved,
    MatchingProposed,
    PhaseEntered,
    ProgrammePhase,
    ProgrammeStarted,
    RelationshipLaunched,
)
from domain.programme.model import Coordinator, Matching, Participant, Programme, Training
from domain.relationship.events import (
    AgreementRecorded,
    EscalationKind,
    EscalationRaised,
    FeedbackRequested,
    FeedbackRound,
    FeedbackSubmitted,
    MeetingRecorded,
    MeetingScheduled,
    RelationshipStarted,
)
from mentorflow import embedded
from mentorflow.database import database_url
from mentorflow.log_setup import configure_logging
from mentorflow.mail_server import MailServer
from mentorflow.programmes import register
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
RUNNING, APPROVAL = "bench-staff", "bench-staff-approval"

HOW = {
    "overviews": "folded states of the programme and its 200 groups (staff_views rows)",
    "programme": "the programme's folded state: one staff_views row (1,000 profiles, the "
    "proposal and approved groups); once its groups run, also those of the groups that took a "
    "member since they started (found by the database; none here); the page rendered by Jinja2",
    "report": "the 200 groups' folded states (staff_views rows) counted in process, the "
    "programme's entry (directory, kept 30 s), charts drawn by pygal on each request",
    "export": "the same counts as the report page, without charts",
}
"""How each page is computed (printed with its figures). Every request first catches up the
projection (the events new since the last request, here none); no page replays the log or
queries Temporal (``views.catch_up``, ``views.programme_state``, ``views.relationship_states``)."""


def programme(programme_id: str = RUNNING) -> Programme:
    day = STARTS.date()
    return Programme(
        id=programme_id,
        name="Staff pages bench",
        timezone=ZONE,
        starts_on=day,
        ends_on=day + timedelta(days=330),
        coordinator=Coordinator(id="hr1", name="Pia Coordinator", email="pia@example.org"),
        training=Training(required=False, deadline=day - timedelta(days=2)),
        matching=Matching(
            runs_on=day, approval="automatic" if programme_id == RUNNING else "coordinator"
        ),
    )


def _event(cls: type[Event], at: datetime, /, **fields: object) -> Event:
    return cls(event_id=uuid.uuid4(), occurred_at=at, actor="system", **fields)


def meeting_events(mentors: list[str], mentees: list[str], agreed: datetime) -> list[Event]:
    """``MEETINGS`` monthly meetings after the agreement, every fifth not held."""
    events: list[Event] = []
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


def feedback_events(n: int, members: list[str]) -> list[Event]:
    """Both feedback rounds asked and answered by every member (scale and choice answers only);
    every tenth group an overdue-feedback escalation."""
    events: list[Event] = []
    for days, feedback_round in ((165, FeedbackRound.MIDPOINT), (320, FeedbackRound.FINAL)):
        asked = STARTS + timedelta(days=days)
        due = asked + timedelta(days=14)
        events.append(
            _event(FeedbackRequested, asked, recipients=(), round=feedback_round, due_at=due)
        )
        for i, person in enumerate(members):
            scale = str(1 + (n + i) % 5)
            events.append(
                FeedbackSubmitted(
                    event_id=uuid.uuid4(),
                    occurred_at=asked + timedelta(days=1 + i),
                    actor=person,
                    round=feedback_round,
                    answers={},
                    late=False,
                    choices={"usefulness": scale, "goals_met": scale, "rhythm": "right"},
                )
            )
    if n % 10 == 0:
        at = STARTS + timedelta(days=200)
        events.append(
            _event(
                EscalationRaised,
                at,
                recipients=(),
                kind=EscalationKind.FEEDBACK_OVERDUE,
                subject="midpoint",
                reason="bench",
                scheduled_for=at,
            )
        )
    return events


def group_events(p: Programme, n: int, mentors: list[str], mentees: list[str]) -> list[Event]:
    """Group ``n``: formed, agreed, its meetings held or not, its feedback given."""
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
        policy=RelationshipPolicy(feedback_questions=FeedbackQuestions()),
        starts_at=STARTS,
        ends_at=STARTS + timedelta(days=330),
    )
    agreed = STARTS + timedelta(days=5)
    agreement = AgreementRecorded(
        event_id=uuid.uuid4(),
        occurred_at=agreed,
        actor=mentors[0],
        goals=("g",),
        agreement="a",
        late=False,
    )
    return [
        started,
        agreement,
        *meeting_events(mentors, mentees, agreed),
        *feedback_events(n, [*mentors, *mentees]),
    ]


def teams(people: list[Participant]) -> list[tuple[list[str], list[str]]]:
    """The 200 groups of 2 mentors and 3 mentees, in id order."""
    mentors = [x.id for x in people if x.role == MemberRole.MENTOR]
    mentees = [x.id for x in people if x.role == MemberRole.MENTEE]
    return [
        (mentors[2 * n - 2 : 2 * n], mentees[3 * n - 3 : 3 * n]) for n in range(1, MENTORS // 2 + 1)
    ]


def proposal(p: Programme, people: list[Participant]) -> MatchingResult:
    """The matching's proposal of ``teams``, with each group's explanation (``assign``: the
    explanation the matching writes; no conflict rule, since the teams are not optimised)."""
    rules = MatchingRules(shape=p.group_shape, avoid=(), training_required=False)
    assignment = [GroupAssignment(mentors=tuple(m), mentees=tuple(e)) for m, e in teams(people)]
    groups = assign(assignment, [x.profile() for x in people], rules)
    score = sum(g.score for g in groups)
    return MatchingResult(groups=tuple(groups), unmatched=(), score=score, optimal=False)


def matched(p: Programme, people: list[Participant]) -> list[Event]:
    """The programme started and matched as ``proposal_events`` records it: approved at once and
    running (automatic approval), or waiting for the coordinator's approval."""
    result, coordinator = proposal(p, people), (p.coordinator.id,)
    events: list[Event] = [
        ProgrammeStarted(
            event_id=uuid.uuid4(),
            occurred_at=STARTS - timedelta(days=1),
            actor="hr1",
            recipients=(),
            programme=p,
            calendar=calendar(p),
            participants=tuple(x.profile() for x in people),
        ),
        _event(PhaseEntered, STARTS, phase=ProgrammePhase.MATCHING),
    ]
    if p.matching.approval == "automatic":
        return [
            *events,
            _event(
                MatchingProposed, STARTS, result=result, approval_due=None, recipients=coordinator
            ),
            _event(
                MatchingApproved, STARTS, groups=result.groups, edited=False, reason="automatic"
            ),
            _event(PhaseEntered, STARTS, phase=ProgrammePhase.RUNNING),
        ]
    due = STARTS + timedelta(days=7)
    return [
        *events,
        _event(MatchingProposed, STARTS, result=result, approval_due=due, recipients=coordinator),
        _event(PhaseEntered, STARTS, phase=ProgrammePhase.APPROVAL),
    ]


async def record(pool: asyncpg.Pool, programme_id: str = RUNNING) -> int:
    """The programme's stream and, once it runs, its groups' streams, as the workflows write
    them; the event count."""
    p = programme(programme_id)
    people: list[Participant] = cohort(MENTORS, MENTEES, seed=15, trained_share=1.0)
    await register(pool, p, people)
    store = EventStore(pool)
    programme_events = matched(p, people)
    total = 0
    for n, (ms, es) in enumerate(teams(people) if programme_id == RUNNING else [], start=1):
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
    return total + len(programme_events)


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


def figures(name: str, times: list[float], size: int) -> str:
    median = statistics.median(times) * 1000
    p95 = statistics.quantiles(times, n=20)[-1] * 1000
    return (
        f"{name:<52} median {median:6.1f} ms   p95 {p95:6.1f} ms   ({len(times)} renders,"
        f" {size:,} bytes)"
    )


Page = tuple[str, str, str]
"""(name, path, a text the answer must hold: the page shows what it is measured for)."""


def overview_pages(pid: str) -> list[Page]:
    return [
        ("Programmes page (/staff/programmes)", "/staff/programmes", pid),
        ("Groups page (200 groups)", f"/staff/programmes/{pid}/groups", f"{pid}:200"),
        ("GET /api/v1/programmes", "/api/v1/programmes", pid),
        ("GET /api/v1/programmes/{id}/groups", f"/api/v1/programmes/{pid}/groups", f"{pid}:200"),
    ]


def programme_pages(pid: str, what: str, expect: str) -> list[Page]:
    return [
        (f"Programme page ({what})", f"/staff/programmes/{pid}", expect),
        ("GET /api/v1/programmes/{id}", f"/api/v1/programmes/{pid}", '"number":200'),
    ]


def report_pages(pid: str) -> list[Page]:
    return [
        ("Report page (6 SVG charts)", f"/staff/programmes/{pid}/report", "<svg"),
        ("Report CSV (report.csv)", f"/staff/programmes/{pid}/report.csv", "scale,"),
        ("Report JSON (report.json)", f"/staff/programmes/{pid}/report.json", '"feedback"'),
        ("GET /api/v1/programmes/{id}/report", f"/api/v1/programmes/{pid}/report", '"scales"'),
    ]


async def timed(browser: httpx.AsyncClient, page: Page) -> tuple[list[float], int]:
    """``RENDERS`` renders one after another, after one to warm up (templates compiled,
    connections open); and the size of the answer."""
    _, path, expect = page
    answer = await browser.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    assert expect in answer.text.replace(": ", ":"), (path, expect)
    times = []
    for _ in range(RENDERS):
        started = time.perf_counter()
        answer = await browser.get(path)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, (path, answer.status_code)
    return times, len(answer.content)


async def measured(browser: httpx.AsyncClient, how: str, pages: list[Page]) -> None:
    for page in pages:
        print(figures(page[0], *await timed(browser, page)))
    print(f"  computed from: {HOW[how]}")


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


async def projection(pool: asyncpg.Pool) -> None:
    """Record the running programme; time the projection's rebuild and one catch-up."""
    started = time.perf_counter()
    events = await record(pool)
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
    await one_more_event(pool, RUNNING)
    started = time.perf_counter()
    await views.catch_up(pool)
    print(
        f"projection caught up after one new event: {(time.perf_counter() - started) * 1000:.1f} ms"
    )


async def measure(pool: asyncpg.Pool, env: WorkflowEnvironment, mail: MailServer) -> None:
    await projection(pool)
    links = Links(SECRET, "http://bench")
    web = Web(
        client=env.client, pool=pool, links=links, mail=mail.config, master=Settings().master()
    )
    app = create_app(web, SECRET, secure_cookies=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as browser:
        await signed_in_admin(browser, pool, links)
        await measured(browser, "overviews", overview_pages(RUNNING))
        running = "running: 400 mentors, 200 approved groups"
        await measured(browser, "programme", programme_pages(RUNNING, running, "Group 200"))
        await measured(browser, "report", report_pages(RUNNING)[:1])
        await measured(browser, "export", report_pages(RUNNING)[1:])
        events = await record(pool, APPROVAL)
        await views.catch_up(pool)
        print(f"recorded a second programme of the same 1,000 people: {events} events")
        waiting = "approval: 200 proposed groups, edit form"
        await measured(browser, "programme", programme_pages(APPROVAL, waiting, 'name="p:'))
    print(
        f"on {os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )


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
