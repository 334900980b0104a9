"""Payload sizes of a programme at 1,400 and 5,000 people: start, matching, the whole launch.

For each size (mentors : mentees = 2 : 5, automatic approval, dates just behind today so that
everything happens at once on the real dev server, in real time) it starts a programme the way
``mentorflow programme start`` does (the cohort staged in the store), waits until every group's
RelationshipWorkflow is started (really started, not mocked), then prints the largest payloads
of the programme's histories (every run), of three of its groups' histories, and the size of the
``state`` query's answer, each encoded (encrypted, as Temporal stores it) and decoded.

Run: ``.venv/bin/python -m bench.programme_payloads [PEOPLE ...]`` (default: 1400 5000).
"""

import asyncio
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
from temporalio.client import Client

from bench.payloads import KB, largest_of_each_kind, largest_payloads, payload_size, table
from domain.calendar import calendar
from domain.programme.model import Coordinator, Matching, Programme, Training
from mentorflow import embedded
from mentorflow.mail_server import MailServer
from mentorflow.programmes import register, stage_cohort
from mentorflow.synthetic import cohort
from store.event_store import EventStore
from store.migrate import migrate
from store.pool import create_pool
from worker import build_worker
from workflows.messages import ProgrammeInput, programme_workflow_id, workflow_id
from workflows.programme import ProgrammeWorkflow

SIZES = (1400, 5000)
ZONE = "Europe/Helsinki"


def programme(today: datetime) -> Programme:
    day = today.astimezone(ZoneInfo(ZONE)).date()
    return Programme(
        id=f"bench-{uuid.uuid4().hex[:8]}",
        name="Payload bench",
        timezone=ZONE,
        starts_on=day - timedelta(days=1),
        ends_on=day + timedelta(days=300),
        coordinator=Coordinator(id="hr1", name="Pia Coordinator", email="pia@example.org"),
        training=Training(required=False, deadline=day - timedelta(days=2)),
        matching=Matching(runs_on=day - timedelta(days=1), approval="automatic"),
    )


async def launched(store: EventStore, programme_id: str) -> tuple[int, int | None]:
    records = await store.read_stream(programme_workflow_id(programme_id))
    approved = [len(r.payload["groups"]) for r in records if r.type == "matching_approved"]
    count = sum(r.type == "relationship_launched" for r in records)
    return count, approved[0] if approved else None


async def measure(client: Client, pool: asyncpg.Pool, mail: MailServer, people: int) -> None:
    p = programme(datetime.now(UTC))
    mentors = round(people * 2 / 7)
    participants = cohort(mentors, people - mentors, seed=12, trained_share=1.0)
    await register(pool, p, participants)
    await stage_cohort(pool, p, participants)
    queue = f"bench-{uuid.uuid4()}"
    started = time.monotonic()
    async with build_worker(client, pool, mail.config, queue):
        handle = await client.start_workflow(
            ProgrammeWorkflow.run,
            ProgrammeInput(programme=p, calendar=calendar(p), participants=[], cohort_staged=True),
            id=programme_workflow_id(p.id),
            task_queue=queue,
        )
        store = EventStore(pool)
        while True:
            count, approved = await launched(store, p.id)
            if approved is not None and count == approved:
                break
            await asyncio.sleep(2)
        elapsed = time.monotonic() - started
        answer = await payload_size(client, await handle.query(ProgrammeWorkflow.state))
        groups = [workflow_id(f"{p.id}:{n}") for n in (1, 2, 3)]
        measured = await largest_payloads(client, [handle.id])
        in_groups = await largest_payloads(client, groups)
        for wid in [handle.id, *groups]:
            await client.get_workflow_handle(wid).terminate("bench done")
    print(f"\n{people} people, {approved} groups launched in {elapsed:.0f} s")
    print("programme's histories, the largest payload of each kind:")
    print("\n".join(table(largest_of_each_kind(measured), top=12)))
    print("three groups' histories, largest payloads:")
    print("\n".join(table(in_groups, top=3)))
    print(
        f"state query answer: {answer[0] / KB:.1f} KB encoded, {answer[1] / KB:.1f} KB decoded"
        " (not in any history: limited by the 4 MB gRPC message)"
    )


async def main(sizes: tuple[int, ...]) -> None:
    work = Path(tempfile.mkdtemp(prefix="mentorflow-bench-payloads-"))
    url = embedded.start_postgres(work / "pg")
    pool = await create_pool(url, min_size=1, max_size=20)
    await migrate(pool)
    env = await embedded.start_dev_server()
    mail = MailServer(work / "Maildir").start()
    try:
        for people in sizes:
            await measure(env.client, pool, mail, people)
    finally:
        mail.stop()
        await env.shutdown()
        await pool.close()
        embedded.stop_postgres(work / "pg")


if __name__ == "__main__":
    asyncio.run(main(tuple(int(a) for a in sys.argv[1:]) or SIZES))
