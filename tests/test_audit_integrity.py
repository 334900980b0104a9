"""Tamper evidence of the event log, on a database of its own (the tampering needs a superuser,
as an attacker with one would; the application's own writes cannot do any of it)."""

import asyncio
import hashlib
import json
import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import asyncpg
import pytest
import pytest_asyncio

from mentorflow.audit.checkpoint import check, load_or_create_key, sign
from store.deliveries import DeliveryLog, DeliveryState
from store.directory import Contact, Directory, ProgrammeEntry
from store.event_store import EventStore, NewEvent, Notification
from store.integrity import canonical_json, record_text, verify_log, verify_stream
from store.migrate import available, migrate
from store.pool import create_pool
from worker import open_database

STREAMS = [f"relationship:audit-{n}" for n in range(5)]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest_asyncio.fixture(scope="module")
async def audit_url(database_url):
    name = f"audit_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(database_url)
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    return urlsplit(database_url)._replace(path=f"/{name}").geturl()


@pytest_asyncio.fixture(scope="module")
async def audit_pool(audit_url):
    pool = await create_pool(audit_url)
    await migrate(pool)
    store = EventStore(pool)
    # 200 events over five interleaved streams, some in batches, some with outbox rows.
    for i in range(40):
        for s, stream in enumerate(STREAMS):
            batch = [event(i * 10 + s, k) for k in range(1 + (i + s) % 2)]
            version = await pool.fetchval(
                "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", stream
            )
            await store.append(stream, version, batch)
    yield pool
    await pool.close()


def event(n: int, k: int) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(),
        type="meeting_recorded",
        schema_version=1,
        occurred_at=T0 + timedelta(hours=n, minutes=k),
        actor=f"m{n % 7}",
        payload={"number": n, "held": n % 3 != 0, "attendees": ["m1", f"a{k}"], "note": "ok ä"},
    )


async def tampered(pool, *statements):
    """Verify the whole log inside a transaction that changes it and is then rolled back."""
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            await conn.execute("SET LOCAL session_replication_role = replica")  # no triggers
            for sql, *args in statements:
                await conn.execute(sql, *args)
            return await verify_log(conn)
        finally:
            await tx.rollback()


async def test_a_correct_log_verifies(audit_pool):
    async with audit_pool.acquire() as conn:
        result = await verify_log(conn)
        stream = await verify_stream(conn, STREAMS[2])
    assert result.ok and stream.ok
    assert (
        result.events
        == result.head_position
        == await audit_pool.fetchval("SELECT count(*) FROM events")
    )
    assert result.streams == len(STREAMS)


async def test_the_application_role_cannot_rewrite_history(audit_pool):
    """Even the owner: UPDATE, DELETE and TRUNCATE are refused by triggers."""
    for sql in (
        "UPDATE events SET actor = 'x' WHERE global_position = 1",
        "DELETE FROM events WHERE global_position = 1",
        "TRUNCATE events CASCADE",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await audit_pool.execute(sql)


async def test_the_writer_role_has_no_right_to_rewrite_either(audit_pool):
    """The role a deployment's worker logs in with: INSERT and SELECT on events, no more."""
    async with audit_pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL ROLE mentorflow_writer")
        assert await conn.fetchval("SELECT count(*) FROM events") > 0
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="must be owner"):
            await conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
    async with audit_pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL ROLE mentorflow_writer")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await conn.execute("DELETE FROM events WHERE global_position = 1")


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


