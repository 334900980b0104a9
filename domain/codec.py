"""The event codec: the one way events become stored records and stored records become events.

``encode(event)`` gives the columns the store keeps besides the envelope (``type``,
``schema_version``, ``payload``); ``decode(record)`` reads them back. A record stored by an older
version of an event class (its ``schema_version`` below the class's ``SCHEMA_VERSION``) goes
through the upcasters registered for its type, one version at a time, before it is validated, so
that folds only ever see current events. A record newer than the code is refused in one line.

One codec per aggregate (``RELATIONSHIP``, ``PROGRAMME``) decodes into that aggregate's union;
``ANY`` decodes a record of either stream (the postman, who serves both).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, Protocol, TypeVar, Union, get_args
from uuid import UUID

from pydantic import Field, TypeAdapter

from domain.envelope import Event
from domain.errors import UnknownEventVersion
from domain.programme.events import ProgrammeEvent
from domain.relationship.events import RelationshipEvent

E = TypeVar("E", bound=Event)

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]
"""Turns the payload of version n of an event type into the payload of version n + 1."""

_ENVELOPE = {"event_id", "occurred_at", "actor", "type"}


class StoredRecord(Protocol):
    """What the codec reads of a stored event (``store.event_store.RecordedEvent`` is one)."""

    @property
    def type(self) -> str: ...
    @property
    def schema_version(self) -> int: ...
    @property
    def event_id(self) -> UUID: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def payload(self) -> Payload: ...


class Row(Protocol):
    """A database row of the events table, read by column name (an ``asyncpg.Record``)."""

    def __getitem__(self, column: str, /) -> Any: ...


@dataclass(frozen=True)
class Encoded:
    """An event's stored columns besides its envelope (id, time, actor)."""

    type: str
    schema_version: int
    payload: Payload
    """The event's own fields as JSON."""


@dataclass(frozen=True)
class _Row:
    type: str
    schema_version: int
    event_id: UUID
    occurred_at: datetime
    actor: str
    payload: Payload


def encode(event: Event) -> Encoded:
    """The stored form of an event: its type, its class's current version and its fields."""
    return Encoded(
        type=event.type,
        schema_version=event.SCHEMA_VERSION,
        payload=event.model_dump(mode="json", exclude=_ENVELOPE),
    )


class Codec(Generic[E]):
    """Decodes stored records into one union of events, upcasting old versions."""

    def __init__(self, union: Any, upcasters: Mapping[tuple[str, int], Upcaster] | None = None):
        """``union`` is an annotated union discriminated on ``type``; ``upcasters`` maps
        (type, version n) to the function that lifts a version-n payload to version n + 1."""
        self._adapter = TypeAdapter[E](union)
        self._versions = {
            cls.model_fields["type"].default: cls.SCHEMA_VERSION for cls in _members(union)
        }
        self._upcasters = dict(upcasters or {})

    def decode(self, record: StoredRecord, payload: Payload | None = None) -> E:
        """The event a record holds (``payload`` replaces the record's, e.g. once opened)."""
        data = self.upcast(
            record.type, record.schema_version, record.payload if payload is None else payload
        )
        envelope = {"type": record.type, "event_id": record.event_id, "actor": record.actor}
        return self._adapter.validate_python(
            {**data, **envelope, "occurred_at": record.occurred_at}
        )

    def decode_row(self, row: Row) -> E:
        """The event a database row of the events table holds (columns by name)."""
        return self.decode(_Row(**{f: row[f] for f in _Row.__dataclass_fields__}))

    def upcast(self, type_: str, version: int, payload: Payload) -> Payload:
        """A payload of ``version`` brought to the current version of its type."""
        current = self._versions.get(type_)
        if current is None:
            raise UnknownEventVersion(f"unknown event type {type_!r}")
        if version > current:
            raise UnknownEventVersion(
                f"{type_} version {version} is newer than this code's {current}"
            )
        while version < current:
            step = self._upcasters.get((type_, version))
            if step is None:
                raise UnknownEventVersion(f"no upcaster for {type_} version {version}")
            payload, version = step(payload), version + 1
        return payload


def _members(union: Any) -> list[type[Event]]:
    """The event classes of an ``Annotated[A | B | ..., Field(...)]`` union (or a plain one)."""
    inner = get_args(union)[0] if hasattr(union, "__metadata__") else union
    return list(get_args(inner) or (inner,))


def _either(*unions: Any) -> Any:
    """One discriminated union of the event classes of several (each class once)."""
    classes = tuple(dict.fromkeys(cls for union in unions for cls in _members(union)))
    return Annotated[Union[classes], Field(discriminator="type")]  # noqa: UP007 - built at run time


RELATIONSHIP = Codec[RelationshipEvent](RelationshipEvent)
PROGRAMME = Codec[ProgrammeEvent](ProgrammeEvent)
ANY = Codec[Event](_either(RelationshipEvent, ProgrammeEvent))
"""Either stream's records (the postman's: it serves both)."""
