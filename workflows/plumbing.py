"""What every Mentorflow workflow does the same way: stamping events, refusing, retrying."""

from datetime import timedelta
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.record_keeping import NON_RETRYABLE
    from domain.errors import RuleViolation
    from domain.events import SYSTEM
    from domain.factory import EventFactory

ACTIVITY_TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=NON_RETRYABLE,
)

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
