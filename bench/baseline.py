"""A bare Temporal workload for comparison: workflows doing only timers and one activity a step."""

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def bare_step(n: int) -> int:
    return n


@workflow.defn
class BareWorkflow:
    """Twelve monthly steps: a 30-day timer, then one activity (what a relationship's year is)."""

    @workflow.run
    async def run(self, steps: int) -> int:
        for n in range(steps):
            await workflow.sleep(timedelta(days=30))
            await workflow.execute_activity(
                bare_step, n, start_to_close_timeout=timedelta(seconds=30)
            )
        return steps
