"""RetentionWorkflow: run daily by the Temporal Schedule ``privacy-retention``; erases the
personal data of closed programmes past their ``retention.personal_data``.

One short run per day: who is due (an activity reads the directory and the closures), then one
erasure activity per person, each recorded in ``privacy:erasures`` by ``system:retention``.
A person still in an open programme, or in one still within its retention, is kept.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.retention import DueErasure, DueInput, RetentionKeeping, RetentionResult

RETENTION_SCHEDULE = "privacy-retention"
"""The Temporal Schedule's id, and the prefix of its runs' workflow ids (ids only)."""

RETRY = RetryPolicy(maximum_attempts=5, non_retryable_error_types=["PrivacyError"])


@workflow.defn
class RetentionWorkflow:
    @workflow.run
    async def run(self) -> RetentionResult:
        plan = await workflow.execute_activity_method(
            RetentionKeeping.due_erasures,
            DueInput(now=workflow.now()),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
        )
        erased = []
        for order in plan.erase:
            done = await workflow.execute_activity_method(
                RetentionKeeping.erase_for_retention,
                DueErasure(person_id=order.person_id, reason=order.reason),
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=RETRY,
            )
            if done.erased:
                erased.append(order.person_id)
        return RetentionResult(erased=erased, kept=[k.person_id for k in plan.kept])
