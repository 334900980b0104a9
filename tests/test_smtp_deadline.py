"""One deadline for a whole send: a relay that answers every command in time, but slowly,
cannot stretch a send past ``timeout`` (the delivery's claim on a message lasts twice it)."""

import time
from email.message import EmailMessage

import pytest

from activities.mail.smtp import RelayFault, Session, SmtpConfig
from tests.mail_relay import FaultyMailServer


def message() -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "mentorflow@localhost", "m1@example.org", "Hei"
    m["Message-ID"] = f"<deadline-{time.monotonic_ns()}@localhost>"
    m.set_content("Tapaaminen.")
    return m


async def test_a_slow_relay_is_given_one_timeout_for_the_whole_send_not_one_per_command(tmp_path):
    relay = FaultyMailServer(tmp_path / "mail").start()
    try:
        config = SmtpConfig(host="127.0.0.1", port=relay.port, timeout=1.0)
        async with Session(config) as session:  # a good relay first: the send goes through
            assert "queued as" in await session.send(message(), "m1@example.org")
        relay.handler.faults.slow = 0.6  # RCPT and DATA each in time (0.6 s < 1 s), 1.2 s in all
        started = time.monotonic()
        with pytest.raises(RelayFault, match="took longer than 1 s") as fault:
            async with Session(config) as session:
                await session.send(message(), "m1@example.org")
        assert fault.value.kind == "unavailable"  # retried later, as a relay that is down
        assert time.monotonic() - started < 1.5  # cut at the deadline: no QUIT waited for
    finally:
        relay.stop()