async def test_every_tamper_case_is_detected_at_its_place(audit_pool):
    last = await audit_pool.fetchval("SELECT position FROM log_head")
    row50 = await audit_pool.fetchrow(
        "SELECT stream_id, version FROM events WHERE global_position = 50"
    )
    later = await audit_pool.fetchval(
        "SELECT global_position FROM events WHERE stream_id = $1 AND version = $2",
        row50["stream_id"],
        row50["version"] + 1,
    )

    edited = await tampered(
        audit_pool,
        (
            "UPDATE events SET payload = jsonb_set(payload, '{number}', '999')"
            " WHERE global_position = 50",
        ),
    )
    assert (edited.broken.global_position, edited.broken.problem) == (
        50,
        "stream hash does not match the stored event",
    )

    deleted = await tampered(audit_pool, ("DELETE FROM events WHERE global_position = 50",))
    assert deleted.broken.global_position == 50 and "missing" in deleted.broken.problem

    swapped = await tampered(
        audit_pool,
        (
            "UPDATE events e SET payload = o.payload FROM events o"
            " WHERE (e.global_position, o.global_position) IN ((50, $1), ($1, 50))",
            later,
        ),
    )
    assert swapped.broken.global_position == 50

    cut = await tampered(audit_pool, ("DELETE FROM events WHERE global_position > $1", last - 3))
    assert cut.broken.global_position == last - 3 and "tail" in cut.broken.problem

    # A forger edits event 50 and recomputes its hashes: the next link gives it away.
    async with audit_pool.acquire() as conn:
        row = dict(
            await conn.fetchrow(
                "SELECT global_position, stream_id, version, event_id::text AS event_id, type,"
                " schema_version, occurred_at, recorded_at, actor, hash_format,"
                " jsonb_set(payload, '{number}', '999')::text AS payload_text FROM events"
                " WHERE global_position = 50"
            )
        )
        before = await conn.fetchval(
            "SELECT stream_hash FROM events WHERE stream_id = $1 AND version = $2",
            row["stream_id"],
            row["version"] - 1,
        )
        previous_global = await conn.fetchval(
            "SELECT global_hash FROM events WHERE global_position = 49"
        )
    stream_hash = sha((before or b"") + record_text(row))
    rehashed = await tampered(
        audit_pool,
        (
            "UPDATE events SET payload = jsonb_set(payload, '{number}', '999'),"
            " stream_hash = $1, global_hash = $2 WHERE global_position = 50",
            stream_hash,
            sha(previous_global + stream_hash),
        ),
    )
    # Event 51 links to 50 through the global chain (and, here, through its stream's too).
    assert rehashed.broken.global_position == 51
    assert rehashed.broken.problem in (
        "global hash does not follow the previous event's",
        "stream hash does not match the stored event",
    )
    assert later == 51


def mutate(rng: random.Random, text: str, json_valid: bool) -> str:
    """``text`` with one letter or digit replaced by another (still JSON, when it was).

    Ids get letters no id here contains, so a mutated stream id never lands on another stream's
    existing version (which the unique constraint would refuse).
    """
    alphabet = "abcxyz0123456789" if json_valid else "qxz"
    while True:
        i = rng.choice([n for n, c in enumerate(text) if c.isalnum()])
        replacement = rng.choice([c for c in alphabet if c != text[i]])
        mutated = text[:i] + replacement + text[i + 1 :]
        if not json_valid:
            return mutated
        try:
            json.loads(mutated)
            return mutated
        except ValueError:
            continue


async def test_a_thousand_random_single_byte_mutations_are_all_detected(audit_pool):
    rng = random.Random(6)
    rows = {
        r["global_position"]: dict(r)
        for r in await audit_pool.fetch(
            "SELECT global_position, stream_id, type, actor, payload::text AS payload FROM events"
        )
    }
    kinds: Counter[str] = Counter()
    for _ in range(1000):
        position = rng.choice(list(rows))
        kind = rng.choice(["payload", "actor", "type", "stream_id", "occurred_at", "hash"])
        if kind == "occurred_at":
            statement = (
                "UPDATE events SET occurred_at = occurred_at + $2 WHERE global_position = $1",
                position,
                timedelta(microseconds=rng.randint(1, 10**6)),
            )
        elif kind == "hash":
            column = rng.choice(["stream_hash", "global_hash"])
            statement = (
                f"UPDATE events SET {column} = set_byte({column}, $2,"
                f" get_byte({column}, $2) # (1 << $3)) WHERE global_position = $1",
                position,
                rng.randrange(32),
                rng.randrange(8),
            )
        else:
            mutated = mutate(rng, rows[position][kind], json_valid=kind == "payload")
            cast = "::jsonb" if kind == "payload" else ""
            statement = (
                f"UPDATE events SET {kind} = $2{cast} WHERE global_position = $1",
                position,
                mutated,
            )
        result = await tampered(audit_pool, statement)
        assert not result.ok, (kind, position, statement)
        kinds[kind] += 1
    assert sum(kinds.values()) == 1000 and len(kinds) == 6


