"""The event codec on a real PostgreSQL: a stored v1 event is read as v2 through its upcaster,
a record newer than the code is refused, and one codec reads either aggregate's records."""

import uuid
from datetime import UTC, datetime
from typing import Annotated, ClassVar, Literal

import pytest
from pydantic import Field

from domain.codec import ANY, Codec, encode
from domain.envelope import Event
from domain.errors import UnknownEventVersion
from domain.programme.events import PhaseEntered, ProgrammePhase
from domain.relationship.events import Paused
from store.event_store import EventStore, NewEvent

NOW = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


class Rated(Event):
    """Version 2: a score says its scale (version 1 scores were all out of five)."""

    SCHEMA_VERSION: ClassVar[int] = 2
    type: Literal["rated"] = "rated"
    score: int
    scale: int


class Noted(Event):
    type: Literal["noted"] = "noted"
    subject: str


CODEC = Codec[Rated | Noted](
    Annotated[Rated | Noted, Field(discriminator="type")],
    upcasters={("rated", 1): lambda payload: {**payload, "scale": 5}},
)


def stored(
    type_: str, version: int, payload: dict[str, object], event_id: uuid.UUID | None = None
) -> NewEvent:
    return NewEvent(event_id or uuid.uuid4(), type_, version, NOW, "m1", payload)


async def test_a_stored_v1_event_is_read_as_v2(store: EventStore) -> None:
    """A record written by version 1 of the class comes back as the current class, upcast."""
    stream = f"test:{uuid.uuid4()}"
    await store.append(stream, 0, [stored("rated", 1, {"score": 4})])
    [record] = await store.read_stream(stream)
    assert record.schema_version == 1
    event = CODEC.decode(record)
    assert event == Rated(event_id=record.event_id, occurred_at=NOW, actor="m1", score=4, scale=5)


async def test_a_current_event_round_trips_at_its_version(store: EventStore) -> None:
    """encode gives the class's current version; decode reads it back equal, no upcasting."""
    event = Rated(event_id=uuid.uuid4(), occurred_at=NOW, actor="m1", score=7, scale=10)
    encoded = encode(event)
    assert (encoded.type, encoded.schema_version) == ("rated", 2)
    assert encoded.payload == {"score": 7, "scale": 10}
    stream = f"test:{uuid.uuid4()}"
    record = stored(encoded.type, encoded.schema_version, encoded.payload, event.event_id)
    await store.append(stream, 0, [record])
    [record] = await store.read_stream(stream)
    assert CODEC.decode(record) == event


async def test_a_record_newer_than_the_code_is_refused(store: EventStore) -> None:
    """Version 3 of ``rated`` (written by newer code) is an error in one line, not a guess."""
    stream = f"test:{uuid.uuid4()}"
    await store.append(stream, 0, [stored("rated", 3, {"score": 4, "scale": 5})])
    [record] = await store.read_stream(stream)
    with pytest.raises(UnknownEventVersion, match=r"^rated version 3 is newer than this code's 2$"):
        CODEC.decode(record)


def test_an_old_version_without_an_upcaster_is_refused() -> None:
    """Version 0 has no upcaster: refused, naming the type and version."""
    with pytest.raises(UnknownEventVersion, match=r"^no upcaster for rated version 0$"):
        CODEC.upcast("rated", 0, {"score": 4})


async def test_one_codec_reads_either_aggregate(store: EventStore) -> None:
    """ANY reads a relationship's and a programme's records without guessing from the first."""
    events = [
        Paused(event_id=uuid.uuid4(), occurred_at=NOW, actor="c1", reason="holiday"),
        PhaseEntered(
            event_id=uuid.uuid4(), occurred_at=NOW, actor="c1", phase=ProgrammePhase.MATCHING
        ),
    ]
    stream = f"test:{uuid.uuid4()}"
    new = []
    for e in events:
        encoded = encode(e)
        new.append(
            NewEvent(e.event_id, encoded.type, encoded.schema_version, NOW, "c1", encoded.payload)
        )
    await store.append(stream, 0, new)
    assert [ANY.decode(r) for r in await store.read_stream(stream)] == events
