"""The auditor's commands on a relationship that really ran (time-skipping Temporal, real
PostgreSQL): as-of state, archived histories replayed, verify, checkpoint and export."""

import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest
import pytest_asyncio

from domain.relationship.commands import RecordAgreement, Withdraw
from mentorflow.audit.histories import replay_archived
from mentorflow.audit.records import parse_moment, relationship_as_of, resolve
from store.migrate import migrate
from store.pool import create_pool
from tests.builders import SHORT, register_test_people, spec
from tests.changed_workflow import IncompatiblyChangedWorkflow
from tests.staff_helpers import own_database_url
from tests.temporal_helpers import (
    result_within,
    running_worker,
    sleep_until,
    start_relationship,
    whole_seconds_now,
)
from worker import WORKFLOWS
from workflows.messages import workflow_id
from workflows.programme import ProgrammeWorkflow
from workflows.relationship import RelationshipWorkflow

MENTORFLOW = Path(sys.executable).parent / "mentorflow"


@pytest_asyncio.fixture(scope="module")
async def database_url(_postgres: str) -> str:
    """This module's own database (overriding the session's): `verify --all` and `checkpoint`
    then cover the one group that ran here, not every stream the session's earlier tests wrote
    (which took over a minute, more the more tests ran before)."""
    return await own_database_url(_postgres)


@pytest_asyncio.fixture(scope="module")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url)
    await migrate(pool)
    await register_test_people(pool)
    yield pool
    await pool.close()


@pytest.fixture(scope="module")
def ran() -> dict:
    return {}


async def test_the_state_as_of_a_moment_is_what_the_workflow_held_then(mail, env, pool, ran):
    rid = f"audited-{uuid.uuid4()}"
    starts = await whole_seconds_now(env)
    async with running_worker(env.client, pool, mail) as task_queue:
        relationship = spec(rid, starts, starts + timedelta(days=60), SHORT)
        handle = await start_relationship(env, task_queue, relationship)
        agreement = RecordAgreement(by="m1", goals=("listening",), agreement="monthly")
        await handle.execute_update(RelationshipWorkflow.record_agreement, agreement)
        moments, held = [], []
        for day in (9, 17, 33):  # first half (twice), second half (a run of its own)
            await sleep_until(env, starts + timedelta(days=day, hours=5))
            moments.append(await env.get_current_time())
            held.append(await handle.query(RelationshipWorkflow.state))
        for mentor in ("m1", "m2"):
            leave = Withdraw(person_id=mentor, by=mentor, reason="audit test over")
            await handle.execute_update(RelationshipWorkflow.withdraw, leave)
        await result_within(handle)

    for moment, state in zip(moments, held, strict=True):
        replayed = await relationship_as_of(pool, rid, moment)
        assert replayed.state == state
    assert {s.phase for s in held} == {"first_half", "second_half"}  # across continue-as-new
    before = await relationship_as_of(pool, rid, starts - timedelta(seconds=1))
    assert before.state is None and before.events == 0
    ran["rid"] = rid


async def test_archived_histories_replay_and_an_incompatible_change_is_named(pool, ran):
    wid = workflow_id(ran["rid"])
    runs = await pool.fetch(
        "SELECT run_id, complete FROM workflow_histories WHERE workflow_id = $1", wid
    )
    assert len(runs) >= 3 and [r["complete"] for r in runs].count(False) == 1
    today = await replay_archived(pool, WORKFLOWS, [wid])
    assert (today.replayed, today.failures) == (len(runs), [])
    changed = await replay_archived(pool, [IncompatiblyChangedWorkflow, ProgrammeWorkflow], [wid])
    assert len(changed.failures) == len(runs)
    assert all(f.workflow_id == wid and "ondetermin" in f.error for f in changed.failures)


