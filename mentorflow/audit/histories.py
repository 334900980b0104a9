"""Replaying archived Temporal histories with today's workflow code.

A difference (non-determinism) means today's code would decide otherwise than the code that
ran: a change made without ``workflow.patched``. Each failure names the workflow, the run and
what the replayer found.
"""

from collections.abc import Sequence

import asyncpg
from pydantic import BaseModel
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from store.histories import HistoryArchive


class ReplayFailure(BaseModel):
    workflow_id: str
    run_id: str
    error: str


class HistoryReplay(BaseModel):
    replayed: int
    failures: list[ReplayFailure]


async def replay_archived(
    pool: asyncpg.Pool,
    workflows: Sequence[type],
    workflow_ids: Sequence[str] | None = None,
    data_converter: DataConverter | None = None,
) -> HistoryReplay:
    """Replay every archived run (or those of ``workflow_ids``).

    The archives hold Temporal's payloads as Temporal stored them, encrypted: ``data_converter``
    (default: the configured one, ``embedded.converter()``) must know every key they use.
    """
    from mentorflow import embedded

    replayer = Replayer(
        workflows=list(workflows), data_converter=data_converter or embedded.converter()
    )
    failures, replayed = [], 0
    async for row in HistoryArchive(pool).each(workflow_ids):
        history = WorkflowHistory.from_json(row.workflow_id, row.history)
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        replayed += 1
        if result.replay_failure is not None:
            failures.append(
                ReplayFailure(
                    workflow_id=row.workflow_id,
                    run_id=row.run_id,
                    error=" ".join(str(result.replay_failure).split()),
                )
            )
    return HistoryReplay(replayed=replayed, failures=failures)
