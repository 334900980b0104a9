"""A 5,000-person programme keeps every Temporal payload small (Temporal refuses over 2 MB).

On the real dev server (real time: the programme's dates lie just behind today, so it starts,
matches and launches at once). Starting the groups' own workflows is mocked: 714 group
workflows would take the suite minutes, and each group's payloads do not depend on the cohort
(``python -m bench.programme_payloads`` measures the whole launch).
"""

import asyncio
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
from temporalio import activity
from temporalio.testing import ActivityEnvironment

from activities.cohort import CHUNK, CohortKeeping, ReadChunkInput, RecordStartInput, parse_events
from activities.record_keeping import to_new_event
from bench.payloads import KB, largest_of_each_kind, largest_payloads, payload_size, table
from domain.calendar import calendar
from domain.codec import PROGRAMME
from domain.factory import EventFactory
from domain.programme.commands import start
from domain.programme.events import MentorTrained
from domain.programme.model import Coordinator, Matching, Programme, Training
from mentorflow.programmes import register, stage_cohort
from mentorflow.synthetic import cohort
from mentorflow.verify import replay_all_runs
from tests.temporal_helpers import running_worker
from workflows.messages import ProgrammeInput, RelationshipInput, programme_workflow_id
from workflows.programme import ProgrammeWorkflow

BOUND = 256 * KB
"""Temporal's own warning threshold; its hard limit is 2 MB."""
COORDINATOR = Coordinator(id="hr1", name="Pia Coordinator", email="pia@example.org")


def big_programme(today_helsinki: datetime) -> Programme:
    today = today_helsinki.date()
    return Programme(
        id=f"big-{uuid.uuid4().hex[:8]}",
        name="Big programme",
        timezone="Europe/Helsinki",
        starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=300),
        coordinator=COORDINATOR,
        training=Training(required=False, deadline=today - timedelta(days=2)),
        matching=Matching(runs_on=today - timedelta(days=1), approval="automatic"),
    )


@activity.defn
async def launch_relationship(request: RelationshipInput) -> str:
    """Stands in for ``Launcher.launch_relationship``: the group's workflow is not started."""
    return f"relationship:{request.spec.relationship_id}"


async def launched(pool: asyncpg.Pool, programme_id: str) -> tuple[int, int | None]:
    """(groups launched, groups approved) so far, from the programme's stored events (counted in
    SQL: reading the whole 2 MB stream every poll took the worker's CPU in this process)."""
    row = await pool.fetchrow(
        "SELECT count(*) FILTER (WHERE type = 'relationship_launched') AS launched,"
        " min(jsonb_array_length(payload->'groups')) FILTER (WHERE type = 'matching_approved')"
        " AS approved FROM events WHERE stream_id = $1",
        programme_workflow_id(programme_id),
    )
    return row["launched"], row["approved"]


async def test_a_programme_of_5000_people_keeps_every_payload_bounded(dev_env, pool, mail):
    """5,000 people (1,429 mentors, 3,571 mentees) start, are matched and their 714 groups
    launched; no payload in the programme's histories (any run) exceeds 256 KB, encoded or
    decoded, and every run replays. (The ``state`` query's answer, which is in no history,
    still grows with the cohort: it is printed, see README "Cohorts of any size".)"""
    client = dev_env.client
    p = big_programme(datetime.now(UTC).astimezone(calendar_zone()))
    people = cohort(1429, 3571, seed=12, trained_share=1.0)
    await register(pool, p, people)
    await stage_cohort(pool, p, people)  # as `mentorflow programme start` does
    started = time.monotonic()
    async with running_worker(client, pool, mail, [launch_relationship]) as task_queue:
        handle = await client.start_workflow(
            ProgrammeWorkflow.run,
            ProgrammeInput(programme=p, calendar=calendar(p), participants=[], cohort_staged=True),
            id=programme_workflow_id(p.id),
            task_queue=task_queue,
        )
        while True:
            count, approved = await launched(pool, p.id)
            if approved is not None and count == approved:
                break
            assert time.monotonic() - started < 600, f"{count} of {approved} launched"
            task = (await handle.describe()).raw_description.pending_workflow_task
            assert task.attempt < 3, "its workflow task keeps failing (a payload over 2 MB?)"
            await asyncio.sleep(1)
        answer = await payload_size(client, await handle.query(ProgrammeWorkflow.state))
        await handle.terminate("test done")
        await replay_all_runs(client, handle)
    measured = await largest_payloads(client, [handle.id])
    print("\n".join(table(largest_of_each_kind(measured))))
    print(f"state query answer: {answer[0] / KB:.0f} KB encoded, {answer[1] / KB:.0f} KB decoded")
    assert approved is not None and approved >= 700  # 1,429 mentors in pairs: 714 groups
    largest = measured[0]
    assert max(largest.encoded, largest.decoded) <= BOUND, largest


async def test_a_stream_read_in_pieces_is_what_the_store_held_at_the_first_read(pool, store):
    """A programme's stream longer than a piece (1,200 people: four pieces) is read as the
    workflow reads it. The later pieces come from the text kept at the first read: joined, they
    are the stored events up to the first read's version, piece for piece what a worker that
    kept nothing reads (another worker may take the next piece); an event appended meanwhile is
    in none of them, and in the next first read."""
    p = big_programme(datetime.now(UTC).astimezone(calendar_zone()))
    people = cohort(343, 857, seed=3)
    await register(pool, p, people)
    await stage_cohort(pool, p, people)
    stream = programme_workflow_id(p.id)
    started = start(p, calendar(p), (), EventFactory(datetime.now(UTC), uuid.uuid4))
    keeping, run = CohortKeeping(pool, store), ActivityEnvironment().run
    await run(keeping.record_programme_start, RecordStartInput(stream_id=stream, started=started))

    first = await run(
        keeping.read_programme_chunk, ReadChunkInput(stream_id=stream, after_version=0)
    )
    assert first.total > 3 * CHUNK and first.up_to_version == 1
    trained = MentorTrained(
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        actor=p.coordinator.id,
        person_id=people[0].id,
        trained_on=date(2026, 8, 25),
    )
    await store.append(stream, 1, [to_new_event(trained)])
    pieces, offset = [first.text], len(first.text)
    while offset < first.total:
        request = ReadChunkInput(stream_id=stream, after_version=0, up_to_version=1, offset=offset)
        kept = await run(keeping.read_programme_chunk, request)
        fresh = await run(CohortKeeping(pool, store).read_programme_chunk, request)
        assert kept == fresh and kept.total == first.total
        pieces.append(kept.text)
        offset += len(kept.text)
    [stored_start, _] = await store.read_stream(stream)
    assert parse_events("".join(pieces)) == [PROGRAMME.decode(stored_start)]

    again = await run(
        keeping.read_programme_chunk, ReadChunkInput(stream_id=stream, after_version=0)
    )
    assert again.up_to_version == 2 and again.total > first.total


def calendar_zone():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Helsinki")
