"""Notifications end to end: a real SMTP server (aiosmtpd) in the test process, real PostgreSQL,
real Temporal; the messages are read back from the Maildir the server files them in."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from temporalio import activity
from temporalio.testing import ActivityEnvironment

from activities.mail.letters import KINDS, LOCALES, Stationery
from activities.mail.postman import DeliverInput, DeliveryReport, Postman, message_id
from activities.record_keeping import to_new_event
from domain.codec import RELATIONSHIP
from domain.envelope import DeliveryFailed
from domain.factory import EventFactory
from domain.relationship import commands
from domain.relationship.commands import Pause, Resume, ScheduleMeeting, Withdraw
from domain.relationship.events import MeetingPlanned, MeetingScheduled
from mentorflow.verify import replay_all_runs
from store.deliveries import DeliveryLog
from store.directory import Contact, Directory, ProgrammeEntry
from store.event_store import EventStore
from tests.builders import COORDINATOR, IN_SECONDS, SHORT, spec
from tests.builders import LOCALES as PEOPLE_LOCALES
from tests.conftest import BOUNCING
from tests.mailbox_helpers import calendar_of, messages
from tests.temporal_helpers import (
    result_within,
    running_worker,
    sleep_until,
    start_relationship,
    whole_seconds_now,
)
from workflows.messages import workflow_id
from workflows.relationship import RelationshipWorkflow

TEMPLATES = Path(__file__).parent.parent / "activities" / "mail" / "templates"


def test_every_kind_has_a_template_in_every_language_and_nothing_else():
    expected = {f"{locale}/{kind}.txt" for locale in LOCALES for kind in KINDS}
    assert set(Stationery().template_names()) == expected
    for name in expected:
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        assert "{% block subject %}" in text and "{% block body %}" in text, name


async def events_of(store: EventStore, rid: str):
    return [RELATIONSHIP.decode(r) for r in await store.read_stream(workflow_id(rid))]


def vevent(message):
    cal = calendar_of(message)
    assert cal is not None, message["Subject"]
    (event,) = cal.walk("VEVENT")
    return cal, event


async def test_every_decided_notification_reaches_each_recipient_once_in_their_language(
    mail, env, pool, store
):
    """A group with a pause and a withdrawal, to its end: the Maildir holds one message per
    recipient of every outbox row, in the recipient's language, with working invitations."""
    rid = f"mail-{uuid.uuid4()}"
    starts = await whole_seconds_now(env)
    async with running_worker(env.client, pool, mail) as task_queue:
        handle = await start_relationship(
            env, task_queue, spec(rid, starts, starts + timedelta(days=60), SHORT)
        )
        await sleep_until(env, starts + timedelta(days=1))
        first_at = starts + timedelta(days=6)
        plan = ScheduleMeeting(by="m1", starts_at=first_at, place="Room 3")
        await handle.execute_update(RelationshipWorkflow.schedule_meeting, plan)
        moved_at = first_at + timedelta(hours=2)
        plan = ScheduleMeeting(by="m2", starts_at=moved_at, minutes=60, place="Room 3")
        await handle.execute_update(RelationshipWorkflow.schedule_meeting, plan)
        await sleep_until(env, starts + timedelta(days=2))
        await handle.execute_update(RelationshipWorkflow.pause, Pause(by="m1", reason="holidays"))
        await sleep_until(env, starts + timedelta(days=5))
        await handle.execute_update(RelationshipWorkflow.resume, Resume(by=COORDINATOR))
        await sleep_until(env, starts + timedelta(days=10))
        await handle.execute_update(
            RelationshipWorkflow.withdraw, Withdraw(person_id="a3", by="a3", reason="new job")
        )
        await result_within(handle)
        await replay_all_runs(env.client, handle)

    outbox = await store.outbox(workflow_id(rid))
    owed = {(str(event_id), person) for event_id, _, recipients in outbox for person in recipients}
    received = messages(mail, {event_id for event_id, _ in owed})
    emails = {f"{p}@example.org": p for p in PEOPLE_LOCALES}
    got = [(m["X-Mentorflow-Event"], emails[m["To"].addresses[0].addr_spec]) for m in received]
    assert len(got) == len(set(got)) and set(got) == owed
    assert all(mail.handler.received[m["Message-ID"]] == 1 for m in received)
    for m in received:
        person = emails[m["To"].addresses[0].addr_spec]
        assert m["Content-Language"] == PEOPLE_LOCALES[person]
        assert m["Subject"] and f"Person {person.upper()}" in m.get_body().get_content()
    kinds = {kind for _, kind, _ in outbox}
    assert {"relationship_started", "meeting_planned", "resumed", "member_withdrew"} <= kinds

    events = await events_of(store, rid)
    first, moved_event = [e for e in events if isinstance(e, MeetingPlanned)]
    by_event = {}
    for m in received:
        by_event.setdefault(m["X-Mentorflow-Event"], {})[m["To"].addresses[0].username] = m

    # The cycle's due date is no meeting time: its letter has no invitation.
    due = next(e for e in events if isinstance(e, MeetingScheduled) and e.number == 1)
    assert calendar_of(by_event[str(due.event_id)]["a1"]) is None

    # The invitation in each language: subject words, the planned day in the programme's zone.
    helsinki_day = first.starts_at.astimezone(ZoneInfo("Europe/Helsinki")).date()
    for person, word in (("m1", "tapaaminen"), ("m2", "möte"), ("a1", "Meeting")):
        invitation = by_event[str(first.event_id)][person]
        assert word in invitation["Subject"]
        written = format_date(helsinki_day, "long", locale=PEOPLE_LOCALES[person])
        assert written in invitation.get_body().get_content()
        cal, event = vevent(invitation)
        assert str(cal["METHOD"]) == "REQUEST"
        assert str(event["UID"]) == f"{rid}.meeting-1@mentorflow"
        assert event["DTSTART"].dt == first.starts_at
        assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(minutes=90)
        assert str(event["DTSTART"].dt.tzinfo) == "Europe/Helsinki"
        assert event["DTSTART"].params["TZID"] == "Europe/Helsinki"
        assert int(event["SEQUENCE"]) == 0

    # Moving it moves the same calendar entry: same UID, a higher SEQUENCE, the new time.
    _, moved = vevent(by_event[str(moved_event.event_id)]["a1"])
    assert str(moved["UID"]) == f"{rid}.meeting-1@mentorflow"
    assert int(moved["SEQUENCE"]) == 1
    assert moved["DTSTART"].dt == moved_event.starts_at
    assert moved["DTEND"].dt - moved["DTSTART"].dt == timedelta(minutes=60)
    # A pause does not move a time people agreed on: the resumption carries no invitation.
    resumed = next(e for e in events if e.type == "resumed")
    assert calendar_of(by_event[str(resumed.event_id)]["a1"]) is None

    # The one who leaves gets a cancellation of an entry they were invited to; the others do not.
    withdrew = next(e for e in events if e.type == "member_withdrew")
    notices = by_event[str(withdrew.event_id)]
    cal, cancelled = vevent(notices["a3"])
    assert str(cal["METHOD"]) == "CANCEL" and str(cancelled["STATUS"]) == "CANCELLED"
    invited = [
        vevent(m)[1]
        for event_id, to in by_event.items()
        for person, m in to.items()
        if person == "a3" and calendar_of(m) is not None and m is not notices["a3"]
    ]
    earlier = [e for e in invited if str(e["UID"]) == str(cancelled["UID"])]
    assert earlier and int(cancelled["SEQUENCE"]) > max(int(e["SEQUENCE"]) for e in earlier)
    assert calendar_of(notices["m1"]) is None