def public_key_of(pem: Path) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(pem.read_bytes(), password=None)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def audit(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MENTORFLOW_DATABASE_URL": database_url}
    return subprocess.run(
        [str(MENTORFLOW), "audit", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_the_audit_commands_answer_and_refuse_in_one_line(database_url, ran, tmp_path):
    rid = ran["rid"]
    verified = audit(database_url, "verify", rid, "--json")
    assert verified.returncode == 0, verified.stderr
    report = json.loads(verified.stdout)
    assert report["ok"] and report["scope"] == rid and report["log"]["broken"] is None
    assert report["histories"]["replayed"] >= 3

    replay = audit(database_url, "replay", rid, "--json")
    assert replay.returncode == 0, replay.stderr
    body = json.loads(replay.stdout)
    assert set(body) == {
        "relationship_id",
        "stream_id",
        "timezone",
        "as_of",
        "events",
        "total_events",
        "state",
        "timeline",
    }
    assert body["state"]["closure"]["outcome"] == "dissolved"
    assert body["timeline"][-1]["type"] == "relationship_closed"

    page = tmp_path / "report.html"
    exported = audit(database_url, "export", rid, "--format", "html", "-o", str(page))
    assert exported.returncode == 0 and "verified" in exported.stdout, exported.stderr
    html = page.read_text()
    assert "Verified: the record is complete" in html and "audit test over" in html
    assert "<script" not in html and "http" not in html.split("<body>")[1]  # self-contained

    key, cp = tmp_path / "key.pem", tmp_path / "checkpoint.json"
    taken = audit(database_url, "checkpoint", "--key", str(key))
    assert taken.returncode == 0, taken.stderr
    cp.write_text(taken.stdout)
    trusted = public_key_of(key)  # the auditor's own copy, not the checkpoint's
    whole = audit(
        database_url, "verify", "--all", "--checkpoint", str(cp), "--public-key", trusted, "--json"
    )
    assert whole.returncode == 0, whole.stdout + whole.stderr
    assert json.loads(whole.stdout)["checkpoint"] == "ok"

    for args, says in (
        (("replay", rid, "--as-of", "yesterday"), "is not a date or a date-time"),
        (("replay", rid, "--as-of", "20.11.2026"), "is not a date or a date-time"),
        (("replay", "no-such-group"), "no relationship 'no-such-group'"),
        (("verify",), "give a relationship id or --all"),
        (("export", rid, "--format", "pdf"), "use json or html"),
    ):
        refused = audit(database_url, *args)
        assert refused.returncode == 1 and refused.stdout == ""
        assert refused.stderr.count("\n") == 1 and says in refused.stderr, refused.stderr


def test_audit_commands_take_the_workflow_id_form_and_read_dates_in_the_programme_zone(
    database_url, ran
):
    """The README names workflow ids (`relationship:pilot:1`): they were refused. A bare date
    for --as-of was refused for lacking a zone; it is the end of that day where the programme is
    (programme `test` is in Europe/Helsinki), and the timeline says which zone its times are in."""
    rid = ran["rid"]
    short = json.loads(audit(database_url, "replay", rid, "--json").stdout)
    long = audit(database_url, "replay", f"relationship:{rid}", "--json")
    assert long.returncode == 0, long.stderr
    assert json.loads(long.stdout) == short
    assert short["timezone"] == "Europe/Helsinki"
    for command in (("verify", f"relationship:{rid}"), ("export", f"relationship:{rid}")):
        done = audit(database_url, *command)
        assert done.returncode == 0, done.stderr

    started = datetime.fromisoformat(short["timeline"][0]["at"])
    day = started.astimezone(ZoneInfo("Europe/Helsinki")).date() + timedelta(days=17)
    by_date = json.loads(audit(database_url, "replay", rid, "--as-of", str(day), "--json").stdout)
    end_of_day = datetime.combine(day + timedelta(days=1), time(0), ZoneInfo("Europe/Helsinki"))
    assert datetime.fromisoformat(by_date["as_of"]) == end_of_day - timedelta(microseconds=1)
    assert by_date["events"] == sum(
        datetime.fromisoformat(e["at"]) < end_of_day for e in short["timeline"]
    )
    assert 0 < by_date["events"] < short["events"]

    text = audit(database_url, "replay", rid).stdout
    assert "(times in Europe/Helsinki)" in text
    first = started.astimezone(ZoneInfo("Europe/Helsinki"))
    assert f"  {first:%Y-%m-%d %H:%M %Z} " in text and " UTC" not in text


@pytest.mark.parametrize(
    ("zone", "given", "instant"),
    [
        # the end of the day, in winter and in summer time
        ("Europe/Helsinki", "2026-12-01", "2026-12-01T21:59:59.999999+00:00"),
        ("Europe/Helsinki", "2026-06-01", "2026-06-01T20:59:59.999999+00:00"),
        ("America/Los_Angeles", "2026-12-01", "2026-12-02T07:59:59.999999+00:00"),
        ("America/Los_Angeles", "2026-03-08", "2026-03-09T06:59:59.999999+00:00"),  # 23-hour day
        ("America/Los_Angeles", "2026-12-01T12:00", "2026-12-01T20:00:00+00:00"),
        ("America/Los_Angeles", "2026-12-01T12:00+02:00", "2026-12-01T10:00:00+00:00"),
    ],
)
def test_as_of_is_what_a_person_in_the_programme_zone_means(zone, given, instant):
    assert resolve(parse_moment(given), zone) == datetime.fromisoformat(instant)
