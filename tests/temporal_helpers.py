"""Workflow test helpers: a worker on a fresh task queue, and skipping the clock."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from temporalio.api.workflowservice.v1 import ListOpenWorkflowExecutionsRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from mentorflow.mail_server import MailServer
from worker import build_worker


@asynccontextmanager
async def running_worker(
    client: Client, pool: asyncpg.Pool, mail: MailServer, activities: list[Any] | None = None
) -> AsyncIterator[str]:
    """A worker on a fresh task queue (tests never steal each other's tasks); yields the queue.

    ``activities`` replace the real ones of the same name (e.g. to inject a failure).
    """
    task_queue = f"test-{uuid.uuid4()}"
    async with build_worker(client, pool, mail.config, task_queue, overrides=activities or ()):
        yield task_queue


async def sleep_until(env: WorkflowEnvironment, at: datetime) -> None:
    """Skip the test server's clock forward to ``at`` (timers in between fire)."""
    delta = at - await env.get_current_time()
    if delta.total_seconds() > 0:
        await env.sleep(delta)


async def until_idle(handle: WorkflowHandle[Any, Any], within: float = 60) -> None:
    """Until ``handle``'s workflow waits on nothing but timers (no activity running, no workflow
    task to do): for a test that needs only a step done, not the clock moved (a skip on the test
    server now and then runs in real time until the SDK's 30 s run out)."""
    for _ in range(int(within * 10)):
        described = (await handle.describe()).raw_description
        if not described.pending_activities and not described.HasField("pending_workflow_task"):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{handle.id} was still busy after {within} s")


async def result_within(handle: WorkflowHandle[Any, Any], within: float = 180) -> Any:
    """``handle.result()``, failing after ``within`` seconds with what the workflow waits on.

    Every wait for a workflow's end in the tests goes through here: the Java time-skipping test
    server now and then loses a timer that falls due while an activity runs (the workflow then
    waits on it forever, with nothing pending), and a test that waits without a deadline hangs
    the whole suite instead of failing alone.
    """
    try:
        return await asyncio.wait_for(handle.result(), timeout=within)
    except TimeoutError:
        raw = (await handle.describe()).raw_description
        raise AssertionError(
            f"{handle.id} had not ended after {within} s: {len(raw.pending_activities)} activities"
            f" pending, a workflow task pending: {raw.HasField('pending_workflow_task')}"
        ) from None


async def start_relationship(env: WorkflowEnvironment, task_queue: str, relationship_spec: Any):
    """Start a RelationshipWorkflow for ``relationship_spec`` under its usual id."""
    from workflows.messages import RelationshipInput, workflow_id
    from workflows.relationship import RelationshipWorkflow

    return await env.client.start_workflow(
        RelationshipWorkflow.run,
        RelationshipInput(spec=relationship_spec),
        id=workflow_id(relationship_spec.relationship_id),
        task_queue=task_queue,
    )


async def whole_seconds_now(env: WorkflowEnvironment) -> datetime:
    """The server's now, rounded up to a whole second (times in reports stay whole)."""
    return (await env.get_current_time()).replace(microsecond=0) + timedelta(seconds=1)


async def terminate_open_workflows(client: Client) -> int:
    """Terminate every workflow still open on the server (the test server lists them this way:
    it does not implement ListWorkflowExecutions); how many there were."""
    request = ListOpenWorkflowExecutionsRequest(namespace=client.namespace, maximum_page_size=1000)
    ended = 0
    while True:
        page = await client.workflow_service.list_open_workflow_executions(request)
        for execution in page.executions:
            handle = client.get_workflow_handle(
                execution.execution.workflow_id, run_id=execution.execution.run_id
            )
            try:
                await handle.terminate(reason="left running by a finished test module")
                ended += 1
            except RPCError:
                pass  # it closed meanwhile
        if not page.next_page_token:
            return ended
        request.next_page_token = page.next_page_token
