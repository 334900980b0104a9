"""A programme's staged cohort and its participants' profiles, against a real PostgreSQL.

The start activity reads the staged cohort into ``programme_started`` and then clears it; retried
after the event is stored, it finds the event by its id and needs no staged rows. ``privacy
erase`` deletes the person's staged profile. ``privacy export`` lists the person's profile as
every programme holds it (started, enrolled later, trained, staged), and not the rest of the
cohort's. Migration 0019 clears the cohorts of programmes started before.
"""

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import pytest_asyncio
from temporalio.testing import ActivityEnvironment

from activities.cohort import CohortKeeping, RecordStartInput
from activities.record_keeping import to_new_event
from contracts.messages import programme_workflow_id
from domain.calendar import calendar
from domain.factory import EventFactory
from domain.programme.commands import start
from domain.programme.events import MentorTrained, ParticipantEnrolled, ParticipantUpdated
from domain.programme.model import Participant, Programme
from mentorflow.privacy import erase, export
from mentorflow.programmes import register, stage_cohort
from mentorflow.synthetic import cohort
from store import cohorts
from store.event_store import EventStore
from store.migrate import available
from store.sealing import MasterKeys, Sealer
from tests.staff_helpers import own_database
from tests.test_programme_rules import pilot

STARTED = datetime(2026, 8, 20, 9, tzinfo=UTC)


@pytest_asyncio.fixture
async def own_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A database of its own: a person id is one person in every programme of a database, and
    the people erased here must stay out of the session's."""
    pool = await own_database(database_url)
    yield pool
    await pool.close()


def programme(name: str) -> Programme:
    return pilot().model_copy(update={"id": f"{name}-{uuid.uuid4().hex[:8]}"})


async def staged_for(pool: asyncpg.Pool, p: Programme, people: list[Participant]) -> None:
    """As `mentorflow programme start` does before the workflow starts."""
    await register(pool, p, people)
    await stage_cohort(pool, p, people)


def start_request(p: Programme) -> RecordStartInput:
    """What the workflow gives its start activity (the event's id fixed, as on replay)."""
    started = start(p, calendar(p), (), EventFactory(STARTED, uuid.uuid4))
    return RecordStartInput(stream_id=programme_workflow_id(p.id), started=started)


async def test_the_start_clears_the_staged_cohort_and_a_retry_does_not_need_it(
    own_pool: asyncpg.Pool,
) -> None:
    """The event holds the cohort and the staged rows are gone; the activity run again with the
    same input (its result lost) succeeds without them, recording nothing more; run again after
    a clearing that failed (rows staged again), it clears them."""
    pool, store = own_pool, EventStore(own_pool)
    p = programme("staged")
    people = cohort(2, 3, seed=4)
    await staged_for(pool, p, people)
    keeping, request = CohortKeeping(pool, store), start_request(p)

    first = await ActivityEnvironment().run(keeping.record_programme_start, request)
    assert not first.already_recorded and first.version == 1
    assert await cohorts.staged(pool, p.id) == []

    again = await ActivityEnvironment().run(keeping.record_programme_start, request)
    assert again == first.model_copy(update={"already_recorded": True})

    await stage_cohort(pool, p, people)  # as if the first run's clearing had failed
    third = await ActivityEnvironment().run(keeping.record_programme_start, request)
    assert third == again
    assert await cohorts.staged(pool, p.id) == []

    [recorded] = await store.read_stream(programme_workflow_id(p.id))
    assert recorded.event_id == request.started.event_id
    assert recorded.payload["participants"] == [x.profile().model_dump(mode="json") for x in people]


async def test_an_erasure_deletes_the_persons_staged_profile(own_pool: asyncpg.Pool) -> None:
    """Before the programme starts, `privacy erase` (the code retention runs too) deletes the
    erased person's staged row, in every programme, and no one else's."""
    pool = own_pool
    people = cohort(2, 3, seed=5)
    first, second = programme("erase-1"), programme("erase-2")
    await staged_for(pool, first, people)
    await staged_for(pool, second, people[:3])
    await erase(pool, Sealer(pool, MasterKeys.generate()), "a1", "dpo1", "request 12")
    for p, everyone in ((first, people), (second, people[:3])):
        staged = [x["id"] for x in await cohorts.staged(pool, p.id)]
        assert staged == [x.id for x in everyone if x.id != "a1"]


