"""Reading back what the test mail server received."""

import email
import email.policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser

from icalendar import Calendar

from mentorflow.mail_server import MailServer


def messages(mail: MailServer, event_ids: set[str]) -> list[EmailMessage]:
    """The filed messages about any of ``event_ids``."""
    found = []
    for stored in mail.handler.maildir:
        message = email.message_from_bytes(stored.as_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        if message["X-Mentorflow-Event"] in event_ids:
            found.append(message)
    return found


def headers(mail: MailServer) -> list[Message]:
    """The headers of every filed message (quick: bodies are not parsed)."""
    parser = BytesHeaderParser(policy=email.policy.default)
    return [parser.parsebytes(stored.as_bytes()) for stored in mail.handler.maildir]


def calendar_of(message: EmailMessage) -> Calendar | None:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return Calendar.from_ical(part.get_content())
    return None
