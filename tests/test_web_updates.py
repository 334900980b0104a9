"""Sending an Update when Temporal does not answer, or its workflow is gone (web.updates).

A participant's form and a coordinator's Updates (the programme page, the attention inbox), sent
through an app whose Temporal client points at a server that has stopped, give the 503 "busy"
page (a problem details object on the JSON API) and write nothing: never "the group/programme is
closed". A workflow that has closed, or that Temporal does not know, still gives "closed" (409).
Over the real dev server (its workflows are terminated at the end) and PostgreSQL.
"""

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from temporalio.client import Client
from temporalio.service import RetryConfig, RPCError

from activities.links import AGREEMENT, Claim
from activities.record_keeping import to_new_event
from domain.envelope import Event
from domain.relationship.events import EscalationKind, EscalationRaised
from mentorflow import embedded
from store.directory import Contact, Directory, ProgrammeEntry
from store.event_store import EventStore
from store.staff import Role, StaffRegister
from tests.builders import COORDINATOR
from tests.staff_helpers import relationship_started, sign_in_staff, started_programme
from tests.temporal_helpers import running_worker
from tests.test_staff_coordinate import people, programme
from tests.web_helpers import app_for, browser_client, csrf_of, started_group, worker_with_links
from workflows.messages import workflow_id
from workflows.programme import ProgrammeWorkflow


@pytest_asyncio.fixture(scope="module")
async def stopped() -> Client:
    """A client, as the app connects it at start, to a Temporal server that then stopped.

    It gives up on the unreachable server after one retry instead of the SDK's ten seconds of
    them: what the app does with the failure is the same, each refused request a few seconds
    sooner (these tests took 43 s, mostly waiting on those retries)."""
    server = await embedded.start_dev_server()
    client = await Client.connect(
        server.client.service_client.config.target_host,
        namespace=server.client.namespace,
        data_converter=server.client.data_converter,
        retry_config=RetryConfig(
            initial_interval_millis=50, max_retries=1, max_elapsed_time_millis=1000
        ),
    )
    await server.shutdown()
    return client


NEWCOMER = {"id": "n9", "role": "mentee", "name": "Nea Newcomer", "email": "nea@example.org"}
"""A participant enrolled from the programme page while the programme cannot take it."""


def agreement_claim(rid: str) -> Claim:
    return Claim("test", "m1", AGREEMENT, rid, datetime.now(UTC) + timedelta(days=3))


async def post_agreement(app_links: tuple, rid: str):  # type: ignore[type-arg]
    """m1 (who reads Finnish) opens the agreement form by their link and sends it."""
    app, links = app_links
    async with browser_client(app) as browser:
        landed = await browser.get(links.url(agreement_claim(rid)).removeprefix(links.public_url))
        page = await browser.get(landed.headers["location"])
        assert page.status_code == 200, page.text
        form = {"csrf": csrf_of(page.text), "goals": "Esiintyminen", "agreement": "Kerran kuussa"}
        return await browser.post(f"/g/{rid}/agreement", data=form)


async def test_a_participant_is_told_the_service_is_busy_not_that_the_group_closed(
    dev_env, stopped, pool, mail
):
    _, links = app_for(dev_env.client, pool, mail)
    async with worker_with_links(dev_env.client, pool, mail, links) as queue:
        now = datetime.now(UTC).replace(microsecond=0)
        group = await started_group(dev_env.client, pool, queue, now)
        rid = group.relationship_id
        busy = await post_agreement(app_for(stopped, pool, mail), rid)
        assert busy.status_code == 503, busy.text
        assert "Palvelu on kiireinen. Yritä hetken kuluttua uudelleen." in busy.text
        assert "päättynyt" not in busy.text
        events = await EventStore(pool).read_stream(workflow_id(rid))
        assert not [e for e in events if "agreement_recorded" in str(e)]

        await dev_env.client.get_workflow_handle(workflow_id(rid)).terminate("test: closed")
        closed = await post_agreement(app_for(dev_env.client, pool, mail), rid)
        assert closed.status_code == 409, closed.text
        assert "Ryhmä on päättynyt." in closed.text and "kiireinen" not in closed.text


