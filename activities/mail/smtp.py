"""Sending one message over SMTP, with the server's answer sorted into retry-later or never.

A 4xx reply or a lost connection is transient (the activity raises and Temporal retries it with
back-off); a 5xx reply to the recipient or the message is permanent for that recipient.
"""

import re
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib


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


class PermanentRejection(Exception):
    """The server refused this recipient or message for good (a 5xx reply)."""

    def __init__(self, code: int, message: str):
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


_ADDRESS = re.compile(r"[^\s<>\"']+@[^\s<>\"']+")


def redact(text: str) -> str:
    """Server replies often quote the address; ours go to events and logs, which take ids only."""
    return _ADDRESS.sub("<address>", text)


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

    async def send(self, message: EmailMessage, to: str) -> None:
        """Send ``message`` to ``to``; PermanentRejection on a 5xx, anything else to retry."""
        try:
            client = await self._connected()
            await client.send_message(
                message, sender=_envelope_sender(self._config.sender), recipients=[to]
            )
        except aiosmtplib.SMTPRecipientsRefused as e:
            await self._reset()
            refusal = e.recipients[0]
            if refusal.code >= 500:
                raise PermanentRejection(refusal.code, redact(refusal.message)) from None
            raise
        except aiosmtplib.SMTPResponseException as e:
            await self._reset()
            if e.code >= 500 and not isinstance(e, aiosmtplib.SMTPSenderRefused):
                raise PermanentRejection(e.code, redact(e.message)) from None
            raise  # 4xx, or our own sender refused: configuration to fix, retrying meanwhile
        except BaseException:
            await self._close()
            raise

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is None:
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
            await client.connect()
            self._client = client
        return self._client

    async def _reset(self) -> None:
        """After a refusal the connection stays usable once the transaction is reset."""
        if self._client is None:
            return
        try:
            await self._client.rset()
        except aiosmtplib.SMTPException:
            await self._close()

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
