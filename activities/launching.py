"""Starting a group's RelationshipWorkflow, as a top-level workflow, from the programme.

Top-level rather than a child: a group lives for a year while its programme continues as new
at every phase, and nothing about a group's life should depend on its programme's runs (the
time-skipping test server also stalls when a child of a continued-as-new parent completes).
Idempotent: a retried start of a group already running is a success.
"""

import structlog
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from contracts.messages import RelationshipInput, RelationshipResult, workflow_id
from domain.model import Frozen
from domain.programme.events import GroupFinding, GroupStatus

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


class CheckGroupsInput(Frozen):
    relationship_ids: list[str]


class CheckGroupsResult(Frozen):
    findings: list[GroupFinding]


_STATUS = {
    WorkflowExecutionStatus.COMPLETED: GroupStatus.COMPLETED,
    WorkflowExecutionStatus.FAILED: GroupStatus.FAILED,
    WorkflowExecutionStatus.TERMINATED: GroupStatus.TERMINATED,
    WorkflowExecutionStatus.TIMED_OUT: GroupStatus.TIMED_OUT,
    WorkflowExecutionStatus.CANCELED: GroupStatus.CANCELED,
}


class GroupInspector:
    """What Temporal says of a programme's groups (after the programme's end)."""

    def __init__(self, client: Client):
        self._client = client

    @activity.defn
    async def check_relationships(self, request: CheckGroupsInput) -> CheckGroupsResult:
        """Each group's workflow status, and the outcome of those that completed."""
        return CheckGroupsResult(
            findings=[await self._inspect(rid) for rid in request.relationship_ids]
        )

    async def _inspect(self, rid: str) -> GroupFinding:
        handle = self._client.get_workflow_handle(workflow_id(rid))
        try:
            described = await handle.describe()
        except RPCError as e:
            if e.status != RPCStatusCode.NOT_FOUND:
                raise
            return GroupFinding(
                relationship_id=rid, status=GroupStatus.NOT_FOUND, reason="no such workflow"
            )
        status = _STATUS.get(described.status, GroupStatus.RUNNING) if described.status else None
        if status == GroupStatus.COMPLETED:
            result = RelationshipResult.model_validate(await handle.result())
            return GroupFinding(
                relationship_id=rid, status=status, outcome=result.outcome, reason=result.reason
            )
        status = status or GroupStatus.RUNNING
        log.warning("group_ended_abnormally", workflow_id=handle.id, status=status.value)
        reason = (
            "still running after the programme's end"
            if status == GroupStatus.RUNNING
            else f"its workflow {status.value.replace('_', ' ')}"
        )
        return GroupFinding(relationship_id=rid, status=status, reason=reason)
