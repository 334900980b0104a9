"""Shared base model and the people of a mentoring group."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    """Immutable value, unknown fields rejected: what a user mistypes is an error, not ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")


PersonId = str
"""An opaque participant id from the HR export (never a name or e-mail: ids reach Temporal)."""


class Role(StrEnum):
    MENTOR = "mentor"
    MENTEE = "mentee"


class Member(Frozen):
    """A person's place in a group."""

    person_id: PersonId = Field(min_length=1, max_length=128)
    role: Role
