"""Workflow test helpers: a worker on a fresh task queue, every run's history, replay."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from worker import WORKFLOWS, build_worker


@asynccontextmanager
async def running_worker(
    client: Client, pool: asyncpg.Pool, activities: list[Any] | None = None
) -> AsyncIterator[str]:
    """A worker on a fresh task queue (so tests never steal each other's tasks); yields it."""
    task_queue = f"test-{uuid.uuid4()}"
    if activities is None:
        worker = build_worker(client, pool, task_queue)
    else:
        worker = Worker(
            client, task_queue=task_queue, workflows=list(WORKFLOWS), activities=activities
        )
    async with worker:
        yield task_queue


async def sleep_until(env: WorkflowEnvironment, at: datetime) -> None:
    """Skip the test server's clock forward to ``at`` (timers in between fire)."""
    delta = at - await env.get_current_time()
    if delta.total_seconds() > 0:
        await env.sleep(delta)


async def run_histories(
    client: Client, workflow_id: str, first_run_id: str
) -> list[WorkflowHistory]:
    """The history of every run of a workflow, following its continue-as-new chain."""
    histories, run_id = [], first_run_id
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        histories.append(history)
        last = history.events[-1]
        attributes = last.workflow_execution_continued_as_new_event_attributes
        run_id = (
            attributes.new_execution_run_id
            if last.HasField("workflow_execution_continued_as_new_event_attributes")
            else ""
        )
    return histories


async def replay(histories: list[WorkflowHistory]) -> None:
    """Replay each history with today's workflow code; raises on any non-determinism."""
    replayer = Replayer(workflows=list(WORKFLOWS), data_converter=pydantic_data_converter)
    for history in histories:
        await replayer.replay_workflow(history)


async def replay_own_history(client: Client, handle: WorkflowHandle[Any, Any]) -> int:
    """Replay every run of ``handle``'s workflow; return how many runs there were."""
    assert handle.first_execution_run_id is not None
    histories = await run_histories(client, handle.id, handle.first_execution_run_id)
    await replay(histories)
    return len(histories)
