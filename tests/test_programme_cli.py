"""`mentorflow programme start|status|approve-matching` against a real Temporal dev server.

The commands run as a user runs them (the installed console script, in a subprocess), while this
test process runs the worker on the default task queue.
"""

import asyncio
import json
import logging
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import yaml
from temporalio.service import RPCError

from domain.programme.model import Programme
from domain.text import sealed
from mentorflow.deployment import shown, worker_identity
from mentorflow.settings import Settings
from store.identity import store_id
from store.sealing import Sealer
from worker import build_worker
from workflows import TASK_QUEUE
from workflows.messages import programme_workflow_id, workflow_id

EXAMPLE = Path(__file__).parent.parent / "examples" / "palkeet-pilot.yaml"
MENTORFLOW = str(Path(sys.executable).parent / "mentorflow")


def future_programme(tmp_path: Path, programme_id: str) -> Path:
    """The example programme moved to the future: it starts in two days; matching runs today."""
    data = yaml.safe_load(EXAMPLE.read_text())
    today = datetime.now(UTC).date()
    p = data["programme"]
    p.update(
        id=programme_id, starts_on=today + timedelta(days=2), ends_on=today + timedelta(days=400)
    )
    p["training"]["deadline"] = today - timedelta(days=1)
    p["matching"]["runs_on"] = today
    p["closing"]["event_on"] = today + timedelta(days=390)
    for person in data["participants"]:
        if person["id"] == "a5":  # refused by the test mail server: a failed delivery
            person["email"] = "bounce-a5@example.org"
    data.pop("behaviour")
    path = tmp_path / "programme.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