def profiles_of_others(value: Any, person_id: str) -> list[dict[str, Any]]:
    """Every profile-like object (with a participant's ``role``, or naming a ``manager``) in
    ``value`` that is not ``person_id``'s own."""
    found = []
    if isinstance(value, dict):
        if value.get("id") not in (None, person_id) and ({"role", "manager"} & set(value)):
            found.append(value)
        for v in value.values():
            found += profiles_of_others(v, person_id)
    elif isinstance(value, list):
        for v in value:
            found += profiles_of_others(v, person_id)
    return found


async def test_the_export_lists_the_persons_profiles_across_programmes(
    own_pool: asyncpg.Pool,
) -> None:
    """m1's profile from a started programme's first event, a re-enrolment and a training date
    recorded there, and from a programme not started yet (staged); of the others' profiles, only
    that m1 manages a2 (ids), never the rest of the cohort's."""
    pool, store = own_pool, EventStore(own_pool)
    people = cohort(2, 3, seed=6)
    m1 = next(x for x in people if x.id == "m1")
    running, waiting = programme("running"), programme("waiting")
    await staged_for(pool, running, people)
    await ActivityEnvironment().run(
        CohortKeeping(pool, store).record_programme_start, start_request(running)
    )
    moved = m1.profile().model_copy(update={"unit": "unit-moved", "capacity": 2})
    a2 = next(x for x in people if x.id == "a2").profile()
    later_events = [
        ParticipantEnrolled(
            event_id=uuid.uuid4(),
            occurred_at=STARTED,
            actor=running.coordinator.id,
            profile=moved,
            reason="came back from leave",
        ),
        ParticipantUpdated(
            event_id=uuid.uuid4(),
            occurred_at=STARTED,
            actor=running.coordinator.id,
            profile=a2.model_copy(update={"manager": "m1", "unit": "unit-of-m1"}),
            reason="new manager",
        ),
        MentorTrained(
            event_id=uuid.uuid4(),
            occurred_at=STARTED,
            actor=running.coordinator.id,
            person_id="m1",
            trained_on=date(2026, 8, 25),
        ),
    ]
    await store.append(
        programme_workflow_id(running.id), 1, [to_new_event(e) for e in later_events]
    )
    later = m1.model_copy(update={"trained_on": date(2026, 9, 1), "unit": "unit-later"})
    await staged_for(pool, waiting, [later, people[-1]])

    held = await export(pool, Sealer(pool, MasterKeys.generate()), "m1")

    found = [(h["programme_id"], h["source"], h["profile"]) for h in held.profiles]
    assert found == [
        (running.id, "programme_started", m1.profile().model_dump(mode="json")),
        (running.id, "participant_enrolled", moved.model_dump(mode="json")),
        (running.id, "mentor_trained", {"id": "m1", "trained_on": "2026-08-25"}),
        (waiting.id, "staged", later.profile().model_dump(mode="json")),
    ]
    assert [h["at"] for h in held.profiles] == [STARTED, STARTED, STARTED, None]
    [started] = [e for e in held.events if e["type"] == "programme_started"]
    assert started["payload"]["participants"] == [m1.profile().model_dump(mode="json")]
    [updated] = [e for e in held.events if e["type"] == "participant_updated"]
    assert updated["payload"]["profile"] == {"id": "a2", "manager": "m1"}
    exported = held.model_dump(mode="json")
    assert profiles_of_others(exported, "m1") == [{"id": "a2", "manager": "m1"}]
    assert "unit-of-m1" not in json.dumps(exported)
    assert m1.name in json.dumps(exported)  # the directory rows (names live there only)


async def test_the_migration_clears_the_cohorts_of_programmes_started_before(
    own_pool: asyncpg.Pool,
) -> None:
    """Cohorts staged for programmes whose start was recorded before the start cleared them are
    deleted by migration 0019; a programme not started yet keeps its cohort."""
    pool, store = own_pool, EventStore(own_pool)
    people = cohort(2, 2, seed=7)
    started, waiting = programme("before"), programme("not-yet")
    await staged_for(pool, started, people)
    await staged_for(pool, waiting, people)
    request = start_request(started)
    with_cohort = request.started.model_copy(
        update={"participants": tuple(x.profile() for x in people)}
    )
    # As the start activity recorded it before this change: the staged rows left behind.
    await store.append(request.stream_id, 0, [to_new_event(with_cohort)])
    [sql] = [sql for version, _, sql in available() if version == 19]
    async with pool.acquire() as conn:
        await conn.execute(sql)
    assert await cohorts.staged(pool, started.id) == []
    assert [x["id"] for x in await cohorts.staged(pool, waiting.id)] == [x.id for x in people]
