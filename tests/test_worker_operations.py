"""Worker processes as an operator runs them (`mentorflow worker`), on the real Temporal dev
server: two on one task queue, one killed with SIGKILL mid-run; health, metrics, SIGTERM."""

import asyncio
import os
import signal
import subprocess
import sys
import urllib.request
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.codec import RELATIONSHIP
from domain.relationship.events import MeetingScheduled, ReminderIssued
from domain.relationship.fold import fold
from mentorflow.embedded import free_port
from mentorflow.settings import Settings
from store.deliveries import DeliveryLog
from store.integrity import verify_stream
from tests.builders import IN_SECONDS, spec
from tests.mailbox_helpers import messages
from workflows import TASK_QUEUE
from workflows.messages import RelationshipInput, workflow_id
from workflows.relationship import RelationshipWorkflow

MENTORFLOW = Path(sys.executable).parent / "mentorflow"


def start_worker(address, database_url, mail, tmp_path, name, **extra) -> subprocess.Popen:
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": address,
        "MENTORFLOW_DATABASE_URL": database_url,
        "MENTORFLOW_DATA_DIR": str(tmp_path / name),
        "MENTORFLOW_SMTP_HOST": mail.config.host,
        "MENTORFLOW_SMTP_PORT": str(mail.config.port),
        "MENTORFLOW_SMTP_STARTTLS": "false",
        "MENTORFLOW_LOG_FORMAT": "json",
        "MENTORFLOW_SHUTDOWN_GRACE_SECONDS": "5",
        # A killed worker's claim on a message runs out after twice this (not the default 60 s):
        # then the other worker sends the message again.
        "MENTORFLOW_SMTP_TIMEOUT": "5",
        **{k: str(v) for k, v in extra.items()},
    }
    log = (tmp_path / f"{name}.log").open("w")
    return subprocess.Popen([str(MENTORFLOW), "worker"], env=env, stdout=log, stderr=log)


async def get(url: str) -> tuple[int, str]:
    def fetch() -> tuple[int, str]:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, ""
        except OSError:
            return 0, ""

    return await asyncio.to_thread(fetch)


async def wait_ready(port: int) -> None:
    for _ in range(300):
        if (await get(f"http://127.0.0.1:{port}/readyz"))[0] == 200:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the worker never became ready")


def test_the_smtp_timeout_is_a_setting_of_positive_seconds():
    """MENTORFLOW_SMTP_TIMEOUT reaches the relay's configuration; zero is refused by name."""
    config = Settings(smtp_host="relay.example.org", smtp_timeout=5).smtp()
    assert config is not None and config.timeout == 5
    with pytest.raises(ValidationError, match="smtp_timeout"):
        Settings(smtp_timeout=0)


async def test_a_worker_killed_mid_run_loses_and_doubles_nothing(
    dev_env, database_url, mail, pool, store, tmp_path
):
    address = dev_env.client.service_client.config.target_host
    health_a, health_b, metrics_b = free_port(), free_port(), free_port()
    a = start_worker(address, database_url, mail, tmp_path, "a", MENTORFLOW_HEALTH_PORT=health_a)
    b = start_worker(
        address,
        database_url,
        mail,
        tmp_path,
        "b",
        MENTORFLOW_HEALTH_PORT=health_b,
        MENTORFLOW_TEMPORAL_METRICS_PORT=metrics_b,
    )
    try:
        await wait_ready(health_a)
        await wait_ready(health_b)
        starts = (await dev_env.get_current_time()).replace(microsecond=0) + timedelta(seconds=2)
        ends = starts + timedelta(seconds=20)
        rids = [f"killed-{uuid.uuid4().hex[:8]}-{n}" for n in range(6)]
        handles = [
            await dev_env.client.start_workflow(
                RelationshipWorkflow.run,
                RelationshipInput(spec=spec(rid, starts, ends, IN_SECONDS)),
                id=workflow_id(rid),
                task_queue=TASK_QUEUE,
            )
            for rid in rids
        ]
        await asyncio.sleep(7)  # mid-run: meetings, reminders and deliveries under way
        a.send_signal(signal.SIGKILL)
        assert a.wait(timeout=10) == -signal.SIGKILL
        results = await asyncio.wait_for(
            asyncio.gather(*(h.result() for h in handles)), timeout=240
        )

        status, body = await get(f"http://127.0.0.1:{health_b}/metrics")
        assert status == 200 and "mentorflow_events_appended_total" in body
        assert "mentorflow_notifications_total" in body
        status, body = await get(f"http://127.0.0.1:{metrics_b}/metrics")
        assert status == 200 and "temporal_" in body  # the Temporal runtime's own metrics
    finally:
        if a.poll() is None:
            a.kill()
        if b.poll() is None:
            b.send_signal(signal.SIGTERM)  # graceful: drains and exits 0
            assert b.wait(timeout=30) == 0
    assert "worker_stopped" in (tmp_path / "b.log").read_text()

    for rid, result in zip(rids, results, strict=True):
        records = await store.read_stream(workflow_id(rid))
        events = [RELATIONSHIP.decode(r) for r in records]
        assert len({e.event_id for e in events}) == len(events) == result.version
        assert fold(events).closed
        meetings = Counter(e.number for e in events if isinstance(e, MeetingScheduled))
        assert meetings and set(meetings.values()) == {1}  # each meeting decided once
        reminders = Counter((e.subject, e.offset) for e in events if isinstance(e, ReminderIssued))
        assert set(reminders.values()) <= {1}
        async with pool.acquire() as conn:
            assert (await verify_stream(conn, workflow_id(rid))).ok

        outbox = await store.outbox(workflow_id(rid))
        owed = {(str(e), p) for e, _, recipients in outbox for p in recipients}
        filed = messages(mail, {e for e, _ in owed})
        assert len(filed) == len(owed)  # every message in the mailbox, once
        for event_id, _, _ in outbox:
            for delivery in (await DeliveryLog(pool).deliveries(event_id)).values():
                assert delivery.state == "sent"
                # Sent again only after a claim recorded another attempt (a claim whose sender
                # died or was cancelled before the DATA counts an attempt and sends nothing).
                assert 1 <= mail.handler.received[delivery.message_id] <= delivery.attempts
