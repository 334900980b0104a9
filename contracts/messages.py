"""Inputs and results of the workflows and their Temporal ids (the Updates take the domain's
commands); ``workflows.messages`` re-exports them."""

from uuid import UUID

from pydantic import Field, field_validator

from domain.calendar import ProgrammeCalendar
from domain.envelope import Outcome
from domain.model import Frozen
from domain.programme.model import Profile, Programme
from domain.programme.state import ProgrammeState
from domain.relationship.commands import RelationshipSpec
from domain.relationship.state import RelationshipState


class RelationshipInput(Frozen):
    """Start a relationship from ``spec``; after continue-as-new, ``carried_state`` too."""

    spec: RelationshipSpec
    carried_state: RelationshipState | None = None


class CommandAccepted(Frozen):
    """What an accepted Update recorded, on the relationship or programme ``id``."""

    id: str
    version: int
    event_ids: list[UUID]


class RelationshipResult(Frozen):
    relationship_id: str
    outcome: Outcome
    reason: str
    version: int


LAUNCH_BATCH = 50
"""Groups started at once and recorded in one append, by default (one fold of the state per batch,
not per group: a programme of 1,000 groups launched one by one spent minutes folding)."""


class ProgrammeInput(Frozen):
    """Start a programme; after continue-as-new, ``carried_state`` too.

    Participants are profiles only: names and addresses stay in the database, out of Temporal.
    ``mentorflow programme start`` stages them in the store instead (``cohort_staged``).
    """

    programme: Programme
    calendar: ProgrammeCalendar
    participants: list[Profile]
    carried_state: ProgrammeState | None = None
    cohort_staged: bool = False
    """The cohort is staged in the store (``store.cohorts``), ``participants`` empty: the start
    reads it there, so that a cohort of any size stays out of Temporal's payloads."""
    resume: bool = False
    """A run continued from another: its state is read from the programme's stored events."""
    launch_batch: int = Field(default=LAUNCH_BATCH, ge=1)
    """Groups launched per step (carried into the next run). Inputs recorded before it have none
    and launch ``LAUNCH_BATCH``, as they did; a test launches a small cohort in several steps."""

    @field_validator("programme", mode="after")
    @classmethod
    def _coordinator_by_id(cls, programme: Programme) -> Programme:
        """The coordinator travels by id: the contact stays in the directory, out of Temporal.

        An input recorded before this still holds the contact; it is dropped here, never used.
        """
        return programme.model_copy(update={"coordinator": programme.coordinator.reference()})

    @field_validator("carried_state", mode="after")
    @classmethod
    def _carried_coordinator_by_id(cls, state: ProgrammeState | None) -> ProgrammeState | None:
        """A programme started before carries the contact in its state: not into the next run."""
        if state is None:
            return None
        programme = cls._coordinator_by_id(state.programme)
        return state.model_copy(update={"programme": programme})


RESUMING = "the programme is reading its state from the record (a new run); ask again in a moment"
"""The ``state`` query's refusal in the moment a new run reads its state (``resume``)."""


def programme_workflow_id(programme_id: str) -> str:
    return f"programme:{programme_id}"


def workflow_id(relationship_id: str) -> str:
    """Temporal id of a relationship; ids only, never personal data (Temporal stores it plainly)."""
    return f"relationship:{relationship_id}"