async def test_a_coordinators_update_is_busy_not_closed_when_temporal_does_not_answer(
    dev_env, stopped, pool, mail
):
    today = datetime.now(UTC).date()
    email = f"pia-{uuid.uuid4().hex[:8]}@example.org"
    p = programme(today, email)
    coordinator = await StaffRegister(pool).add(email, Role.COORDINATOR, (p.id,))
    page_of = f"/staff/programmes/{p.id}"
    trained = {"person_id": "m4", "trained_on": str(today)}
    async with running_worker(dev_env.client, pool, mail) as task_queue:
        handle = await started_programme(dev_env.client, pool, p, people(), task_queue)
        try:
            app, links = app_for(stopped, pool, mail)
            async with browser_client(app) as browser:
                await sign_in_staff(browser, links, coordinator)
                for _ in range(100):  # the projection has the programme once it started
                    page = await browser.get(page_of)
                    if page.status_code == 200:
                        break
                    await asyncio.sleep(0.1)
                assert page.status_code == 200, page.text
                csrf = csrf_of(page.text)
                busy = await browser.post(f"{page_of}/trained", data={"csrf": csrf, **trained})
                assert busy.status_code == 503, busy.text
                assert "The service is busy. Try again in a moment." in busy.text
                assert "closed" not in busy.text
                api = await browser.post(f"/api/v1/programmes/{p.id}/trained", json=trained)
                assert api.status_code == 503, api.text
                assert api.headers["content-type"] == "application/problem+json"
                assert api.json()["status"] == 503 and "busy" in api.json()["detail"]
                enrolled = await browser.post(f"/api/v1/programmes/{p.id}/enrolment", json=NEWCOMER)
                assert enrolled.status_code == 503, enrolled.text
            state = await handle.query(ProgrammeWorkflow.state)
            assert state.participants["m4"].trained_on is None  # nothing was sent
            # The enrolment wrote its contact before the Update: taken back, as it was refused.
            assert await Directory(pool).people(p.id, ["n9"]) == {}

            await handle.terminate("test: closed")
            app, links = app_for(dev_env.client, pool, mail)
            async with browser_client(app) as browser:
                await sign_in_staff(browser, links, coordinator)
                csrf = csrf_of((await browser.get(page_of)).text)
                closed = await browser.post(f"{page_of}/trained", data={"csrf": csrf, **trained})
                assert closed.status_code == 409, closed.text
                assert "The programme is closed." in closed.text
                api = await browser.post(f"/api/v1/programmes/{p.id}/trained", json=trained)
                assert api.status_code == 409 and "programme_closed" in api.json()["detail"]
                enrolled = await browser.post(f"/api/v1/programmes/{p.id}/enrolment", json=NEWCOMER)
                assert enrolled.status_code == 409, enrolled.text
            assert await Directory(pool).people(p.id, ["n9"]) == {}
        finally:
            with contextlib.suppress(RPCError):  # terminated above unless the test failed first
                await handle.terminate("test done")


async def test_an_acknowledgement_is_busy_when_temporal_does_not_answer_closed_with_no_workflow(
    dev_env, stopped, pool, mail
):
    """A group in the record whose workflow Temporal does not know (written to the store as the
    workflow writes it, never started): acknowledging its escalation is "busy" while Temporal
    does not answer, and "the group has closed" when it answers that there is no such workflow."""
    programme_id = f"att-{uuid.uuid4().hex[:8]}"
    rid = f"{programme_id}:1"
    email = f"hr-{uuid.uuid4().hex[:8]}@example.org"
    await Directory(pool).register(
        ProgrammeEntry(programme_id, "Attention", "Europe/Helsinki", COORDINATOR),
        [Contact(COORDINATOR, "Person HR1", email, "en")],
    )
    coordinator = await StaffRegister(pool).add(email, Role.COORDINATOR, (programme_id,))
    starts = datetime.now(UTC) - timedelta(days=40)
    events: list[Event] = [
        relationship_started(rid, programme_id, starts),
        EscalationRaised(
            event_id=uuid.uuid4(),
            occurred_at=starts + timedelta(days=30),
            actor="system",
            recipients=(COORDINATOR,),
            kind=EscalationKind.AGREEMENT_OVERDUE,
            subject="agreement",
            reason="no agreement recorded",
            scheduled_for=starts + timedelta(days=30),
        ),
    ]
    await EventStore(pool).append(workflow_id(rid), 0, [to_new_event(e) for e in events])
    note = {"note": "Called the mentors"}
    for client, status, said in [
        (stopped, 503, "The service is busy. Try again in a moment."),
        (dev_env.client, 409, "The group has closed."),
    ]:
        app, links = app_for(client, pool, mail)
        async with browser_client(app) as browser:
            await sign_in_staff(browser, links, coordinator)
            inbox = await browser.get("/staff/attention")
            assert inbox.status_code == 200 and rid in inbox.text
            form = {"csrf": csrf_of(inbox.text), **note}
            acknowledged = await browser.post(f"/staff/attention/{rid}/1", data=form)
            assert acknowledged.status_code == status and said in acknowledged.text
            path = f"/api/v1/relationships/{rid}/escalations/1/acknowledgement"
            api = await browser.post(path, json=note)
            assert api.status_code == status, api.text
    stored = await EventStore(pool).read_stream(workflow_id(rid))
    assert len(stored) == 2  # nothing was recorded
