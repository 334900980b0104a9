"""Relay faults are not recipients' faults: with the relay down, or refusing our login, for
longer than the retry window, the group decides and closes on time, nobody is recorded as
unreachable, operators see the fault, and `mentorflow mail resend` delivers everything once the
relay is back."""

import asyncio
import os

import pytest
from typer.testing import CliRunner

from activities import metrics
from mentorflow.cli import app
from mentorflow.mail_server import MailServer
from store.deliveries import DeliveryLog
from tests.faults.delivery_fixtures import (
    check_delivered,
    dissolve,
    faults,
    relay,
    start_group,
    wait_closed,
    worker,
)
from workflows.messages import workflow_id

__all__ = ["faults", "relay"]  # fixtures


def _down(relay: MailServer) -> None:
    relay.stop()


def _up(relay: MailServer) -> None:
    relay.start()


def _refuse_login(relay: MailServer) -> None:
    relay.handler.faults.login_refused = True


def _accept_login(relay: MailServer) -> None:
    relay.handler.faults.login_refused = False


def resend(database_url: str, relay: MailServer, programme: str, *options: str) -> str:
    """`mentorflow mail resend` against the test database and relay, as an operator runs it."""
    c = relay.config
    env = {
        "MENTORFLOW_DATABASE_URL": database_url,
        "MENTORFLOW_SMTP_HOST": c.host,
        "MENTORFLOW_SMTP_PORT": str(c.port),
        "MENTORFLOW_SMTP_STARTTLS": "false",
        "MENTORFLOW_SMTP_USERNAME": c.username or "",
        "MENTORFLOW_SMTP_PASSWORD": c.password or "",
        "MENTORFLOW_LOG_LEVEL": "WARNING",
    }
    result = CliRunner().invoke(
        app,
        ["mail", "resend", "--programme", programme, "--json", *options],
        env={**os.environ, **env},
    )
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    ("fault", "fixed", "kind"),
    [(_down, _up, "unavailable"), (_refuse_login, _accept_login, "authentication")],
    ids=["relay-down", "535-at-login"],
)
async def test_a_relay_fault_longer_than_the_retry_window_is_held_then_resent(
    fault, fixed, kind, faults, dev_env, pool, database_url
):
    before = metrics.RELAY_FAULTS.labels(kind)._value.get()
    fault(faults)
    try:
        async with worker(dev_env.client, pool, faults) as task_queue:
            rid, handle = await start_group(dev_env.client, task_queue, f"relay-{kind}")
            await dissolve(handle)  # Updates are answered while no mail goes out
            await wait_closed(handle)  # closes once the window is over: mail is held
    finally:
        fixed(faults)
    assert metrics.RELAY_FAULTS.labels(kind)._value.get() > before
    assert metrics.relay_failing()
    summary = await DeliveryLog(pool).summary([workflow_id(rid)])
    assert summary["held"] == summary["messages"] > 0 and summary["failed"] == 0

    report = await asyncio.to_thread(resend, database_url, faults, "test")
    assert '"relay_fault":null' in report

    states = await check_delivered(pool, faults, rid)  # and no delivery_failed was recorded
    assert set(states) == {"sent"}
    assert not metrics.relay_failing()
