"""The embedded mail server: a real SMTP server (aiosmtpd) that files every message in a Maildir.

With no SMTP relay configured, the commands that run workflows start it under the data directory,
so a person can open the very e-mails the programme sent (any mail client reads a Maildir). It
keeps one copy per Message-ID: a message sent again after an interrupted delivery is accepted
and dropped, as a real mailbox provider would. Its 250 reply names a queue id, as relays do.

Tests switch faults on (``Faults``): a refused login, a full mailbox, a 250 held back until the
sender is killed; ``stop()`` and ``start()`` take the relay down and bring it back on its port.
"""

import asyncio
import email
import email.policy
import logging
import mailbox
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from activities.mail.smtp import SmtpConfig
from mentorflow.embedded import free_port

# aiosmtpd logs every envelope (addresses included) at INFO; logs here carry ids only.
logging.getLogger("mail.log").setLevel(logging.WARNING)

USERNAME, PASSWORD = "mentorflow", "test-only"
"""The login of a server started with ``login=True`` (tests of authentication faults)."""


@dataclass
class Faults:
    """What the server gets wrong; all off by default (a good server)."""

    full: set[str] = field(default_factory=set)
    """Addresses answered 452 4.2.2 (mailbox full) at RCPT."""
    answered_full: int = 0
    """How many 452 replies were given."""
    login_refused: bool = False
    """Answer 535 5.7.8 to AUTH (a wrong or revoked relay password)."""
    hold_next: bool = False
    """File the next message but hold its 250 until ``release`` is set: a send in flight."""
    held: threading.Event = field(default_factory=threading.Event)
    """Set when a message is being held."""
    release: threading.Event = field(default_factory=threading.Event)
    held_messages: list[str] = field(default_factory=list)
    """Message-IDs held so far."""

    def clear(self) -> None:
        self.full.clear()
        self.login_refused = self.hold_next = False
        self.answered_full = 0
        self.held.clear()
        self.release.clear()
        self.held_messages.clear()


class MaildirHandler:
    """aiosmtpd handler: refuse what ``refuse`` says, file the rest once per Message-ID."""

    def __init__(self, path: Path, refuse: Callable[[str], bool] = lambda address: False):
        self.maildir = mailbox.Maildir(path, create=True)
        self.received: Counter[str] = Counter()
        """SMTP transactions per Message-ID since start (a duplicate send counts twice)."""
        self.faults = Faults()
        self._refuse = refuse
        self._lock = threading.Lock()
        self._filed = {str(m["Message-ID"]) for m in self.maildir}
        self._queued = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self._refuse(address):
            return "550 5.1.1 Recipient address rejected: mailbox unavailable"
        if address in self.faults.full:
            self.faults.answered_full += 1
            return "452 4.2.2 Mailbox full, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        mid = str(message["Message-ID"])
        with self._lock:
            self.received[mid] += 1
            self._queued += 1
            reply = f"250 2.0.0 Ok: queued as {self._queued:08X}"
            if mid not in self._filed:
                self.maildir.add(envelope.content)
                self._filed.add(mid)
        if self.faults.hold_next:  # filed, but the sender waits for the 250 (and may die)
            self.faults.hold_next = False
            self.faults.held_messages.append(mid)
            self.faults.held.set()
            await asyncio.to_thread(self.faults.release.wait, 60)
        return reply

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = not self.faults.login_refused and (
            auth_data.login == USERNAME.encode() and auth_data.password == PASSWORD.encode()
        )
        return AuthResult(success=ok, handled=False)


class MailServer:
    """A running embedded server; ``config`` is what the worker sends with."""

    def __init__(
        self,
        maildir: Path,
        refuse: Callable[[str], bool] = lambda address: False,
        login: bool = False,
    ):
        self.maildir = maildir
        maildir.parent.mkdir(parents=True, exist_ok=True)
        self.handler = MaildirHandler(maildir, refuse)
        self._login = login
        self._port = free_port()
        self._controller: Controller | None = None

    @property
    def config(self) -> SmtpConfig:
        if self._login:
            return SmtpConfig(
                host="127.0.0.1", port=self._port, username=USERNAME, password=PASSWORD
            )
        return SmtpConfig(host="127.0.0.1", port=self._port)

    def start(self) -> "MailServer":
        """Start (or start again, on the same port)."""
        extra: dict[str, Any] = {}
        if self._login:
            extra = {"authenticator": self.handler.authenticate, "auth_require_tls": False}
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self._port, **extra)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "MailServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