async def test_a_signed_checkpoint_catches_a_tail_cut_and_re_headed(audit_pool, tmp_path):
    """Remove the last events and rewind the heads: the chain alone looks whole, the checkpoint
    taken before does not."""
    async with audit_pool.acquire() as conn:
        before = await verify_log(conn)
    key = load_or_create_key(tmp_path / "audit.key")
    checkpoint = sign(key, before.head_position, before.head_hash, datetime.now(UTC))
    assert load_or_create_key(tmp_path / "audit.key").public_key() is not None
    trusted = checkpoint.public_key  # the auditor's own copy of the key: this test signed it
    async with audit_pool.acquire() as conn:
        assert await check(conn, checkpoint, trusted_key=trusted) is None
        tx = conn.transaction()
        await tx.start()
        try:
            await conn.execute("SET LOCAL session_replication_role = replica")
            cut = before.head_position - 2
            await conn.execute("DELETE FROM events WHERE global_position > $1", cut)
            await conn.execute("UPDATE log_head SET position = $1", cut)
            await conn.execute(
                "UPDATE streams s SET version = (SELECT max(version) FROM events e"
                " WHERE e.stream_id = s.stream_id)"
            )
            assert (await verify_log(conn)).ok  # consistent, and shorter
            problem = await check(conn, checkpoint, trusted_key=trusted)
        finally:
            await tx.rollback()
    assert problem is not None and "no longer reaches position" in problem
    forged = checkpoint.model_copy(update={"position": checkpoint.position - 1})
    async with audit_pool.acquire() as conn:
        assert "signature is not valid" in (await check(conn, forged, trusted_key=trusted) or "")


async def test_concurrent_appends_from_many_writers_give_a_gapless_chained_log(audit_pool):
    """12 writers, 30 streams, 600 appends at once: positions 1..n without a gap, every event
    once, and both chains verify."""
    store = EventStore(audit_pool)
    before = await audit_pool.fetchval("SELECT position FROM log_head")
    streams = [f"relationship:busy-{uuid.uuid4().hex[:6]}-{n}" for n in range(30)]
    written: list[uuid.UUID] = []

    async def writer(w: int) -> None:
        rng = random.Random(w)
        for _ in range(50):
            stream = rng.choice(streams)
            batch = [event(w, k) for k in range(rng.randint(1, 3))]
            while True:
                version = await audit_pool.fetchval(
                    "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", stream
                )
                try:
                    await store.append(stream, version, batch)
                    break
                except Exception as e:  # another writer got there first: read and try again
                    assert type(e).__name__ == "ConcurrencyConflict", e
            written.extend(e.event_id for e in batch)

    await asyncio.gather(*(writer(w) for w in range(12)))
    rows = await audit_pool.fetch(
        "SELECT global_position, event_id FROM events WHERE global_position > $1"
        " ORDER BY global_position",
        before,
    )
    assert [r["global_position"] for r in rows] == list(range(before + 1, before + 1 + len(rows)))
    assert sorted(r["event_id"] for r in rows) == sorted(written)
    async with audit_pool.acquire() as conn:
        assert (await verify_log(conn)).ok


