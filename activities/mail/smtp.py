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


async def send(config: SmtpConfig, message: EmailMessage, to: str) -> None:
    """Send ``message`` to ``to``; raise PermanentRejection on a 5xx, anything else to retry."""
    try:
        await aiosmtplib.send(
            message,
            sender=_envelope_sender(config.sender),
            recipients=[to],
            hostname=config.host,
            port=config.port,
            start_tls=config.starttls,
            use_tls=False,
            username=config.username,
            password=config.password,
            timeout=config.timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as e:
        refusal = e.recipients[0]
        if refusal.code >= 500:
            raise PermanentRejection(refusal.code, redact(refusal.message)) from None
        raise
    except aiosmtplib.SMTPResponseException as e:
        if e.code >= 500 and not isinstance(e, aiosmtplib.SMTPSenderRefused):
            raise PermanentRejection(e.code, redact(e.message)) from None
        raise  # 4xx, or our own sender refused: configuration to fix, retrying meanwhile


def _envelope_sender(sender: str) -> str:
    match = re.search(r"<([^>]+)>", sender)
    return match.group(1) if match else sender


def sender_domain(sender: str) -> str:
    """The domain of the sender's address: Message-IDs are made unique under it."""
    return _envelope_sender(sender).rpartition("@")[2] or "localhost"
