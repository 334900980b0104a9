"""Shared base models and the people of a mentoring group."""

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class Frozen(BaseModel):
    """Immutable value, unknown fields rejected: what a user mistypes is an error, not ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class State(BaseModel):
    """What a fold rebuilds (an aggregate's state and its parts), unknown fields rejected.

    Not frozen: a fold builds a private deep copy and applies events to it in place.
    """

    model_config = ConfigDict(extra="forbid")


Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
"""Ids reach Temporal and logs in plain text: letters, digits, ``.``, ``_``, ``-`` only."""

PersonId = str
"""An opaque participant id from the HR export (never a name or e-mail: ids reach Temporal)."""


class Role(StrEnum):
    MENTOR = "mentor"
    MENTEE = "mentee"


class Member(Frozen):
    """A person's place in a group."""

    person_id: PersonId = Field(min_length=1, max_length=128)
    role: Role
