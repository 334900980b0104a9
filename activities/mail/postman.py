"""The delivery activity: every recipient of an outbox row gets their letter exactly once.

Per recipient: claim the delivery (committed, with a Message-ID derived from the event id and the
person), send, heartbeat the Message-ID, finish (``sent``; the outbox row is done when every
recipient is). A retry skips what is final. A claim left ``sending`` means the previous attempt
stopped between send and finish: if its heartbeat (which Temporal hands to the next attempt)
names the Message-ID, the message went out and is only marked; otherwise it is sent again with
the same Message-ID, which receivers (the embedded Maildir server included) use to drop
duplicates. A 5xx for a recipient is final: the workflow records it and tells the coordinator.
"""

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from uuid import UUID

import asyncpg
import structlog
from jinja2 import TemplateError
from pydantic import BaseModel, ConfigDict
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import metrics
from activities.links import Links
from activities.mail import smtp
from activities.mail.invites import to_ics
from activities.mail.letters import Occasion, Stationery, occasion, people_named
from domain.delivery import Undelivered
from domain.events import Event, from_record
from domain.programme_events import programme_event_from_record
from store.deliveries import DeliveryLog, DeliveryState, OutboxItem
from store.directory import Contact, Directory
from store.event_store import EventStore, RecordedEvent

log = structlog.get_logger(__name__)


class DeliverInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    programme_id: str
    event_ids: list[UUID]


