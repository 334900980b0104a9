"""The embedded mail server: a real SMTP server (aiosmtpd) that files every message in a Maildir.

With no SMTP relay configured, the commands that run workflows start it under the data directory,
so a person can open the very e-mails the programme sent (any mail client reads a Maildir). It
keeps one copy per Message-ID: a message sent again after an interrupted delivery is accepted
and dropped, as a real mailbox provider would.
"""

import email
import email.policy
import logging
import mailbox
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from activities.mail.smtp import SmtpConfig
from mentorflow.embedded import free_port

# aiosmtpd logs every envelope (addresses included) at INFO; logs here carry ids only.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class MaildirHandler:
    """aiosmtpd handler: refuse what ``refuse`` says, file the rest once per Message-ID."""

    def __init__(self, path: Path, refuse: Callable[[str], bool] = lambda address: False):
        self.maildir = mailbox.Maildir(path, create=True)
        self.received: Counter[str] = Counter()
        """SMTP transactions per Message-ID since start (a duplicate send counts twice)."""
        self._refuse = refuse
        self._lock = threading.Lock()
        self._filed = {str(m["Message-ID"]) for m in self.maildir}

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self._refuse(address):
            return "550 5.1.1 Recipient address rejected: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        mid = str(message["Message-ID"])
        with self._lock:
            self.received[mid] += 1
            if mid in self._filed:
                return "250 OK (already delivered)"
            self.maildir.add(envelope.content)
            self._filed.add(mid)
        return "250 OK"


class MailServer:
    """A running embedded server; ``config`` is what the worker sends with."""

    def __init__(self, maildir: Path, refuse: Callable[[str], bool] = lambda address: False):
        self.maildir = maildir
        maildir.parent.mkdir(parents=True, exist_ok=True)
        self.handler = MaildirHandler(maildir, refuse)
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=free_port())

    @property
    def config(self) -> SmtpConfig:
        return SmtpConfig(host="127.0.0.1", port=self._controller.port)

    def start(self) -> "MailServer":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> "MailServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
