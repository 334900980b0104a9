"""`mentorflow dev`: one command for the whole stack in real time; a restart keeps workflows."""

import asyncio
import os
import signal
import sys
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import WorkflowExecutionStatus, WorkflowQueryFailedError

from mentorflow import embedded
from mentorflow.embedded import free_port
from tests.builders import SHORT, spec
from workflows import TASK_QUEUE
from workflows.messages import RelationshipInput, workflow_id
from workflows.relationship import RelationshipWorkflow

MENTORFLOW = Path(sys.executable).parent / "mentorflow"


async def start_dev(env: dict[str, str], port: int, ui_port: int):
    process = await asyncio.create_subprocess_exec(
        str(MENTORFLOW),
        "dev",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    said = []
    while not said or said[-1] != "ready; Ctrl-C stops":
        line = await asyncio.wait_for(process.stdout.readline(), timeout=90)
        assert line, f"mentorflow dev ended early: {said}"
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
