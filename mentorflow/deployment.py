"""One deployment, one event store: client commands write only where the worker reads.

A worker announces the event store it uses in its Temporal identity (``... store=ID``), which
Temporal lists per task queue. A client command that is about to write to its own database (the
contacts of ``programme start``) first checks that a worker on the task queue uses that same
store: a command run from another directory, or without the worker's settings, would otherwise
fill a database no worker reads, and every notification would fail later.
"""

import os
import re
import socket
from urllib.parse import parse_qsl, urlencode, urlsplit

import asyncpg
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from mentorflow.errors import MentorflowError
from store.identity import store_id

__all__ = ["WrongStoreError", "check_same_store", "shown", "worker_identity"]

_TAG = re.compile(r"\bstore=([0-9a-f]+)\b")


class WrongStoreError(MentorflowError, RuntimeError):
    """No worker on the task queue uses the event store this command would write to."""


def worker_identity(store: str) -> str:
    """Temporal's usual identity (pid@host) with the worker's event store."""
    return f"{os.getpid()}@{socket.gethostname()} store={store}"


def shown(url: str) -> str:
    """A database URL without its user and password, as it may be printed."""
    where = urlsplit(url)
    host = where.hostname or ""
    netloc = f"{host}:{where.port}" if where.port else host
    kept = [(k, v) for k, v in parse_qsl(where.query) if k in ("host", "port", "dbname")]
    query = f"?{urlencode(kept, safe='/')}" if kept else ""
    return f"{where.scheme}://{netloc}{where.path}{query}"


async def worker_stores(client: Client, task_queue: str) -> set[str | None]:
    """The event stores of the workers polling ``task_queue`` (None for an untagged worker)."""
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return {(m.group(1) if (m := _TAG.search(p.identity)) else None) for p in response.pollers}


async def check_same_store(
    client: Client, pool: asyncpg.Pool, task_queue: str, url: str, worker_needed: bool = True
) -> str:
    """This command's store id, if a worker on ``task_queue`` uses the same event store (or, not
    ``worker_needed``, if no worker runs now)."""
    mine = await store_id(pool)
    theirs = await worker_stores(client, task_queue)
    if not theirs and not worker_needed:
        return mine
    if not theirs:
        raise WrongStoreError(
            f"no worker serves task queue {task_queue!r}: start `mentorflow worker` (or"
            " `mentorflow dev`) first"
        )
    if mine not in theirs:
        others = ", ".join(sorted(s or "unknown" for s in theirs))
        raise WrongStoreError(
            f"the worker uses event store {others}, this command {mine} ({shown(url)}): set"
            " MENTORFLOW_DATABASE_URL (or MENTORFLOW_DATA_DIR) as the worker has it"
            + ("; nothing was written" if worker_needed else "")
        )
    return mine
