"""Shared base models and the people of a mentoring group."""

from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class Frozen(BaseModel):
    """Immutable value, unknown fields rejected: what a user mistypes is an error, not ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        """Itself: an immutable value is shared by copies, as ``str`` and ``tuple`` are (a fold's
        deep copy of a state no longer copies its policy and zone at every event)."""
        return self


class State(BaseModel):
    """What a fold rebuilds (an aggregate's state and its parts), unknown fields rejected.

    Not frozen: a fold builds a private deep copy and applies events to it in place.
    """

    model_config = ConfigDict(extra="forbid")


Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
"""Ids reach Temporal and logs in plain text: letters, digits, ``.``, ``_``, ``-`` only."""

PersonId = str
"""An opaque participant id from the HR export (never a name or e-mail: ids reach Temporal)."""


STAFF_ACTOR = "staff:"
"""The prefix of a staff member's actor id (``staff:<staff id>``): how the web app names a member
who acts in no directory role, so the record says which member it was."""


def staff_actor(staff_id: str) -> str:
    """The actor id of staff member ``staff_id``."""
    return f"{STAFF_ACTOR}{staff_id}"


class Authority(StrEnum):
    """The authority a command is sent with, besides the person ``by`` names.

    Set only by an entry point from what it established itself (the web app: the signed-in staff
    member's role, read from the ``staff`` table), never taken from a request's body: the domain
    decides from it like from any other data of the command, and whoever can send a workflow an
    Update at all is already trusted with the programme (the entry points, the CLI). ``by`` stays
    the member's own id, so the events say who did it.
    """

    PERSON = "person"
    """Only what the person ``by`` names may do (every participant's command, and a coordinator
    acting as themselves)."""
    ADMIN = "admin"
    """A staff admin, who acts on every programme and its groups as their coordinator would."""


def steers(by: str, authority: Authority, coordinator: str) -> bool:
    """Whether ``by`` with ``authority`` may do what only the coordinator may: the coordinator
    themselves, or a staff admin under their own staff id."""
    return by == coordinator or (authority == Authority.ADMIN and by.startswith(STAFF_ACTOR))


class Role(StrEnum):
    MENTOR = "mentor"
    MENTEE = "mentee"


class Member(Frozen):
    """A person's place in a group."""

    person_id: PersonId = Field(min_length=1, max_length=128)
    role: Role
