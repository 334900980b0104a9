"""Sending an Update from the web and reading how it went, for every page that sends one.

The workflow's validators decide: ``execute`` gives None when the workflow took the Update, else
the domain's refusal (its rule code and sentence). A workflow that is not running (closed, or
never started: Temporal answers NOT_FOUND) is refused with the caller's own "closed" rule. When
Temporal cannot answer (unreachable, overloaded, or no answer within ``UPDATE_TIMEOUT``) nothing
is known to be refused, so the person gets a 503 "busy" page (a problem details object on the
JSON API) and may try again; any other failure of the call is a server error, never "closed".
"""

import asyncio
from dataclasses import dataclass
from typing import Any

from temporalio.client import (
    RPCTimeoutOrCancelledError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from mentorflow.web.i18n import N_
from mentorflow.web.identity import Refused

UPDATE_TIMEOUT = 30.0
"""How long a person's request waits for the workflow's answer before the busy page."""

BUSY = N_("The service is busy. Try again in a moment.")
UNANSWERED = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.CANCELLED,
    }
)
"""Temporal's answers that say nothing about the Update: it may be sent again."""


@dataclass(frozen=True)
class Refusal:
    """The domain's refusal: its rule code, and its sentence (English, with ids only)."""

    type: str
    message: str


async def execute(
    handle: WorkflowHandle[Any, Any], update: Any, arg: Any, closed: str
) -> Refusal | None:
    """Send ``update(arg)`` to the workflow and wait for its answer: None when it was taken,
    the domain's refusal, or ``closed`` (the caller's rule code) when the workflow is not
    running. Raises ``Refused(503)`` when Temporal does not answer."""
    try:
        await asyncio.wait_for(handle.execute_update(update, arg), UPDATE_TIMEOUT)
    except WorkflowUpdateFailedError as e:
        cause = e.cause
        if isinstance(cause, ApplicationError):
            return Refusal(cause.type or "refused", cause.message)
        return Refusal("refused", str(e))
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            return Refusal(closed, e.message)
        if e.status in UNANSWERED:
            raise Refused(503, BUSY) from e
        raise
    except (TimeoutError, RPCTimeoutOrCancelledError) as e:
        raise Refused(503, BUSY) from e
    return None
