"""Inputs and results of the workflows: they live in ``contracts.messages`` (activities and entry
points use them without importing workflow code); re-exported here for the workflows' imports."""

from contracts.messages import (
    RESUMING,
    CommandAccepted,
    ProgrammeInput,
    RelationshipInput,
    RelationshipResult,
    programme_workflow_id,
    workflow_id,
)

__all__ = [
    "RESUMING",
    "CommandAccepted",
    "ProgrammeInput",
    "RelationshipInput",
    "RelationshipResult",
    "programme_workflow_id",
    "workflow_id",
]
