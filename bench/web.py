"""Web benchmark: how fast a participant page renders, and page views per second.

Starts the embedded stack (PostgreSQL unless MENTORFLOW_DATABASE_URL is set, a time-skipping
Temporal server and a worker), records one group with its agreement and a meeting through the
real Updates, then measures *My group* (the heaviest participant page: it folds the group's
stored events and reads the people directory):

1. render time: the app in process (no network), one request after another; median and p95;
2. throughput: `mentorflow web` in its own processes (``MENTORFLOW_WEB_WORKERS`` 1, then 2),
   loaded over HTTP by this process with ``CONCURRENCY`` signed-in keep-alive clients for
   ``SECONDS``. The clients write raw HTTP/1.1 (a full HTTP client in the same process would take
   as much of the two cores as the server it measures).

Run: ``.venv/bin/python -m bench.web``.
"""

import asyncio
import os
import re
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
from temporalio.testing import WorkflowEnvironment

from activities.links import GROUP, Claim, Links
from domain.model import Member, Role
from domain.relationship.commands import RecordAgreement, RecordMeeting, RelationshipSpec
from mentorflow import embedded
from mentorflow.log_setup import configure_logging
from mentorflow.mail_server import MailServer
from mentorflow.settings import Settings
from mentorflow.telemetry import configure_telemetry
from mentorflow.web.app import create_app
from mentorflow.web.pages import Web
from store.directory import Contact, Directory, ProgrammeEntry
from store.event_store import EventStore
from worker import build_worker, database_url, open_database
from workflows.messages import RelationshipInput, workflow_id
from workflows.relationship import RelationshipWorkflow

SECRET = "bench-" + uuid.uuid4().hex
RENDERS = 300
CONCURRENCY = 16
SECONDS = 10.0
PEOPLE = ("m1", "m2", "a1", "a2", "a3")


async def record_group(
    env: WorkflowEnvironment, pool: asyncpg.Pool, mail: MailServer, programme: str
) -> str:
    client = env.client
    entry = ProgrammeEntry(programme, "Bench programme", "Europe/Helsinki", "hr1")
    people = [Contact(p, f"Person {p}", f"{p}@example.org", "fi") for p in (*PEOPLE, "hr1")]
    await Directory(pool).register(entry, people)
    now = (await env.get_current_time()).replace(microsecond=0)
    members = tuple(
        Member(person_id=p, role=Role.MENTOR if p[0] == "m" else Role.MENTEE) for p in PEOPLE
    )
    spec = RelationshipSpec(
        relationship_id=f"{programme}:1",
        programme_id=programme,
        coordinator_id="hr1",
        members=members,
        starts_at=now,
        ends_at=now + timedelta(days=365),
    )
    queue = f"bench-{uuid.uuid4()}"
    async with build_worker(client, pool, mail.config, queue):
        handle = await client.start_workflow(
            RelationshipWorkflow.run,
            RelationshipInput(spec=spec),
            id=workflow_id(spec.relationship_id),
            task_queue=queue,
        )
        await handle.execute_update(
            RelationshipWorkflow.record_agreement,
            RecordAgreement(by="m1", goals=("payroll", "speaking"), agreement="monthly"),
        )
        for _ in range(200):  # the first meeting is scheduled just after the start
            if (await handle.query(RelationshipWorkflow.state)).meetings:
                break
            await asyncio.sleep(0.05)
        await handle.execute_update(
            RelationshipWorkflow.record_meeting,
            RecordMeeting(by="a1", held_on=now.date(), attendees=("m1", "a1", "a2")),
        )
        events = await EventStore(pool).read_stream(workflow_id(spec.relationship_id))
        print(f"group {spec.relationship_id}: {len(events)} stored events")
        await handle.terminate("bench done")
    return spec.relationship_id


def link(public: str, programme: str, rid: str) -> str:
    claim = Claim(programme, "a1", GROUP, rid, datetime.now(UTC) + timedelta(days=1))
    return Links(SECRET, public).url(claim).removeprefix(public)


async def render_times(
    env: WorkflowEnvironment, pool: asyncpg.Pool, mail: MailServer, programme: str, rid: str
) -> list[float]:
    web = Web(
        client=env.client,
        pool=pool,
        links=Links(SECRET, "http://bench"),
        mail=mail.config,
        master=Settings().master(),
    )
    app = create_app(web, SECRET, secure_cookies=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as browser:
        await browser.get(link("http://bench", programme, rid))
        times = []
        for _ in range(RENDERS):
            started = time.perf_counter()
            response = await browser.get(f"/g/{rid}")
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
    return times


async def throughput(port: int, programme: str, rid: str) -> tuple[int, float]:
    public = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=public) as browser:
        await browser.get(link(public, programme, rid))  # sign in once: the session cookie
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    request = (
        f"GET /g/{quote(rid, safe='')} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n"
    ).encode()
    done, deadline = 0, time.monotonic() + SECONDS

    async def visitor() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.monotonic() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head[:40]
            length = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
            assert length is not None
            await reader.readexactly(int(length.group(1)))
            done += 1
        writer.close()

    started = time.monotonic()
    await asyncio.gather(*(visitor() for _ in range(CONCURRENCY)))
    return done, time.monotonic() - started


async def serve(env: WorkflowEnvironment, url: str, mail: MailServer, workers: int) -> Any:
    """`mentorflow web` with ``workers`` processes, once it answers; and its port."""
    port = embedded.free_port()
    server = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "mentorflow"),
        "web",
        env={
            **os.environ,
            "MENTORFLOW_DATABASE_URL": url,
            "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "MENTORFLOW_SECRET_KEY": SECRET,
            "MENTORFLOW_WEB_PORT": str(port),
            "MENTORFLOW_WEB_WORKERS": str(workers),
            "MENTORFLOW_SMTP_HOST": "127.0.0.1",
            "MENTORFLOW_SMTP_PORT": str(mail.config.port),
            "MENTORFLOW_SMTP_STARTTLS": "false",
            "MENTORFLOW_LOG_LEVEL": "WARNING",
        },
    )
    for _ in range(300):
        try:
            async with httpx.AsyncClient() as probe:
                if (await probe.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    break
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    await asyncio.sleep(1)  # every process listening, not only the first
    return server, port


async def main() -> None:
    settings = Settings()
    url = database_url(settings)
    pool = await open_database(url)
    env = await embedded.start_time_skipping()
    mail = MailServer(Path(settings.data_dir) / "bench-mail").start()
    programme = f"bench-{uuid.uuid4().hex[:6]}"
    try:
        rid = await record_group(env, pool, mail, programme)
        times = await render_times(env, pool, mail, programme, rid)
        print(
            f"My group, in process: median {statistics.median(times) * 1000:.1f} ms,"
            f" p95 {statistics.quantiles(times, n=20)[-1] * 1000:.1f} ms over {RENDERS} renders"
        )
        for workers in (1, 2):
            server, port = await serve(env, url, mail, workers)
            try:
                views, elapsed = await throughput(port, programme, rid)
            finally:
                server.terminate()
                await server.wait()
            print(
                f"My group over HTTP (mentorflow web, {workers} process(es), {CONCURRENCY}"
                f" clients): {views / elapsed:.0f} page views/s ({views} in {elapsed:.1f} s)"
            )
    finally:
        mail.stop()
        await env.shutdown()
        await pool.close()


if __name__ == "__main__":
    configure_logging("WARNING", "console")
    configure_telemetry()
    asyncio.run(main())