async def test_a_refused_address_is_recorded_and_escalated_and_a_refused_coordinator_ends_it(
    mail, env, pool, store
):
    """550 for a mentee: a delivery_failed event, and the coordinator told by e-mail. 550 for the
    coordinator too: recorded, nobody left to tell, and no chain of failures."""
    directory = Directory(pool)
    for programme_id, bouncing in (("bounce-mentee", {"a2"}), ("bounce-all", {"a2", COORDINATOR})):
        people = [
            Contact(p, f"Person {p}", f"{BOUNCING if p in bouncing else ''}{p}@example.org", "en")
            for p in PEOPLE_LOCALES
        ]
        entry = ProgrammeEntry(programme_id, "Bounces", "Europe/Helsinki", COORDINATOR)
        await directory.register(entry, people)

    rids = {}
    async with running_worker(env.client, pool, mail) as task_queue:
        for programme_id in ("bounce-mentee", "bounce-all"):
            # Each from the clock's now: waiting for the first to close may move the clock on.
            starts = await whole_seconds_now(env)
            rids[programme_id] = rid = f"{programme_id}-{uuid.uuid4()}"
            relationship = spec(rid, starts, starts + timedelta(days=60), SHORT).model_copy(
                update={"programme_id": programme_id}
            )
            handle = await start_relationship(env, task_queue, relationship)
            for mentor in ("m1", "m2"):  # the group dissolves: the workflow ends by itself
                leave = Withdraw(person_id=mentor, by=mentor, reason="test done")
                await handle.execute_update(RelationshipWorkflow.withdraw, leave)
            await result_within(handle)

    # Notifications are delivered concurrently: whichever failure about a2 comes first is told.
    events = await events_of(store, rids["bounce-mentee"])
    started = events[0]
    failed = [e for e in events if isinstance(e, DeliveryFailed)]
    about_start = [f for f in failed if f.notification_of == started.event_id]
    assert [(f.person_id, f.smtp_code) for f in about_start] == [("a2", 550)]
    assert "@" not in about_start[0].reason  # the server quoted the address; events take ids only
    (first,) = [f for f in failed if f.recipients]
    assert first.person_id == "a2" and first.recipients == (COORDINATOR,)
    # Later messages to the same dead address are recorded, but the coordinator heard it once.
    assert len(failed) > 1 and all(e.person_id == "a2" for e in failed)
    (told,) = messages(mail, {str(first.event_id)})
    assert told["To"].addresses[0].addr_spec == f"{COORDINATOR}@example.org"
    assert "Person a2" in told.get_body().get_content()
    log = await DeliveryLog(pool).deliveries(started.event_id)
    assert log["a2"].state == "failed" and log["m1"].state == "sent"

    events = await events_of(store, rids["bounce-all"])
    failed = [e for e in events if isinstance(e, DeliveryFailed)]
    (first,) = [f for f in failed if f.recipients]
    assert first.person_id == "a2" and first.recipients == (COORDINATOR,)
    assert {f.person_id for f in failed} == {"a2", COORDINATOR}
    # The report about a2 could not reach the coordinator either, and that ends it.
    about_report = [f for f in failed if f.notification_of == first.event_id]
    assert [(f.person_id, f.recipients) for f in about_report] == [(COORDINATOR, ())]


