"""Inputs and results of RelationshipWorkflow (its Updates take the domain's commands)."""

from uuid import UUID

from domain.commands import RelationshipSpec
from domain.events import Outcome
from domain.state import RelationshipState
from pydantic import BaseModel, ConfigDict


class RelationshipInput(BaseModel):
    """Start a relationship from ``spec``; after continue-as-new, ``carried_state`` too."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    spec: RelationshipSpec
    carried_state: RelationshipState | None = None


class CommandAccepted(BaseModel):
    """What an accepted Update recorded."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    relationship_id: str
    version: int
    event_ids: list[UUID]


class RelationshipResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    relationship_id: str
    outcome: Outcome
    reason: str
    version: int


def workflow_id(relationship_id: str) -> str:
    """Temporal id of a relationship; ids only, never personal data (Temporal stores it plainly)."""
    return f"relationship:{relationship_id}"
