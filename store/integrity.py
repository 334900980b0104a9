"""Verifying the event log: gapless positions, consecutive versions, and both hash chains.

The database computes the chains as events are inserted (``migrations/0003_integrity.sql``, with
the hash input of ``migrations/0008_hash_format.sql`` for events stored since);
this module recomputes them from the stored columns, independently, and names the first link
that does not hold. It reads inside one snapshot, so appends going on meanwhile do not matter.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import asyncpg

if TYPE_CHECKING:
    from store.pool import AnyConnection

_SELECT = (
    "SELECT global_position, stream_id, version, event_id::text AS event_id, type,"
    " schema_version, occurred_at, recorded_at, actor, payload::text AS payload_text,"
    " hash_format, stream_hash, global_hash FROM events"
)


@dataclass(frozen=True)
class Broken:
    """The first link that does not hold, and what is wrong with it."""

    problem: str
    global_position: int | None = None
    stream_id: str | None = None
    version: int | None = None


@dataclass
class Verification:
    events: int = 0
    streams: int = 0
    head_position: int = 0
    head_hash: str = ""
    """Hex global hash of the last event: what a checkpoint signs."""
    broken: Broken | None = None
    seconds: float = 0.0
    checkpoint: str | None = field(default=None)
    """Result of checking a signed checkpoint, when one was given."""

    @property
    def ok(self) -> bool:
        return self.broken is None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


def record_text(row: asyncpg.Record | dict[str, Any]) -> bytes:
    """The bytes an event's stream hash covers (``mentorflow_event_bytes`` in SQL).

    Format 1 (events stored before migration 0008): the columns joined with '|', the payload as
    PostgreSQL printed its jsonb. Format 2: length-prefixed fields, the payload as canonical JSON
    (see ``canonical_json``), so the proof does not depend on how a PostgreSQL version prints.
    """
    times = (_utc(row["occurred_at"]), _utc(row["recorded_at"]))
    columns = (
        str(row["global_position"]),
        row["stream_id"],
        str(row["version"]),
        str(row["event_id"]),
        row["type"],
        str(row["schema_version"]),
        *times,
        row["actor"],
    )
    if _format(row) == 1:
        return "|".join((*columns, row["payload_text"])).encode("utf-8")
    payload = canonical_json(json.loads(row["payload_text"], parse_float=Decimal))
    return b"".join(_field(f) for f in ("mentorflow-event-2", *columns, payload))


def canonical_json(value: Any) -> str:
    """Keys sorted by code point, no whitespace, strings escaped as RFC 8785 does, numbers as
    plain decimals (no exponent, no trailing zeros)."""
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{_string(k)}:{canonical_json(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical_json(v) for v in value) + "]"
    if isinstance(value, str):
        return _string(value)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    text = format(Decimal(value), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _field(text: str) -> bytes:
    data = text.encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def _format(row: asyncpg.Record | dict[str, Any]) -> int:
    try:
        return int(row["hash_format"])
    except KeyError:
        return 1


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


async def verify_log(
    conn: "AnyConnection", progress: Callable[[int, int], None] | None = None
) -> Verification:
    """Check the whole log in position order; stop at the first broken link.

    In a read-only snapshot of its own, unless the caller's transaction is one already.
    """
    if not conn.is_in_transaction():
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            return await verify_log(conn, progress)
    result = Verification()
    total = await conn.fetchval("SELECT position FROM log_head")
    versions: dict[str, tuple[int, bytes]] = {}
    previous_global = b""
    position = 0
    async for row in conn.cursor(f"{_SELECT} ORDER BY global_position", prefetch=5000):
        position += 1
        broken = _check_row(row, position, versions, previous_global)
        if broken is not None:
            result.broken = broken
            return result
        previous_global = row["global_hash"]
        versions[row["stream_id"]] = (row["version"], row["stream_hash"])
        result.events = position
        if progress is not None and position % 50_000 == 0:
            progress(position, total)
    result.streams, result.head_position = len(versions), position
    result.head_hash = previous_global.hex()
    result.broken = await _check_heads(conn, position, total, versions)
    return result


async def global_hash_at(conn: "AnyConnection", position: int) -> bytes | None:
    """The global hash of the event at ``position``; None when the log does not reach it."""
    stored: bytes | None = await conn.fetchval(
        "SELECT global_hash FROM events WHERE global_position = $1", position
    )
    return stored


async def verify_stream(conn: "AnyConnection", stream_id: str) -> Verification:
    """Check one stream: versions 1..n with its hash chain, and n as the streams table says."""
    result = Verification()
    rows = await conn.fetch(f"{_SELECT} WHERE stream_id = $1 ORDER BY version", stream_id)
    if not rows:
        result.broken = Broken(f"no events in stream {stream_id}", stream_id=stream_id)
        return result
    previous = b""
    for expected, row in enumerate(rows, start=1):
        where = _where(row)
        if row["version"] != expected:
            result.broken = Broken(f"version {expected} is missing", **where)
            return result
        if _sha(previous + record_text(row)) != row["stream_hash"]:
            result.broken = Broken("stream hash does not match the stored event", **where)
            return result
        previous = row["stream_hash"]
        result.events = expected
    recorded = await conn.fetchval("SELECT version FROM streams WHERE stream_id = $1", stream_id)
    if recorded != len(rows):
        result.broken = Broken(
            f"stream ends at version {len(rows)} but the streams table says {recorded}"
            " (events removed from its tail)",
            stream_id=stream_id,
        )
    result.streams, result.head_position = 1, rows[-1]["global_position"]
    result.head_hash = rows[-1]["stream_hash"].hex()
    return result


def _check_row(
    row: asyncpg.Record,
    position: int,
    versions: dict[str, tuple[int, bytes]],
    previous_global: bytes,
) -> Broken | None:
    where = _where(row)
    if row["global_position"] != position:
        return Broken(
            f"position {position} is missing (the log jumps to {row['global_position']})",
            global_position=position,
        )
    last_version, last_hash = versions.get(row["stream_id"], (0, b""))
    if row["version"] != last_version + 1:
        return Broken(
            f"version {row['version']} follows version {last_version} of its stream", **where
        )
    stream_hash = _sha(last_hash + record_text(row))
    if stream_hash != row["stream_hash"]:
        return Broken("stream hash does not match the stored event", **where)
    if _sha(previous_global + stream_hash) != row["global_hash"]:
        return Broken("global hash does not follow the previous event's", **where)
    return None


async def _check_heads(
    conn: "AnyConnection", last: int, head: int, versions: dict[str, tuple[int, bytes]]
) -> Broken | None:
    if head != last:
        return Broken(
            f"the log ends at position {last} but its head says {head} (events removed from"
            " the tail)",
            global_position=last,
        )
    for row in await conn.fetch("SELECT stream_id, version FROM streams ORDER BY stream_id"):
        found = versions.get(row["stream_id"], (0, b""))[0]
        if found != row["version"]:
            return Broken(
                f"stream ends at version {found} but the streams table says {row['version']}",
                stream_id=row["stream_id"],
            )
    return None


def _where(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "global_position": row["global_position"],
        "stream_id": row["stream_id"],
        "version": row["version"],
    }


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
