"""Archiving Temporal's history of a workflow run into the store, before retention deletes it.

The workflows call this for the run they continued from (complete: the run has closed) and for
their last run as they close (up to this activity: only the run's final completion is missing).
Archiving the same run twice stores it once (``store.histories``).
"""

import asyncpg
import structlog
from temporalio import activity
from temporalio.client import Client

from domain.model import Frozen
from store.histories import HistoryArchive

log = structlog.get_logger(__name__)


class ArchiveInput(Frozen):
    workflow_id: str
    run_id: str
    complete: bool


class Archivist:
    def __init__(self, client: Client, pool: asyncpg.Pool):
        self._client = client
        self._archive = HistoryArchive(pool)

    @activity.defn
    async def archive_history(self, request: ArchiveInput) -> int:
        """Store the run's history as Temporal's JSON; return its number of events."""
        handle = self._client.get_workflow_handle(request.workflow_id, run_id=request.run_id)
        history = await handle.fetch_history()
        await self._archive.store(
            request.workflow_id, request.run_id, request.complete, history.to_json()
        )
        log.info(
            "history_archived",
            workflow_id=request.workflow_id,
            run_id=request.run_id,
            events=len(history.events),
            complete=request.complete,
        )
        return len(history.events)
