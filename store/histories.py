"""Archived Temporal histories (``workflow_histories``): the runs' JSON, kept past retention.

Archiving the same run twice stores it once: a run's history only grows, and the first copy of a
closed run is already complete.
"""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class ArchivedHistory:
    workflow_id: str
    run_id: str
    history: str
    """Temporal's JSON of the run, its payloads as Temporal stored them (encrypted)."""


class HistoryArchive:
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    async def store(self, workflow_id: str, run_id: str, complete: bool, history: str) -> None:
        """Keep the run's history; a run archived already keeps its first copy."""
        await self._pool.execute(
            "INSERT INTO workflow_histories (workflow_id, run_id, complete, history)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (workflow_id, run_id) DO NOTHING",
            workflow_id,
            run_id,
            complete,
            history,
        )

    async def each(
        self, workflow_ids: Sequence[str] | None = None
    ) -> AsyncIterator[ArchivedHistory]:
        """Every archived run (or those of ``workflow_ids``), in the order they were archived,
        read in one read-only transaction."""
        query = "SELECT workflow_id, run_id, history FROM workflow_histories"
        args: list[object] = []
        if workflow_ids is not None:
            query += " WHERE workflow_id = ANY($1::text[])"
            args.append(list(workflow_ids))
        async with self._pool.acquire() as conn, conn.transaction(readonly=True):
            async for row in conn.cursor(query + " ORDER BY archived_at, run_id", *args):
                yield ArchivedHistory(row["workflow_id"], row["run_id"], row["history"])
