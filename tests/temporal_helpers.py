"""Workflow test helpers: a worker on a fresh task queue, and skipping the clock."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

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
