"""`mentorflow programme start|status|approve-matching` against a real Temporal dev server.

The commands run as a user runs them (the installed console script, in a subprocess), while this
test process runs the worker on the default task queue.
"""

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

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
    mail, dev_env, pool, database_url, tmp_path, monkeypatch
):
    """Start from a file, see the proposal, approve it, see the groups; refusals are one line."""
    monkeypatch.setenv("MENTORFLOW_DATABASE_URL", database_url)  # where `start` puts contacts
    address = dev_env.client.service_client.config.target_host
    pid = f"cli-{os.getpid()}-{id(tmp_path) % 10_000}"
    file = future_programme(tmp_path, pid)
    async with build_worker(dev_env.client, pool, mail.config, TASK_QUEUE):
        code, out, err = await mentorflow(address, "programme", "start", str(file), "--json")
        assert code == 0, err
        assert json.loads(out) == {"workflow_id": programme_workflow_id(pid)}

        for _ in range(150):  # real time: the matching runs as soon as the programme starts
            code, out, err = await mentorflow(address, "programme", "status", pid, "--json")
            assert code == 0, err
            status = json.loads(out)
            if status["phase"] == "approval":
                break
            await asyncio.sleep(0.2)
        assert status["phase"] == "approval"
        assert status["excluded"] == ["m4"]
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

        code, out, err = await mentorflow(address, "programme", "approve-matching", pid)
        assert (code, out) == (0, f"approved: 1 groups of {pid} are starting\n"), err
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
