"""Starting a group's RelationshipWorkflow, as a top-level workflow, from the programme.

Top-level rather than a child: a group lives for a year while its programme continues as new
at every phase, and nothing about a group's life should depend on its programme's runs (the
time-skipping test server also stalls when a child of a continued-as-new parent completes).
Idempotent: a retried start of a group already running is a success.
"""

import structlog
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from workflows.messages import RelationshipInput, workflow_id

log = structlog.get_logger(__name__)


class Launcher:
    def __init__(self, client: Client, task_queue: str):
        self._client, self._task_queue = client, task_queue

    @activity.defn
    async def launch_relationship(self, request: RelationshipInput) -> str:
        """Start the group's workflow (once); return its workflow id."""
        wid = workflow_id(request.spec.relationship_id)
        try:
            await self._client.start_workflow(
                "RelationshipWorkflow", request, id=wid, task_queue=self._task_queue
            )
            log.info("relationship_launched", workflow_id=wid)
        except WorkflowAlreadyStartedError:
            log.info("relationship_already_running", workflow_id=wid)
        return wid
