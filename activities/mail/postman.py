"""The delivery activity: one pass over a batch of notifications, recipient by recipient.

Per recipient: claim the delivery (committed, under a lease with an owner and an expiry, with a
Message-ID derived from the event id and the person), send, heartbeat the Message-ID, finish
(``sent``, with the relay's 250 reply naming its queue id). Then, by whose fault a refusal is
(``activities/mail/smtp.py``):

- the address (RCPT 5.1.x/5.2.x): ``failed``, final; the workflow records ``delivery_failed``;
- the recipient for now (RCPT 4xx): ``deferred``; the workflow calls again after a back-off, and
  on its last attempt (``final``) a recipient still deferred is given up as ``failed``;
- the relay or configuration (no connection, 421, 535, STARTTLS, 5.7.x): ``deferred`` with the
  fault's kind, the pass stops (the others would fail the same way), operators hear of it (log,
  metric, health); on the last attempt those deliveries are ``held`` for ``mentorflow mail
  resend``, never recorded against the recipient.

The guarantee is at least once, with Message-ID de-duplication: a process that dies between the
relay's 250 and the commit of ``sent`` leaves a ``sending`` claim; once its lease expires the next
attempt sends again with the same Message-ID (unless Temporal handed it the heartbeat that
proves the send), and receivers that drop a repeated Message-ID (the embedded Maildir server
does) file one copy; others may show two.
"""

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from uuid import UUID

import asyncpg
import structlog
from jinja2 import TemplateError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import metrics
from activities.links import Links
from activities.mail import smtp
from activities.mail.invites import to_ics
from activities.mail.letters import Occasion, Stationery, occasion, people_named
from contracts.errors import NO_OUTBOX_ROW
from domain.codec import ANY
from domain.delivery import Undelivered
from domain.envelope import Event
from domain.model import Frozen
from store.deliveries import FINAL, DeliveryLog, DeliveryState, OutboxItem
from store.directory import Contact, Directory
from store.event_store import EventStore, RecordedEvent
from store.sealing import MasterKeys, Sealer

log = structlog.get_logger(__name__)


class DeliverInput(Frozen):
    programme_id: str
    event_ids: list[UUID]
    final: bool = False
    """The last attempt of the retry window: what cannot be sent now is given up (or held)."""


class RetryTiming(Frozen):
    """The worker's delivery policy, handed to the workflow in each report (and so recorded in
    its history: replay does not depend on the worker's settings)."""

    first_retry: timedelta = timedelta(minutes=1)
    max_retry: timedelta = timedelta(minutes=30)
    give_up_after: timedelta = timedelta(days=2)

    @classmethod
    def within(cls, window: timedelta) -> "RetryTiming":
        """Back-off from a minute up to half an hour, shorter for a short window."""
        return cls(
            first_retry=min(timedelta(minutes=1), window / 16),
            max_retry=min(timedelta(minutes=30), window / 4),
            give_up_after=window,
        )


class DeliveryReport(Frozen):
    sent: int
    """Messages sent by this call (0 when a retry found everything done)."""
    failed: list[Undelivered]
    """Every recipient the notifications can never reach, including ones found on a retry."""
    waiting: int = 0
    """Recipients to try again later (deferred, leased elsewhere, or the relay at fault)."""
    relay_fault: str | None = None
    """The kind of relay fault that stopped this pass, if one did."""
    retry: RetryTiming | None = None


_RENDERING_ERRORS = (TemplateError, LookupError, AttributeError, TypeError, ValueError)


def message_id(event_id: UUID, person_id: str, domain: str) -> str:
    return f"<{event_id}.{person_id}@{domain}>"


class _Pass:
    """One pass's bookkeeping: who is done, who waits, and whether the relay stopped it."""

    def __init__(self, owner: str, final: bool, sent_before: set[str], proof: Callable[..., None]):
        self.owner, self.final, self.sent_before, self.proof = owner, final, sent_before, proof
        self.sent: list[str] = []
        self.failed: list[Undelivered] = []
        self.waiting = 0
        self.relay_fault: smtp.RelayFault | None = None


