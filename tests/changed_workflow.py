"""A deliberately incompatible release of RelationshipWorkflow, for the replay-failure test."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.messages import RelationshipInput, RelationshipResult
    from workflows.relationship import RelationshipWorkflow


@workflow.defn(name="RelationshipWorkflow")
class IncompatiblyChangedWorkflow(RelationshipWorkflow):
    """Adds a timer before the first step, without ``workflow.patched``."""

    @workflow.run
    async def run(self, input: RelationshipInput) -> RelationshipResult:
        await workflow.sleep(timedelta(minutes=1))
        return await super().run(input)
