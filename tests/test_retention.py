"""Retention: a closed programme's people are erased after ``retention.personal_data``.

The decision is read on the programme's wall clock (Helsinki, and New York west of UTC, across
summer time); the RetentionWorkflow erases through the same code path as ``privacy erase`` and
records ``system:retention`` and why; a person still in an open programme (or one still within
its retention) is kept; the Temporal Schedule is installed once, on a real dev server.
"""

import asyncio
import contextlib
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Replayer, Worker

from activities.retention import RETENTION_ACTOR, RetentionKeeping, due, expires_on
from domain.programme.model import Programme
from mentorflow.privacy import erasures
from mentorflow.retention import SCHEDULE_ZONE, install
from store.directory import Contact, Directory, ProgrammeEntry
from store.event_store import EventStore, NewEvent
from store.migrate import migrate
from store.pool import create_pool
from store.retention import RegisteredProgramme, programmes_and_people
from workflows.retention import RETENTION_SCHEDULE, RetentionWorkflow

HELSINKI, NEW_YORK = "Europe/Helsinki", "America/New_York"
MENTORFLOW = str(Path(sys.executable).parent / "mentorflow")


def _programme(pid: str, zone: str, closed: datetime | None, *people: str, keep: str = "P2Y"):
    return RegisteredProgramme(pid, zone, keep, closed, frozenset(people))


@pytest.mark.parametrize(
    ("zone", "keep", "closed", "first_erased"),
    [
        # Closed in Helsinki's winter (UTC+2); six months later it is summer time (UTC+3).
        (HELSINKI, "P6M", datetime(2026, 1, 15, 10), datetime(2026, 7, 15, 7, tzinfo=UTC)),
        (HELSINKI, "P2Y", datetime(2026, 1, 15, 10), datetime(2028, 1, 15, 8, tzinfo=UTC)),
        # West of UTC: closed in New York's summer time (UTC-4), due in its winter (UTC-5).
        (NEW_YORK, "P6M", datetime(2026, 9, 1, 10), datetime(2027, 3, 1, 15, tzinfo=UTC)),
        (NEW_YORK, "P14D", datetime(2026, 3, 1, 10), datetime(2026, 3, 15, 14, tzinfo=UTC)),
    ],
)
def test_retention_runs_on_the_programmes_wall_clock(zone, keep, closed, first_erased):
    """The retention after the closure is the same local time on the programme's wall clock,
    across summer time; the reason names the local closing date."""
    closed_at = closed.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    p = _programme("p", zone, closed_at, "a1", keep=keep)
    assert expires_on(p) == first_erased
    assert due([p], first_erased - timedelta(minutes=1)).erase == []
    [order] = due([p], first_erased).erase
    assert order.person_id == "a1"
    assert order.reason == f"retention {keep} after programme p closed on {closed.date()}"


def test_a_person_still_needed_by_another_programme_is_kept():
    """Past retention in one programme, but in an open one or one still within its own: kept,
    with the reason; nobody of a running programme is erased."""
    now = datetime(2030, 1, 1, tzinfo=UTC)
    old = datetime(2020, 6, 30, 22, 30, tzinfo=UTC)  # 2020-07-01 01:30 in Helsinki
    programmes = [
        _programme("old", HELSINKI, old, "a1", "a2", "a3", "hr1"),
        _programme("open", HELSINKI, None, "a2", "b1"),
        _programme("recent", HELSINKI, datetime(2029, 6, 1, tzinfo=UTC), "a3"),
        _programme("short", NEW_YORK, datetime(2029, 12, 1, tzinfo=UTC), "c1", keep="P14D"),
    ]
    plan = due(programmes, now)
    assert [(o.person_id, o.reason) for o in plan.erase] == [
        ("a1", "retention P2Y after programme old closed on 2020-07-01"),
        ("c1", "retention P14D after programme short closed on 2029-11-30"),
        ("hr1", "retention P2Y after programme old closed on 2020-07-01"),
    ]
    assert {k.person_id: k.why for k in plan.kept} == {
        "a2": "still in programme open, which is open",
        "a3": "still in programme recent, kept until 2031-06-01",
    }


def test_the_programme_file_says_how_long_and_refuses_what_is_not_a_duration():
    """``retention.personal_data`` defaults to P2Y; a bad value is refused with its name."""
    import yaml

    example = Path(__file__).parent.parent / "examples" / "palkeet-pilot.yaml"
    base = yaml.safe_load(example.read_text())["programme"]
    assert Programme.model_validate(base).retention.personal_data == "P2Y"
    with pytest.raises(ValueError, match="'two years' is not an ISO-8601 duration"):
        Programme.model_validate({**base, "retention": {"personal_data": "two years"}})
    with pytest.raises(ValueError, match="must be a positive duration"):
        Programme.model_validate({**base, "retention": {"personal_data": "P0D"}})


async def _own_database(database_url: str) -> tuple[asyncpg.Pool, str]:
    """A migrated database of its own: retention looks at every programme of its database."""
    name = f"retention_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(database_url)
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    url = urlsplit(database_url)._replace(path=f"/{name}").geturl()
    pool = await create_pool(url)
    await migrate(pool)
    return pool, url