class Postman:
    def __init__(
        self,
        pool: asyncpg.Pool,
        config: smtp.SmtpConfig,
        timing: RetryTiming | None = None,
        lease: timedelta | None = None,
        links: Links | None = None,
        master: MasterKeys | None = None,
    ):
        self._events = EventStore(pool)
        # Letters quote what people wrote (a withdrawal's reason): opened here, never stored.
        self._sealer = Sealer(pool, master) if master is not None else None
        self._log = DeliveryLog(pool)
        self._directory = Directory(pool)
        self._config = config
        self._timing = timing or RetryTiming()
        # Longer than one send can take: a lease runs out only on a sender that died.
        self._lease = lease or timedelta(seconds=2 * config.timeout)
        self._stationery = Stationery(links, guide_url=links.guide_url() if links else None)
        self._domain = smtp.sender_domain(config.sender)

    @activity.defn
    async def deliver_notifications(self, request: DeliverInput) -> DeliveryReport:
        info = activity.info()
        details = info.heartbeat_details
        owner = f"{info.workflow_run_id}/{info.activity_id}/{info.attempt}"
        proof: list[str] = sorted(details[0]) if details else []

        def prove(sent: list[str]) -> None:
            proof[:] = sent
            activity.heartbeat(sent)

        # Heartbeats go on during a slow send too: a short heartbeat timeout then tells a dead
        # worker from a slow relay, and the retry comes soon after a crash.
        beating = asyncio.create_task(_heartbeat(lambda: list(proof)))
        try:
            return await self.deliver(request, owner, set(proof), prove)
        finally:
            beating.cancel()

    @activity.defn
    async def pending_notifications(self, stream_id: str) -> list[UUID]:
        """Outbox rows of a stream still to deliver (a new run takes up what its previous left)."""
        return await self._log.undelivered(stream_id)

    async def deliver(
        self,
        request: DeliverInput,
        owner: str,
        sent_before: set[str] = frozenset(),  # type: ignore[assignment]
        proof: Callable[..., None] = lambda *_: None,
    ) -> DeliveryReport:
        """One pass over ``request``'s notifications as ``owner`` (also used by ``mail resend``)."""
        p = _Pass(owner, request.final, set(sent_before), proof)
        streams: dict[str, list[RecordedEvent]] = {}  # a batch is one stream: read it once
        async with smtp.Session(self._config) as session:
            for event_id in request.event_ids:
                item = await self._log.item(event_id)
                if item is None:
                    raise ApplicationError(
                        f"event {event_id} has no outbox row",
                        type=NO_OUTBOX_ROW,
                        non_retryable=True,
                    )
                await self._deliver(session, request.programme_id, item, streams, p)
        _relay_health(p.relay_fault, attempted=bool(p.sent) or p.relay_fault is not None)
        return DeliveryReport(
            sent=len(p.sent),
            failed=p.failed,
            waiting=p.waiting,
            relay_fault=p.relay_fault.kind if p.relay_fault else None,
            retry=self._timing,
        )

    async def _deliver(
        self,
        session: smtp.Session,
        programme_id: str,
        item: OutboxItem,
        streams: dict[str, list[RecordedEvent]],
        p: _Pass,
    ) -> None:
        event_id = item.event.event_id
        done = await self._log.deliveries(event_id)
        # Failures an earlier attempt found and the workflow has not recorded yet.
        failed = [d for d in done.values() if d.state is DeliveryState.FAILED]
        if failed:
            recorded = await self._log.recorded_failures(item.event.stream_id, event_id)
            p.failed += [
                _undelivered(item, d.person_id, d.smtp_code, d.error or "")
                for d in failed
                if d.person_id not in recorded
            ]
        waiting = [
            person
            for person in item.recipients
            if person not in done
            or done[person].state in (DeliveryState.SENDING, DeliveryState.DEFERRED)
        ]
        if not waiting:
            return
        occasion_ = await self._occasion(programme_id, item, streams)
        for person in waiting:
            mid = message_id(event_id, person, self._domain)
            if p.relay_fault is not None:  # the relay failed this pass: the rest wait with it
                await self._relay_wait(item, person, mid, p)
                continue
            if person in done and mid in p.sent_before:
                await self._finish(item, person, mid, DeliveryState.SENT)  # sent; the mark was lost
                continue
            contact = occasion_.contacts.get(person) if occasion_ else None
            if occasion_ is None or contact is None:
                await self._fail(item, person, mid, None, await self._no_contact(person), p)
                continue
            try:
                message = self._message(occasion_, contact, mid)
            except _RENDERING_ERRORS as e:
                # A broken template cannot be fixed by retrying, and must not hold the workflow.
                log.error(
                    "letter_failed", event_id=str(event_id), kind=item.kind, error=repr(type(e))
                )
                reason = f"the letter could not be written ({type(e).__name__})"
                await self._fail(item, person, mid, None, reason, p)
                continue
            await self._send(session, item, person, mid, message, contact.email, p)

    async def _send(
        self,
        session: smtp.Session,
        item: OutboxItem,
        person: str,
        mid: str,
        message: EmailMessage,
        address: str,
        p: _Pass,
    ) -> None:
        claim = await self._log.claim(item.event.event_id, person, mid, p.owner, self._lease)
        if claim is None:  # another sender holds a running lease (or an operator held it)
            p.waiting += 1
            return
        try:
            reply = await session.send(message, address)
        except smtp.Refused as e:
            await self._fail(item, person, mid, e.code, e.message, p)
            return
        except smtp.Deferred as e:
            if p.final:
                await self._fail(item, person, mid, e.code, f"gave up retrying: {e.message}", p)
                return
            await self._finish(
                item, person, mid, DeliveryState.DEFERRED, e.code, e.message, fault="recipient"
            )
            p.waiting += 1
            return
        except smtp.RelayFault as e:
            p.relay_fault = e
            log.error("smtp_relay_fault", kind=e.kind, smtp_code=e.code, error=e.message)
            metrics.RELAY_FAULTS.labels(e.kind).inc()
            await self._relay_wait(item, person, mid, p)
            return
        p.sent.append(mid)
        p.proof(sorted(p.sent_before | set(p.sent)))
        await self._finish(
            item, person, mid, DeliveryState.SENT, attempts=claim.attempts, relay_reply=reply
        )

    async def _relay_wait(self, item: OutboxItem, person: str, mid: str, p: _Pass) -> None:
        """Not the recipient's fault: wait for the relay (held for an operator at the end)."""
        fault = p.relay_fault
        assert fault is not None
        state = DeliveryState.HELD if p.final else DeliveryState.DEFERRED
        await self._finish(item, person, mid, state, fault.code, fault.message, fault=fault.kind)
        if not p.final:
            p.waiting += 1

    async def _fail(
        self, item: OutboxItem, person: str, mid: str, code: int | None, reason: str, p: _Pass
    ) -> None:
        await self._finish(item, person, mid, DeliveryState.FAILED, code, reason, fault="recipient")
        p.failed.append(_undelivered(item, person, code, reason))

    async def _finish(
        self,
        item: OutboxItem,
        person: str,
        mid: str,
        state: DeliveryState,
        code: int | None = None,
        error: str | None = None,
        attempts: int = 1,
        fault: str | None = None,
        relay_reply: str | None = None,
    ) -> None:
        await self._log.finish(
            item.event.event_id,
            person,
            mid,
            state,
            code,
            error,
            fault=fault,
            relay_reply=relay_reply,
        )
        if state in FINAL:
            metrics.NOTIFICATIONS.labels(state.value).inc()
        # A failure is a warning: someone did not get a message they should have.
        (log.info if state is DeliveryState.SENT else log.warning)(
            f"notification_{state.value}",
            event_id=str(item.event.event_id),
            kind=item.kind,
            person_id=person,
            smtp_code=code,
            attempts=attempts,
            fault=fault,
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
        records = [e for e in streams[stream] if e.version <= item.event.version]
        if self._sealer is not None:
            records = [
                dataclasses.replace(r, payload=await self._sealer.open_tree(r.payload))
                for r in records
            ]
        history = _decode(records)
        event = history[-1]
        contacts = await self._directory.people(
            programme_id, people_named(event, history) | {programme.coordinator_id}
        )
        return occasion(item.kind, event, history, programme, contacts)

    async def _no_contact(self, person: str) -> str:
        if self._sealer is not None and await self._sealer.erased([person]):
            return "the person's personal data was erased"
        return "no contact details in the directory"

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
    return [ANY.decode(r) for r in records]


def _undelivered(item: OutboxItem, person: str, code: int | None, reason: str) -> Undelivered:
    return Undelivered(
        notification_of=item.event.event_id,
        kind=item.kind,
        person_id=person,
        smtp_code=code,
        reason=reason,
    )


def _relay_health(fault: smtp.RelayFault | None, attempted: bool) -> None:
    """The relay's state for operators: the worker's metrics and health say when it fails."""
    if fault is not None or attempted:
        metrics.relay_failing(fault is not None)


async def _heartbeat(details: Callable[[], list[str]]) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_EVERY.total_seconds())
        activity.heartbeat(details())


HEARTBEAT_EVERY = timedelta(seconds=2)
