"""Sending one message over SMTP, with the server's answer sorted by whose fault it is.

Three outcomes besides success (the relay's 250 reply, returned so it can be recorded)::

    SmtpFault
    ├── Refused      the recipient's address, for good: a RCPT reply 5.1.x (bad address) or
    │                5.2.x (mailbox disabled), or a bare 550/551/553 to RCPT
    ├── Deferred     the recipient, for now: a 4xx reply to RCPT (452 mailbox full...)
    └── RelayFault   the relay or our configuration, not the recipient: no connection, 421,
                     535/530 authentication, STARTTLS, our sender refused, a 5.7.x policy
                     refusal, a refused DATA. Retried, raised to operators, never recorded
                     against a person.
"""

import asyncio
import re
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

__all__ = [
    "Deferred",
    "Refused",
    "RelayFault",
    "Session",
    "SmtpConfig",
    "SmtpFault",
    "redact",
    "sender_domain",
]


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    starttls: bool = False
    """Upgrade the connection with STARTTLS (port 587 relays)."""
    username: str | None = None
    password: str | None = None
    sender: str = "Mentorflow <mentorflow@localhost>"
    timeout: float = 30.0


class SmtpFault(Exception):
    """A message not accepted; ``code`` is the reply code (None without a reply)."""

    def __init__(self, code: int | None, message: str):
        super().__init__(f"{code} {message}" if code else message)
        self.code = code
        self.message = message


class Refused(SmtpFault):
    """The recipient's address is refused for good."""


class Deferred(SmtpFault):
    """The recipient cannot take the message now: try again later."""


class RelayFault(SmtpFault):
    """The relay or its configuration failed; ``kind`` names which, for operators."""

    def __init__(self, kind: str, code: int | None, message: str):
        super().__init__(code, message)
        self.kind = kind


_ADDRESS = re.compile(r"[^\s<>\"']+@[^\s<>\"']+")
_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})")


def redact(text: str) -> str:
    """Server replies often quote the address; ours go to events and logs, which take ids only."""
    return _ADDRESS.sub("<address>", text)


def classify_recipient(code: int, message: str) -> SmtpFault:
    """A RCPT refusal: only 5.1.x/5.2.x (or a bare 550/551/553) is the address's own fault."""
    text = redact(message)
    enhanced = _ENHANCED.match(message)
    if code < 500:
        return Deferred(code, text)
    if enhanced is not None:
        if enhanced.group(2) in ("1", "2"):
            return Refused(code, text)
        return RelayFault("policy", code, text)
    if code in (550, 551, 553):
        return Refused(code, text)
    return RelayFault("policy", code, text)


class Session:
    """One SMTP connection for a batch of messages, opened on first use and reopened after an
    error (the server may have dropped it, or be mid-transaction)."""

    def __init__(self, config: SmtpConfig):
        self._config = config
        self._client: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> "Session":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._close()

    async def send(self, message: EmailMessage, to: str) -> str:
        """Send ``message`` to ``to``; return the relay's reply (its queue id), redacted.

        One deadline, ``timeout``, for the whole send, connecting included: aiosmtplib's own
        timeout is per command, and a send is up to eight of them, which a slow relay could
        stretch past the delivery's claim on the message (``Postman``: twice ``timeout``), so
        that another worker sent it again."""
        try:
            async with asyncio.timeout(self._config.timeout):
                return await self._send(message, to)
        except TimeoutError:
            self._drop()
            raise RelayFault(
                "unavailable", None, f"the relay took longer than {self._config.timeout:g} s"
            ) from None

    async def _send(self, message: EmailMessage, to: str) -> str:
        client = await self._connected()
        try:
            _, reply = await client.send_message(
                message, sender=_envelope_sender(self._config.sender), recipients=[to]
            )
        except aiosmtplib.SMTPRecipientsRefused as e:
            await self._reset()
            refusal = e.recipients[0]
            raise classify_recipient(refusal.code, refusal.message) from None
        except aiosmtplib.SMTPSenderRefused as e:
            await self._reset()
            kind = "sender" if e.code >= 500 else "unavailable"
            raise RelayFault(kind, e.code, redact(e.message)) from None
        except aiosmtplib.SMTPResponseException as e:
            await self._close()
            kind = "policy" if e.code >= 500 else "unavailable"
            raise RelayFault(kind, e.code, redact(e.message)) from None
        except (aiosmtplib.SMTPException, OSError) as e:
            await self._close()
            raise RelayFault("unavailable", None, redact(str(e))) from None
        except BaseException:  # cancelled (the deadline, a worker stopping): no polite QUIT
            self._drop()
            raise
        return redact(reply)[:200]

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None:
            return self._client
        c = self._config
        client = aiosmtplib.SMTP(
            hostname=c.host,
            port=c.port,
            start_tls=c.starttls,
            use_tls=False,
            username=c.username,
            password=c.password,
            timeout=c.timeout,
        )
        try:
            await client.connect()
        except aiosmtplib.SMTPAuthenticationError as e:
            client.close()
            raise RelayFault("authentication", e.code, redact(e.message)) from None
        except (ssl.SSLError, aiosmtplib.SMTPNotSupported) as e:
            client.close()
            raise RelayFault("tls", None, redact(str(e))) from None
        except aiosmtplib.SMTPResponseException as e:
            client.close()
            kind = "authentication" if e.code in (530, 534, 535, 538) else "unavailable"
            raise RelayFault(kind, e.code, redact(e.message)) from None
        except (aiosmtplib.SMTPException, OSError) as e:
            client.close()
            raise RelayFault("unavailable", None, redact(str(e))) from None
        self._client = client
        return client

    async def _reset(self) -> None:
        """After a refusal the connection stays usable once the transaction is reset."""
        if self._client is None:
            return
        try:
            await self._client.rset()
        except aiosmtplib.SMTPException:
            await self._close()

    def _drop(self) -> None:
        """Close the connection without a QUIT: a transaction cut off mid-way is abandoned."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except aiosmtplib.SMTPException:
                client.close()


def _envelope_sender(sender: str) -> str:
    match = re.search(r"<([^>]+)>", sender)
    return match.group(1) if match else sender


def sender_domain(sender: str) -> str:
    """The domain of the sender's address: Message-IDs are made unique under it."""
    return _envelope_sender(sender).rpartition("@")[2] or "localhost"