async def _closed(pool: asyncpg.Pool, pid: str, closed: datetime | None, *people: str) -> None:
    entry = ProgrammeEntry(pid, f"Programme {pid}", HELSINKI, "hr1")
    contacts = [Contact(p, f"Name of {p}", f"{p}@example.org", "fi") for p in people]
    await Directory(pool).register(entry, contacts)
    if closed is None:
        return
    event = NewEvent(uuid.uuid4(), "programme_closed", 1, closed, "system", {"report": {}})
    await EventStore(pool).append(f"programme:{pid}", 0, [event])


async def test_the_retention_workflow_erases_and_records_why(env, database_url):
    """The workflow erases the people of a programme closed past its retention (names gone,
    keys erased, ``system:retention`` and the reason recorded), keeps a person still in an
    open programme, erases nobody twice on its next run, and replays."""
    pool, _ = await _own_database(database_url)
    try:
        await _closed(pool, "old", datetime(2020, 6, 30, 22, 30, tzinfo=UTC), "hr1", "a1", "a2")
        await _closed(pool, "open", None, "hr1", "a2", "b1")
        task_queue = f"retention-{uuid.uuid4()}"
        keeping = RetentionKeeping(pool)
        async with Worker(
            env.client,
            task_queue=task_queue,
            workflows=[RetentionWorkflow],
            activities=[keeping.due_erasures, keeping.erase_for_retention],
        ):
            first = await env.client.execute_workflow(
                RetentionWorkflow.run, id=f"retention-{uuid.uuid4()}", task_queue=task_queue
            )
            handle = env.client.get_workflow_handle(f"retention-again-{uuid.uuid4()}")
            again = await env.client.execute_workflow(
                RetentionWorkflow.run, id=handle.id, task_queue=task_queue
            )
        assert first.erased == ["a1"] and sorted(first.kept) == ["a2", "hr1"]
        assert again.erased == [] and sorted(again.kept) == ["a2", "hr1"]
        recorded = await erasures(pool)
        assert [(r["person_id"], r["by"], r["reason"]) for r in recorded] == [
            ("a1", RETENTION_ACTOR, "retention P2Y after programme old closed on 2020-07-01")
        ]
        left = {p.programme_id: p.people for p in await programmes_and_people(pool)}
        assert left == {"old": {"hr1", "a2"}, "open": {"hr1", "a2", "b1"}}
        erased_at = await pool.fetchval("SELECT erased_at FROM data_keys WHERE person_id = 'a1'")
        assert erased_at is not None
        history = await env.client.get_workflow_handle(handle.id).fetch_history()
        await Replayer(
            workflows=[RetentionWorkflow], data_converter=env.client.data_converter
        ).replay_workflow(history)
    finally:
        await pool.close()


async def test_dry_run_lists_without_erasing(database_url):
    """``privacy retention --dry-run`` names who would be erased and who kept, and why;
    nothing changes. Neither or both of --dry-run and --install is refused in one line."""
    pool, url = await _own_database(database_url)
    try:
        await _closed(pool, "old", datetime(2020, 6, 30, 22, 30, tzinfo=UTC), "a1", "a2")
        await _closed(pool, "open", None, "a2")
        env = {**os.environ, "MENTORFLOW_DATABASE_URL": url}
        process = await asyncio.create_subprocess_exec(
            MENTORFLOW, "privacy", "retention", "--dry-run", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 300)
        assert process.returncode == 0, err.decode()
        assert out.decode().splitlines() == [
            "would erase a1: retention P2Y after programme old closed on 2020-07-01",
            "would keep a2: still in programme open, which is open",
        ]
        assert await erasures(pool) == []
        assert await pool.fetchval("SELECT count(*) FROM people WHERE person_id = 'a1'") == 1
        for args in ((), ("--dry-run", "--install")):
            process = await asyncio.create_subprocess_exec(
                MENTORFLOW, "privacy", "retention", *args, env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            _, err = await asyncio.wait_for(process.communicate(), 300)
            assert process.returncode != 0
            assert err.decode().strip().splitlines() == [
                "mentorflow: give one of --dry-run or --install"
            ]
    finally:
        await pool.close()


async def test_the_schedule_is_installed_once_daily_at_three_in_helsinki(dev_env):
    """Installing twice creates one schedule (the second finds it); it runs RetentionWorkflow
    daily at 03:00 Helsinki time."""
    client: Client = dev_env.client
    with contextlib.suppress(RPCError):  # a worker started on this server made it already
        await client.get_schedule_handle(RETENTION_SCHEDULE).delete()
    first = await install(client, task_queue=f"retention-{uuid.uuid4()}")
    try:
        second = await install(client)
        assert first.created and not second.created
        described = await client.get_schedule_handle(RETENTION_SCHEDULE).describe()
        assert described.schedule.spec.time_zone_name == SCHEDULE_ZONE
        action = described.schedule.action
        assert getattr(action, "workflow", None) == "RetentionWorkflow"
        assert second.next_runs
        for run in second.next_runs:
            local = run.astimezone(ZoneInfo(HELSINKI))
            assert (local.hour, local.minute) == (3, 0)
    finally:
        await client.get_schedule_handle(RETENTION_SCHEDULE).delete()