async def test_a_worker_logged_in_as_a_writer_does_its_work_but_cannot_rewrite(
    audit_pool, audit_url
):
    """The deployment's worker role (README, Operations): every write the application makes
    works; rewriting, deleting or disarming the log does not."""
    role = f"worker_{uuid.uuid4().hex[:8]}"
    await audit_pool.execute(f"CREATE ROLE {role} LOGIN IN ROLE mentorflow_writer")
    parts = urlsplit(audit_url)
    pool = await open_database(
        parts._replace(netloc=f"{role}:@{parts.hostname or ''}").geturl(), migrate_schema=False
    )
    try:
        stream = f"relationship:writer-{uuid.uuid4().hex[:6]}"
        first = event(1, 0)
        told = NewEvent(
            **{
                **first.__dict__,
                "event_id": uuid.uuid4(),
                "notification": Notification("meeting_scheduled", ("m1",)),
            }
        )
        await EventStore(pool).append(stream, 0, [first, told])
        entry = ProgrammeEntry("writer-test", "W", "Europe/Helsinki", "hr1")
        await Directory(pool).register(entry, [Contact("m1", "M", "m1@example.org", "fi")])
        log = DeliveryLog(pool)
        await log.claim(told.event_id, "m1", "<x@test>", "test", timedelta(seconds=30))
        await log.finish(told.event_id, "m1", "<x@test>", DeliveryState.SENT)
        await pool.execute(
            "INSERT INTO workflow_histories (workflow_id, run_id, complete, history)"
            " VALUES ('w', $1, false, '{}')",
            uuid.uuid4().hex,
        )
        for sql in (
            "UPDATE events SET actor = 'x' WHERE stream_id = $1",
            "DELETE FROM events WHERE stream_id = $1",
            "UPDATE workflow_histories SET history = '' WHERE workflow_id = $1",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await pool.execute(sql, stream)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pool.execute("DROP TRIGGER events_append_only ON events")
        # The log's head, the streams' versions and recorded_at are the database's alone.
        for sql in (
            "UPDATE log_head SET position = position + 1",
            "UPDATE streams SET version = 0 WHERE stream_id = $1",
            "INSERT INTO events (global_position, stream_id, version, event_id, type,"
            " schema_version, occurred_at, recorded_at, actor, payload) VALUES (0, $1, 3,"
            " gen_random_uuid(), 't', 1, now(), '2000-01-01', 'a', '{}')",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await pool.execute(sql, *([stream] if "$1" in sql else []))
        async with pool.acquire() as conn:
            assert (await verify_stream(conn, stream)).ok
    finally:
        await pool.close()


async def test_positions_versions_and_recorded_at_are_assigned_by_the_database(audit_pool):
    """Even the owner's direct INSERT cannot choose them: a backdated recorded_at, a skipped
    version and a far position are replaced by the trigger, and the chain still verifies."""
    stream = f"relationship:assigned-{uuid.uuid4().hex[:6]}"
    await EventStore(audit_pool).append(stream, 0, [event(1, 0)])
    head = await audit_pool.fetchval("SELECT position FROM log_head")
    row = await audit_pool.fetchrow(
        "INSERT INTO events (global_position, stream_id, version, event_id, type,"
        " schema_version, occurred_at, recorded_at, actor, payload) VALUES (999999, $1, 7,"
        " gen_random_uuid(), 't', 1, now(), '2000-01-01', 'a', '{}')"
        " RETURNING global_position, version, recorded_at",
        stream,
    )
    assert row["global_position"] == head + 1 and row["version"] == 2
    assert row["recorded_at"].year > 2000
    async with audit_pool.acquire() as conn:
        assert (await verify_stream(conn, stream)).ok
        assert (await verify_log(conn)).ok


async def test_auditors_do_not_read_names_and_addresses(audit_pool):
    async with audit_pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL ROLE mentorflow_auditor")
        assert await conn.fetchval("SELECT count(*) FROM events") > 0
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SELECT name, email FROM people")


PAYLOADS = [
    {"b": [1, 2.5, 100, 1e-7, 1e21, True, None, -0.0], "a": 'x\u0001"ä\n\t/', "é": {}},
    {"note": "😀 \u2028 \\", "z": [[], {}], "n": 12.75, "big": 12345678901234567890},
]


async def test_python_and_postgresql_write_the_same_canonical_json(audit_pool):
    """The hash input of format 2 does not depend on how PostgreSQL prints jsonb: both sides
    write the payload the same, documented way."""
    for payload in PAYLOADS:
        text = json.dumps(payload)
        stored = await audit_pool.fetchval("SELECT $1::text::jsonb::text", text)
        in_sql = await audit_pool.fetchval(
            "SELECT mentorflow_canonical_json($1::text::jsonb)", text
        )
        assert in_sql == canonical_json(json.loads(stored, parse_float=Decimal))
        assert json.loads(in_sql) == json.loads(stored)


async def test_a_log_begun_with_the_old_hash_input_verifies_across_the_change(database_url):
    """Events hashed with format 1 ('|'-joined, jsonb text) before migration 0008 and with
    format 2 after it: one unbroken pair of chains, verified in Python."""
    name = f"formats_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(database_url)
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    pool = await create_pool(urlsplit(database_url)._replace(path=f"/{name}").geturl())
    try:
        async with pool.acquire() as conn:
            await conn.execute(
                "CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
                " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            for version, migration, sql in available():
                if version < 8:
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations VALUES ($1, $2)", version, migration
                    )
        store = EventStore(pool)
        for k in range(3):
            await store.append(STREAMS[0], k, [event(k, k)])
        assert await migrate(pool) == [v for v, _, _ in available() if v >= 8]
        for k in range(3, 6):
            await store.append(STREAMS[0], k, [event(k, k)])
        formats = await pool.fetch("SELECT hash_format FROM events ORDER BY global_position")
        assert [r["hash_format"] for r in formats] == [1, 1, 1, 2, 2, 2]
        async with pool.acquire() as conn:
            result = await verify_log(conn)
            assert result.ok and result.events == 6, result.broken
            assert (await verify_stream(conn, STREAMS[0])).ok
    finally:
        await pool.close()
