"""The tests' SMTP relay: the embedded mail server with faults to switch on.

It refuses the addresses ``refuse`` names (550 5.1.1), may ask for a login (``login=True``), and
fails on demand (``Faults``): a refused login, a full mailbox, a 250 held back until the sender
is killed. None of this belongs in the server that ``mentorflow`` starts for people.
"""

import asyncio
import contextvars
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import AuthResult

from activities.mail.smtp import SmtpConfig
from mentorflow.mail_server import MaildirHandler, MailServer

USERNAME, PASSWORD = "mentorflow", "test-only"
"""The login of a relay started with ``login=True`` (tests of authentication faults)."""


@dataclass
class Faults:
    """What the relay gets wrong; all off by default (a good server)."""

    full: set[str] = field(default_factory=set)
    """Addresses answered 452 4.2.2 (mailbox full) at RCPT."""
    answered_full: int = 0
    """How many 452 replies were given."""
    login_refused: bool = False
    """Answer 535 5.7.8 to AUTH (a wrong or revoked relay password)."""
    hold_next: bool = False
    """File the next message but hold its 250 until ``release`` is set: a send in flight. Only
    a message never filed before (one sent again after a kill is not held again)."""
    hold_to: frozenset[str] | None = None
    """With ``hold_next``: only a message to one of these addresses."""
    held: threading.Event = field(default_factory=threading.Event)
    """Set when a message is being held."""
    release: threading.Event = field(default_factory=threading.Event)
    held_messages: list[str] = field(default_factory=list)
    """Message-IDs held so far."""
    slow: float = 0.0
    """Seconds the relay waits before answering each RCPT and DATA: a slow, working relay."""

    def clear(self) -> None:
        self.full.clear()
        self.login_refused = self.hold_next = False
        self.hold_to = None
        self.answered_full = 0
        self.slow = 0.0
        self.held.clear()
        self.release.clear()
        self.held_messages.clear()


_recipients: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "recipients", default=frozenset()
)
"""The recipients of the message being filed (each SMTP session runs in its own task)."""


class FaultyHandler(MaildirHandler):
    def __init__(self, path: Path, refuse: Callable[[str], bool]):
        super().__init__(path)
        self.faults = Faults()
        self._refuse = refuse

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        await asyncio.sleep(self.faults.slow)
        return await super().handle_RCPT(server, session, envelope, address, options)

    def refusal(self, address: str) -> str | None:
        if self._refuse(address):
            # Quoting the address back, as Postfix does: it must never reach an event or a log.
            return f"550 5.1.1 <{address}>: Recipient address rejected: mailbox unavailable"
        if address in self.faults.full:
            self.faults.answered_full += 1
            return "452 4.2.2 Mailbox full, try again later"
        return None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.faults.slow)
        _recipients.set(frozenset(envelope.rcpt_tos))  # this session's task only
        return await super().handle_DATA(server, session, envelope)

    async def filed(self, message_id: str) -> None:
        f = self.faults
        wanted = f.hold_to is None or bool(_recipients.get() & f.hold_to)
        if f.hold_next and wanted and self.received[message_id] == 1:
            self.faults.hold_next = False
            self.faults.held_messages.append(message_id)
            self.faults.held.set()
            await asyncio.to_thread(self.faults.release.wait, 60)

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = not self.faults.login_refused and (
            auth_data.login == USERNAME.encode() and auth_data.password == PASSWORD.encode()
        )
        return AuthResult(success=ok, handled=False)


class FaultyMailServer(MailServer):
    """The embedded server as the tests' relay; ``handler.faults`` switches faults on."""

    handler: FaultyHandler

    def __init__(
        self,
        maildir: Path,
        refuse: Callable[[str], bool] = lambda address: False,
        login: bool = False,
    ):
        maildir.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(maildir, FaultyHandler(maildir, refuse))
        self._login = login

    @property
    def config(self) -> SmtpConfig:
        if not self._login:
            return super().config
        return SmtpConfig(host="127.0.0.1", port=self.port, username=USERNAME, password=PASSWORD)

    def controller_options(self) -> dict[str, Any]:
        if not self._login:
            return {}
        return {"authenticator": self.handler.authenticate, "auth_require_tls": False}
