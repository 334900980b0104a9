"""Auditor's checks that need Temporal: every run of a workflow replays with today's code."""

from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from mentorflow.runtime import WORKFLOWS


async def run_histories(
    client: Client, workflow_id: str, first_run_id: str
) -> list[WorkflowHistory]:
    """The history of every run of a workflow, following its continue-as-new chain."""
    histories, run_id = [], first_run_id
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        histories.append(history)
        last = history.events[-1]
        continued = last.HasField("workflow_execution_continued_as_new_event_attributes")
        attributes = last.workflow_execution_continued_as_new_event_attributes
        run_id = attributes.new_execution_run_id if continued else ""
    return histories


async def replay(histories: list[WorkflowHistory], data_converter: DataConverter) -> None:
    """Replay each history with today's workflow code; raises on any non-determinism.

    ``data_converter`` must know the codec keys the histories' payloads were sealed with.
    """
    replayer = Replayer(workflows=list(WORKFLOWS), data_converter=data_converter)
    for history in histories:
        await replayer.replay_workflow(history)


async def replay_all_runs(client: Client, handle: WorkflowHandle[Any, Any]) -> int:
    """Replay every run of ``handle``'s workflow; return how many runs there were."""
    first_run = handle.first_execution_run_id
    if first_run is None:  # a handle by id only: the server knows where the chain began
        description = await handle.describe()
        first_run = description.raw_description.workflow_execution_info.first_run_id
    histories = await run_histories(client, handle.id, first_run)
    await replay(histories, client.data_converter)
    return len(histories)