async def test_a_send_whose_mark_is_lost_is_not_sent_again_on_the_retry(mail, dev_env, pool, store):
    """The activity fails after a message went out but before it was marked (on the second
    message, whose heartbeat is throttled): Temporal retries it, and nothing is sent twice.

    On the real dev server in real time: the test server does not skip retry back-off.
    """
    injected: list[int] = []

    class LosesTheMark(Postman):
        marks = 0

        async def _finish(self, item, person, mid, state, *args, **kwargs):
            if state == "sent" and activity.info().attempt == 1:
                LosesTheMark.marks += 1
                if LosesTheMark.marks == 2:
                    injected.append(activity.info().attempt)
                    raise RuntimeError("injected: database lost between send and mark")
            await super()._finish(item, person, mid, state, *args, **kwargs)

    flaky = LosesTheMark(pool, mail.config)

    @activity.defn(name="deliver_notifications")
    async def deliver_notifications(request: DeliverInput) -> DeliveryReport:
        return await flaky.deliver_notifications(request)

    rid = f"once-{uuid.uuid4()}"
    starts = await whole_seconds_now(dev_env)
    async with running_worker(
        dev_env.client, pool, mail, activities=[deliver_notifications]
    ) as task_queue:
        handle = await start_relationship(
            dev_env, task_queue, spec(rid, starts, starts + timedelta(seconds=20), IN_SECONDS)
        )
        await result_within(handle)

    assert injected == [1]
    outbox = await store.outbox(workflow_id(rid))
    owed = {(str(e), p) for e, _, recipients in outbox for p in recipients}
    received = messages(mail, {e for e, _ in owed})
    assert len(received) == len(owed)
    assert [mid for m in received if mail.handler.received[(mid := m["Message-ID"])] != 1] == []
    started = outbox[0][0]
    log = await DeliveryLog(pool).deliveries(started)
    assert {d.state for d in log.values()} == {"sent"} and {d.attempts for d in log.values()} == {1}


async def test_a_claim_without_proof_of_sending_is_sent_again_with_the_same_message_id(
    mail, pool, store
):
    """The worker dies after the server accepted a message but before the heartbeat: the retry
    cannot know, sends again with the same Message-ID, and the mailbox keeps one copy."""
    rid = f"crash-{uuid.uuid4()}"
    now = datetime.now(UTC).replace(microsecond=0)
    started = commands.start(
        spec(rid, now, now + timedelta(days=60), SHORT), EventFactory(now, uuid.uuid4)
    )
    await store.append(workflow_id(rid), 0, [to_new_event(started)])
    request = DeliverInput(programme_id="test", event_ids=[started.event_id])
    postman = Postman(pool, mail.config)

    class WorkerKilled(Exception):
        pass

    def worker_dies(*details):
        raise WorkerKilled("after the server accepted the message, before the heartbeat")

    crashing = ActivityEnvironment()
    crashing.on_heartbeat = worker_dies
    with pytest.raises(WorkerKilled):
        await crashing.run(postman.deliver_notifications, request)
    report = await ActivityEnvironment().run(postman.deliver_notifications, request)

    first = message_id(started.event_id, started.recipients[0], "localhost")
    assert mail.handler.received[first] == 2  # really sent twice ...
    assert len(messages(mail, {str(started.event_id)})) == len(started.recipients)  # ... filed once
    log = await DeliveryLog(pool).deliveries(started.event_id)
    assert log[started.recipients[0]].attempts == 2  # and the record says so
    assert report.sent == len(started.recipients) and report.failed == []
    assert {d.state for d in log.values()} == {"sent"}


def test_the_coordinator_hears_of_each_unreachable_person_once():
    """Pure rule: first failure per person is told; repeats, the coordinator's own and reports
    about reports are only recorded."""
    from domain.delivery import Undelivered, failure_events

    def undelivered(person, kind="meeting_scheduled"):
        return Undelivered(
            notification_of=uuid.uuid4(), kind=kind, person_id=person, smtp_code=550, reason="x"
        )

    factory = EventFactory(datetime(2026, 1, 1, tzinfo=UTC), uuid.uuid4)
    batch = [undelivered("a2"), undelivered("a2"), undelivered("hr1"), undelivered("m1")]
    batch.append(undelivered("a3", kind="delivery_failed"))
    told = [e.recipients for e in failure_events(batch, "hr1", ["m1"], factory)]
    assert told == [("hr1",), (), (), (), ()]