async def mentorflow(address: str, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "TEMPORAL_ADDRESS": address}
    process = await asyncio.create_subprocess_exec(
        MENTORFLOW, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_start_status_and_approve_a_programme_from_the_command_line(
    mail, dev_env, pool, database_url, tmp_path, monkeypatch, caplog
):
    """Start from a file, see the proposal, approve it, see the groups; refusals are one line."""
    monkeypatch.setenv("MENTORFLOW_DATABASE_URL", database_url)  # where `start` puts contacts
    address = dev_env.client.service_client.config.target_host
    pid = f"cli-{os.getpid()}-{id(tmp_path) % 10_000}"
    file = future_programme(tmp_path, pid)
    store = await store_id(pool)
    worker = build_worker(
        dev_env.client, pool, mail.config, TASK_QUEUE, identity=worker_identity(store)
    )
    async with worker:
        code, out, err = await mentorflow(address, "programme", "start", str(file), "--json")
        assert code == 0, err
        assert json.loads(out) == {
            "workflow_id": programme_workflow_id(pid),
            "event_store": shown(database_url),
            "store_id": store,
        }

        for _ in range(150):  # real time: the matching runs as soon as the programme starts
            code, out, err = await mentorflow(address, "programme", "status", pid, "--json")
            assert code == 0, err
            status = json.loads(out)
            if status["phase"] == "approval":
                break
            await asyncio.sleep(0.2)
        assert status["phase"] == "approval"
        assert status["excluded"] == ["m4"]
        # The start is recorded: the cohort staged for it is cleared (the event holds it).
        staged = "SELECT count(*) FROM staged_cohorts WHERE programme_id = $1"
        assert await pool.fetchval(staged, pid) == 0
        assert [(g["mentors"], g["mentees"]) for g in status["proposal"]["groups"]] == [
            (["m1", "m2"], ["a1", "a3", "a5"])
        ]

        again = await mentorflow(address, "programme", "start", str(file))
        assert again[0] == 1 and again[2] == f"mentorflow: programme {pid} is already running\n"

        edited = tmp_path / "groups.yaml"
        edited.write_text("- {mentors: [m1, m2], mentees: [a2, a3]}\n")
        refused = await mentorflow(
            address, "programme", "approve-matching", pid, "--groups", str(edited)
        )
        assert refused[0] == 1
        assert (
            refused[2]
            == "mentorflow: invalid_assignment: group 1: m2 and a2 have the same manager\n"
        )

        blank = await mentorflow(address, "programme", "approve-matching", pid, "--reason", " ")
        assert blank[0] == 1 and blank[2].startswith("mentorflow: --reason: "), blank
        assert len(blank[2].splitlines()) == 1, blank
        why = "Pia's talk with Budget-7731 about the sick leave"
        code, out, err = await mentorflow(
            address, "programme", "approve-matching", pid, "--reason", why
        )
        assert (code, out) == (0, f"approved: 1 groups of {pid} are starting\n"), err
        # The coordinator's reason is free text: in the record only sealed with their key.
        approved = await pool.fetchval(
            "SELECT payload->>'reason' FROM events WHERE stream_id = $1"
            " AND type = 'matching_approved'",
            f"programme:{pid}",
        )
        assert sealed(approved) and "Budget-7731" not in approved
        assert await Sealer(pool, Settings().master()).open(approved) == why
        twice = await mentorflow(address, "programme", "approve-matching", pid)
        assert twice[0] == 1 and "no matching proposal waiting for approval" in twice[2], twice

        for _ in range(50):
            status = json.loads(
                (await mentorflow(address, "programme", "status", pid, "--json"))[1]
            )
            if status["groups"]:
                break
            await asyncio.sleep(0.2)
        assert [g["relationship_id"] for g in status["groups"]] == [f"{pid}:1"]
        assert status["phase"] == "running"

        for _ in range(100):  # the group's start message to a5 bounces
            status = json.loads(
                (await mentorflow(address, "programme", "status", pid, "--json"))[1]
            )
            if status["failed_deliveries"]:
                break
            await asyncio.sleep(0.2)
        [failed] = status["failed_deliveries"]
        assert (failed["person_id"], failed["smtp_code"]) == ("a5", 550)
        code, text, err = await mentorflow(address, "programme", "status", pid)
        assert code == 0, err
        assert "Heidi Mentor (m1), Emma Mentor (m2)" in text  # names from the directory
        assert "Actor Five (a5)" in text and "m1:" not in text
        assert "score: 10 points for each mentee goal that a mentor's expertise meets" in text
        assert "  mail NOT delivered: 1\n" in text
        assert "relationship_started to Actor Five (a5): 550" in text
        assert "(times in Europe/Helsinki)" in text
        assert any(
            r.levelno == logging.WARNING and "notification_failed" in r.getMessage()
            for r in caplog.records
        )

        unknown = await mentorflow(address, "programme", "status", "no-such-programme")
        assert unknown[0] == 1 and unknown[2] == "mentorflow: no programme 'no-such-programme'\n"

        for wid in (workflow_id(f"{pid}:1"), programme_workflow_id(pid)):
            await dev_env.client.get_workflow_handle(wid).terminate("test done")


async def test_a_programme_in_the_past_is_refused_before_anything_starts(dev_env):
    """The example's dates are in 2020: starting it for real is refused, naming the date."""
    address = dev_env.client.service_client.config.target_host
    code, out, err = await mentorflow(address, "programme", "start", str(EXAMPLE))
    assert (code, out) == (1, "")
    assert err == (
        "mentorflow: programme pilot-2020 starts on 2020-09-01, which is in the past:"
        " move its dates, or try it with `mentorflow simulate`\n"
    )


async def test_start_refuses_to_write_where_the_worker_does_not_read(
    mail, dev_env, pool, database_url, tmp_path, monkeypatch
):
    """Run from another directory, or with another database, `start` used to put the contacts
    in a store no worker reads (then every notification failed): now it refuses, writing none."""
    address = dev_env.client.service_client.config.target_host
    pid = f"cli-store-{os.getpid()}-{id(tmp_path) % 10_000}"
    file = future_programme(tmp_path, pid)
    other = f"other_{os.getpid()}_{id(tmp_path) % 10_000}"
    await pool.execute(f"CREATE DATABASE {other}")
    other_url = urlsplit(database_url)._replace(path=f"/{other}").geturl()
    store = await store_id(pool)
    worker = build_worker(
        dev_env.client, pool, mail.config, TASK_QUEUE, identity=worker_identity(store)
    )
    async with worker:
        monkeypatch.delenv("MENTORFLOW_DATABASE_URL", raising=False)
        monkeypatch.setenv("MENTORFLOW_DATA_DIR", str(tmp_path / "elsewhere"))
        code, out, err = await mentorflow(address, "programme", "start", str(file))
        assert (code, out) == (1, ""), err
        assert err == (
            f"mentorflow: no event store in {tmp_path / 'elsewhere'}: run this where `mentorflow"
            " dev` runs, or set MENTORFLOW_DATA_DIR or MENTORFLOW_DATABASE_URL as the worker has"
            " them\n"
        )
        assert not (tmp_path / "elsewhere").exists()

        monkeypatch.setenv("MENTORFLOW_DATABASE_URL", other_url)
        code, out, err = await mentorflow(address, "programme", "start", str(file))
        assert (code, out) == (1, ""), err
        # Other tests' workers may still be listed as pollers of the queue: ours must be named.
        named = re.match(r"mentorflow: the worker uses event store (.+?), this command ", err)
        assert named is not None, err
        assert store in named.group(1).split(", ")
        assert err.endswith(
            f"({shown(other_url)}): set MENTORFLOW_DATABASE_URL (or MENTORFLOW_DATA_DIR) as the"
            " worker has it; nothing was written\n"
        )
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM events WHERE stream_id = $1", programme_workflow_id(pid)
        )
        == 0
    )
    written = await asyncpg.connect(other_url)
    try:
        assert await written.fetchval("SELECT count(*) FROM people") == 0
    finally:
        await written.close()
    described = dev_env.client.get_workflow_handle(programme_workflow_id(pid)).describe()
    with pytest.raises(RPCError):
        await described


