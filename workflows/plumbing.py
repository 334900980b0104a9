"""What every Mentorflow workflow does the same way: stamping events, refusing, retrying,
delivering notifications."""

from collections.abc import Collection, Sequence
from datetime import timedelta
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.archiving import ArchiveInput, Archivist
    from activities.mail.postman import DeliverInput, Postman
    from activities.record_keeping import NON_RETRYABLE
    from contracts.errors import INVALID_DATA, INVALID_EVENT_DATA, NOT_RECORDED
    from contracts.errors import NOT_STARTED as NOT_STARTED  # the workflows' refusal, re-exported
    from domain.delivery import failure_events, to_deliver
    from domain.envelope import SYSTEM, DeliveryFailed, Event
    from domain.errors import RuleViolation
    from domain.factory import EventFactory

ACTIVITY_TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=NON_RETRYABLE,
)

RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    # About three minutes: long enough for a database failover, short enough that a person's
    # Update is answered and the workflow's timers keep firing. What the store would never take
    # (InvalidEventData) is not retried at all.
    maximum_attempts=10,
    non_retryable_error_types=NON_RETRYABLE,
)
"""For every activity a workflow runs while it decides (under its lock): bounded."""

TRY_AGAIN_AFTER = timedelta(minutes=5)
"""When a workflow's own step could not be recorded, it sleeps this long (lock released)."""

RECORDING_FAILURES = (INVALID_DATA, NOT_RECORDED)
"""Types of the refusal an Update gets when its events could not be recorded."""

DELIVERY_PATCH = "deliver-notifications"
"""Histories recorded before delivery existed run on without it (see README, Upgrades)."""

ARCHIVE_PATCH = "archive-histories"

_NIL_ID = UUID(int=0)


def factory(actor: str = SYSTEM) -> EventFactory:
    """Events stamped with workflow time and deterministic ids (the same ids on replay)."""
    return EventFactory(workflow.now(), workflow.uuid4, actor=actor)


def validation_factory(actor: str) -> EventFactory:
    """For Update validators, whose events are thrown away.

    A validator must not consume workflow randomness: a rejected update leaves no trace in the
    history, so replay would draw different ids afterwards.
    """
    return EventFactory(workflow.now(), lambda: _NIL_ID, actor=actor)


def rejected(violation: RuleViolation) -> ApplicationError:
    """A broken business rule, for the caller: its code as the type, never retried."""
    return ApplicationError(str(violation), type=violation.code, non_retryable=True)


def not_recorded(error: ActivityError) -> tuple[ApplicationError, bool]:
    """The refusal for a step whose recording failed, and whether it is in doubt.

    The database refusing the content is final and nothing was written. Anything else (retries
    exhausted, a timeout, a conflict) may have committed after all: the caller must read the
    stream again before it decides anything more.
    """
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type == INVALID_EVENT_DATA:
        refusal = ApplicationError(
            "the request holds data the record cannot store; nothing was recorded",
            type=INVALID_DATA,
            non_retryable=True,
        )
        return refusal, False
    refusal = ApplicationError(
        "the request could not be recorded now (the record is unavailable); try again later",
        type=NOT_RECORDED,
        non_retryable=True,
    )
    return refusal, True


async def deliver(
    programme_id: str,
    coordinator_id: str,
    unreachable: Collection[str],
    events: Sequence[Event],
) -> list[DeliveryFailed]:
    """Send the notifications of events just recorded; return the events to record about the
    recipients never reached (the coordinator is told of each person once, see
    ``domain.delivery``).

    Transient SMTP trouble is retried here (with back-off, for as long as it takes).
    """
    ids = to_deliver(events)
    if not ids or not workflow.patched(DELIVERY_PATCH):
        return []
    report = await workflow.execute_activity_method(
        Postman.deliver_notifications,
        DeliverInput(programme_id=programme_id, event_ids=ids),
        # A notification to everyone in a large programme is hundreds of messages.
        start_to_close_timeout=timedelta(minutes=10),
        heartbeat_timeout=timedelta(seconds=45),
        retry_policy=RETRY,
    )
    return failure_events(report.failed, coordinator_id, unreachable, factory())


async def archive_previous_run() -> None:
    """At the start of a run continued from another: archive that one (it has closed)."""
    info = workflow.info()
    if info.continued_run_id is not None and workflow.patched(ARCHIVE_PATCH):
        await _archive(info.workflow_id, info.continued_run_id, complete=True)


async def archive_this_run() -> None:
    """As the workflow closes: archive its last run, up to this point."""
    info = workflow.info()
    if workflow.patched(ARCHIVE_PATCH):
        await _archive(info.workflow_id, info.run_id, complete=False)


async def _archive(workflow_id: str, run_id: str, complete: bool) -> None:
    await workflow.execute_activity_method(
        Archivist.archive_history,
        ArchiveInput(workflow_id=workflow_id, run_id=run_id, complete=complete),
        start_to_close_timeout=timedelta(minutes=2),
        retry_policy=RETRY,
    )
