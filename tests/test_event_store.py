"""The event store on a real PostgreSQL: versions, idempotency, gapless positions, outbox."""

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from store.errors import ConcurrencyConflict, EventIdReused
from store.event_store import EventStore, NewEvent, Notification
from store.migrate import migrate

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def new_event(n: int = 0, notify: tuple[str, ...] = ()) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(),
        type="thing_happened",
        schema_version=1,
        occurred_at=NOW,
        actor="tester",
        payload={"n": n, "nested": {"list": [1, 2]}},
        notification=Notification("reminder", notify) if notify else None,
    )


def stream() -> str:
    return f"test:{uuid.uuid4()}"


async def test_append_then_read_back_in_version_order(store: EventStore):
    """Appended events come back with versions 1..n, their payload and envelope intact."""
    sid, batch = stream(), [new_event(1), new_event(2)]
    result = await store.append(sid, 0, batch)
    assert (result.version, result.already_recorded) == (2, False)
    assert result.last_position - result.first_position == 1
    stored = await store.read_stream(sid)
    assert [(e.version, e.event_id, e.payload) for e in stored] == [
        (1, batch[0].event_id, batch[0].payload),
        (2, batch[1].event_id, batch[1].payload),
    ]
    assert stored[0].occurred_at == NOW


async def test_the_same_batch_again_is_a_success_written_once(store: EventStore):
    """A retried append (same ids, same content) succeeds and stores nothing twice."""
    sid, batch = stream(), [new_event(1), new_event(2, notify=("a1",))]
    first = await store.append(sid, 0, batch)
    again = await store.append(sid, 0, batch)
    assert again.already_recorded
    assert (again.version, again.first_position) == (first.version, first.first_position)
    assert len(await store.read_stream(sid)) == 2
    assert len(await store.outbox(sid)) == 1


async def test_an_event_id_reused_with_other_content_is_an_error(store: EventStore):
    """The same event id with a different payload is refused, and the stream is unchanged."""
    sid, original = stream(), new_event(1)
    await store.append(sid, 0, [original])
    forged = NewEvent(**{**original.__dict__, "payload": {"n": 999}})
    with pytest.raises(EventIdReused, match=str(original.event_id)):
        await store.append(sid, 0, [forged])
    assert [e.payload for e in await store.read_stream(sid)] == [original.payload]


async def test_a_stale_expected_version_is_a_conflict(store: EventStore):
    """A writer that did not see the latest version is refused; nothing it sent is stored."""
    sid = stream()
    await store.append(sid, 0, [new_event(1)])
    with pytest.raises(ConcurrencyConflict, match="at version 1, expected 0"):
        await store.append(sid, 0, [new_event(2)])
    assert len(await store.read_stream(sid)) == 1


async def test_notifications_become_outbox_rows_keyed_by_event_id(store: EventStore):
    """Only events that notify someone get an outbox row, with their kind and recipients."""
    sid, batch = stream(), [new_event(1), new_event(2, notify=("m1", "a1"))]
    await store.append(sid, 0, batch)
    assert await store.outbox(sid) == [(batch[1].event_id, "reminder", ["m1", "a1"])]


async def test_concurrent_writers_get_gapless_positions_and_lose_nothing(
    store: EventStore, pool: asyncpg.Pool
):
    """12 writers x 25 appends over 6 streams: every event stored once, positions gapless."""
    streams = [stream() for _ in range(6)]
    written: list[uuid.UUID] = []

    async def writer(n: int) -> None:
        sid = streams[n % len(streams)]
        for i in range(25):
            while True:  # a writer that loses the race reads the new version and tries again
                version = len(await store.read_stream(sid))
                batch = [new_event(i)]
                try:
                    await store.append(sid, version, batch)
                except ConcurrencyConflict:
                    continue
                written.append(batch[0].event_id)
                break

    await asyncio.gather(*(writer(n) for n in range(12)))
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT global_position, event_id FROM events WHERE stream_id = ANY($1::text[])",
            streams,
        )
        positions = sorted(
            r["global_position"] for r in (await conn.fetch("SELECT global_position FROM events"))
        )
    assert sorted(r["event_id"] for r in rows) == sorted(written)
    assert len(written) == 300
    assert positions == list(range(1, len(positions) + 1))
    for sid in streams:
        assert [e.version for e in await store.read_stream(sid)] == list(range(1, 51))


async def test_migrations_apply_once(pool: asyncpg.Pool):
    """Running the migrations again (a second worker starting) applies nothing."""
    assert await migrate(pool) == []
