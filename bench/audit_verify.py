"""Audit benchmark: `audit verify --all` over a log of 1,000,000 events.

Creates a scratch database next to the event store (the embedded PostgreSQL unless
MENTORFLOW_DATABASE_URL is set), fills it through the same insert trigger that chains every
event, then times the verifier and prints events per second. The scratch database is dropped.
Run: ``.venv/bin/python -m bench.audit_verify [EVENTS]``.
"""

import asyncio
import os
import sys
import time
import uuid
from urllib.parse import urlsplit

import asyncpg

from mentorflow.log_setup import configure_logging
from mentorflow.settings import Settings
from store.integrity import verify_log
from store.migrate import migrate
from store.pool import create_pool
from worker import database_url

STREAMS = 5_000
CHUNK = 100_000


async def fill(pool: asyncpg.Pool, events: int) -> None:
    await pool.execute(
        "INSERT INTO streams (stream_id, version) SELECT 'relationship:bench-' || s, 0"
        " FROM generate_series(0, $1 - 1) s",
        STREAMS,
    )
    for first in range(1, events + 1, CHUNK):
        last = min(first + CHUNK - 1, events)
        await pool.execute(
            "INSERT INTO events (global_position, stream_id, version, event_id, type,"
            " schema_version, occurred_at, actor, payload)"
            " SELECT p, 'relationship:bench-' || ((p - 1) % $3), (p - 1) / $3 + 1,"
            " gen_random_uuid(), 'meeting_recorded', 1,"
            " timestamptz '2026-01-01' + p * interval '1 minute', 'm' || (p % 7),"
            " jsonb_build_object('number', p, 'held', p % 3 <> 0, 'attendees',"
            " jsonb_build_array('m1', 'a' || (p % 5)))"
            " FROM generate_series($1::bigint, $2::bigint) p ORDER BY p",
            first,
            last,
            STREAMS,
        )
        print(f"  filled {last:,} events", flush=True)
    await pool.execute("UPDATE log_head SET position = $1", events)
    await pool.execute(
        "UPDATE streams s SET version = v.n FROM (SELECT stream_id, max(version) AS n"
        " FROM events GROUP BY stream_id) v WHERE v.stream_id = s.stream_id"
    )


async def main(events: int) -> None:
    url = database_url(Settings())
    name = f"bench_audit_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(url)
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        pool = await create_pool(urlsplit(url)._replace(path=f"/{name}").geturl())
        try:
            await migrate(pool)
            started = time.perf_counter()
            await fill(pool, events)
            print(f"filled {events:,} chained events in {time.perf_counter() - started:.1f} s")
            async with pool.acquire() as conn:
                started = time.perf_counter()
                result = await verify_log(conn)
                seconds = time.perf_counter() - started
            assert result.ok and result.events == events, result
            print(
                f"verified {result.events:,} events in {seconds:.1f} s"
                f" ({result.events / seconds:,.0f} events/s) on {os.cpu_count()} cores"
            )
        finally:
            await pool.close()
    finally:
        await admin.execute(f"DROP DATABASE {name}")
        await admin.close()


if __name__ == "__main__":
    configure_logging("WARNING")
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))