@pytest.mark.parametrize(
    ("zone", "matching", "approval", "label"),
    [
        ("Europe/Helsinki", "2026-12-07 00:00 EET", "2026-12-04 16:34 EET", "EET"),
        ("America/New_York", "2026-12-07 00:00 EST", "2026-12-04 09:34 EST", "EST"),
    ],
)
def test_status_shows_the_dates_ahead_in_local_time_labelled(zone, matching, approval, label):
    """`status` used to print UTC ("due 2026-12-04 14:34 UTC") and no dates during enrolment."""
    from domain.calendar import calendar
    from domain.programme.state import ProgrammeState
    from mentorflow.programmes import ProgrammeStatus, _upcoming, status_lines

    data = yaml.safe_load(EXAMPLE.read_text())["programme"]
    data.update(timezone=zone, starts_on="2026-12-10", ends_on="2027-06-30")
    data["training"]["deadline"] = "2026-12-05"
    data["matching"]["runs_on"] = "2026-12-07"
    data["closing"]["event_on"] = "2027-06-15"
    p = Programme.model_validate(data)
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    state = ProgrammeState(programme=p, calendar=calendar(p), started_at=now, participants={})
    due = datetime(2026, 12, 4, 14, 34, tzinfo=UTC)
    status = ProgrammeStatus(
        programme_id=p.id,
        phase="approval",
        participants=0,
        excluded=[],
        proposal=None,
        approval_due=due,
        groups=[],
        report=None,
        timezone=zone,
        upcoming=_upcoming(state, now),
    )
    text = "\n".join(status_lines(status))
    assert f"(times in {zone})" in text
    assert f"    2026-12-05  training deadline (end of day)\n    {matching}  matching\n" in text
    assert "    2026-12-10  programme starts\n" in text
    assert "    2027-06-30  programme ends (last day)" in text
    assert f"due {approval}" in text and "UTC" not in text
    assert label in text