class DeliveryReport(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    sent: int
    """Messages sent by this call (0 when a retry found everything done)."""
    failed: list[Undelivered]
    """Every recipient the notifications can never reach, including ones found on a retry."""


_RENDERING_ERRORS = (TemplateError, LookupError, AttributeError, TypeError, ValueError)


def message_id(event_id: UUID, person_id: str, domain: str) -> str:
    return f"<{event_id}.{person_id}@{domain}>"


class Postman:
    def __init__(self, pool: asyncpg.Pool, config: smtp.SmtpConfig, links: Links | None = None):
        self._events = EventStore(pool)
        self._log = DeliveryLog(pool)
        self._directory = Directory(pool)
        self._config = config
        self._stationery = Stationery(links)
        self._domain = smtp.sender_domain(config.sender)

    @activity.defn
    async def deliver_notifications(self, request: DeliverInput) -> DeliveryReport:
        details = activity.info().heartbeat_details
        sent_before: set[str] = set(details[0]) if details else set()
        sent_now: list[str] = []
        failed: list[Undelivered] = []
        streams: dict[str, list[RecordedEvent]] = {}  # a batch is one stream: read it once
        async with smtp.Session(self._config) as session:
            for event_id in request.event_ids:
                item = await self._log.item(event_id)
                if item is None:
                    raise ApplicationError(
                        f"event {event_id} has no outbox row",
                        type="NoOutboxRow",
                        non_retryable=True,
                    )
                failed += await self._deliver(
                    session, request.programme_id, item, streams, sent_before, sent_now
                )
        return DeliveryReport(sent=len(sent_now), failed=failed)

    async def _deliver(
        self,
        session: smtp.Session,
        programme_id: str,
        item: OutboxItem,
        streams: dict[str, list[RecordedEvent]],
        sent_before: set[str],
        sent_now: list[str],
    ) -> list[Undelivered]:
        event_id = item.event.event_id
        done = await self._log.deliveries(event_id)
        waiting = [p for p in item.recipients if p not in done or done[p].state == "sending"]
        failures = [
            _undelivered(item, d.person_id, d.smtp_code, d.error or "")
            for d in done.values()
            if d.state is DeliveryState.FAILED
        ]
        if not waiting:
            return failures
        occasion_ = await self._occasion(programme_id, item, streams)
        for person in waiting:
            mid = message_id(event_id, person, self._domain)
            if person in done and mid in sent_before:
                await self._finish(item, person, mid, DeliveryState.SENT)  # sent; the mark was lost
                continue
            contact = occasion_.contacts.get(person) if occasion_ else None
            if occasion_ is None or contact is None:
                reason = "no contact details in the directory"
                await self._finish(item, person, mid, DeliveryState.FAILED, None, reason)
                failures.append(_undelivered(item, person, None, reason))
                continue
            try:
                message = self._message(occasion_, contact, mid)
            except _RENDERING_ERRORS as e:
                # A broken template cannot be fixed by retrying, and must not hold the workflow.
                reason = f"the letter could not be written ({type(e).__name__})"
                log.error(
                    "letter_failed", event_id=str(event_id), kind=item.kind, error=repr(type(e))
                )
                await self._finish(item, person, mid, DeliveryState.FAILED, None, reason)
                failures.append(_undelivered(item, person, None, reason))
                continue
            claim = await self._log.claim(event_id, person, mid)
            try:
                await session.send(message, contact.email)
            except smtp.PermanentRejection as e:
                await self._finish(item, person, mid, DeliveryState.FAILED, e.code, e.message)
                failures.append(_undelivered(item, person, e.code, e.message))
                continue
            sent_now.append(mid)
            activity.heartbeat(sorted(sent_before | set(sent_now)))
            await self._finish(item, person, mid, DeliveryState.SENT, attempts=claim.attempts)
        return failures

    async def _finish(
        self,
        item: OutboxItem,
        person: str,
        mid: str,
        state: DeliveryState,
        code: int | None = None,
        error: str | None = None,
        attempts: int = 1,
    ) -> None:
        await self._log.finish(item.event.event_id, person, mid, state, code, error)
        metrics.NOTIFICATIONS.labels(state.value).inc()
        # A failure is a warning: someone did not get a message they should have.
        (log.info if state is DeliveryState.SENT else log.warning)(
            "notification_delivered" if state is DeliveryState.SENT else "notification_failed",
            event_id=str(item.event.event_id),
            kind=item.kind,
            person_id=person,
            smtp_code=code,
            attempts=attempts,
        )

    async def _occasion(
        self, programme_id: str, item: OutboxItem, streams: dict[str, list[RecordedEvent]]
    ) -> Occasion | None:
        programme = await self._directory.programme(programme_id)
        if programme is None:
            return None
        stream = item.event.stream_id
        if stream not in streams or streams[stream][-1].version < item.event.version:
            streams[stream] = await self._events.read_stream(stream)
        history = _decode([e for e in streams[stream] if e.version <= item.event.version])
        event = history[-1]
        contacts = await self._directory.people(
            programme_id, people_named(event, history) | {programme.coordinator_id}
        )
        return occasion(item.kind, event, history, programme, contacts)

    def _message(self, o: Occasion, to: Contact, mid: str) -> EmailMessage:
        letter = self._stationery.write(o, to)
        message = EmailMessage()
        message["From"] = self._config.sender
        message["To"] = formataddr((to.name, to.email))
        message["Subject"] = letter.subject
        message["Message-ID"] = mid
        # The decision's time, not the sending time: a simulated year reads in its own dates.
        message["Date"] = format_datetime(o.event.occurred_at)
        message["X-Mentorflow-Event"] = str(o.event.event_id)
        message["X-Mentorflow-Kind"] = o.kind
        message.set_content(letter.body)
        if letter.invite is not None:
            message.add_attachment(
                to_ics(letter.invite),
                subtype="calendar",
                filename="invite.ics",
                params={"method": letter.invite.method.value},
            )
        # After the attachment: turning the message into multipart moves Content-* headers down.
        message["Content-Language"] = to.locale
        return message


def _decode(records: Sequence[RecordedEvent]) -> list[Event]:
    if not records:
        return []
    decode = (
        from_record if records[0].type == "relationship_started" else programme_event_from_record
    )
    return [decode(r.type, r.event_id, r.occurred_at, r.actor, r.payload) for r in records]


def _undelivered(item: OutboxItem, person: str, code: int | None, reason: str) -> Undelivered:
    return Undelivered(
        notification_of=item.event.event_id,
        kind=item.kind,
        person_id=person,
        smtp_code=code,
        reason=reason,
    )
