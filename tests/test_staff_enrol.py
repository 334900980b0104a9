"""Enrolling a participant on the coordinator's programme page and in the API, over a real
ProgrammeWorkflow (time-skipping server, in enrolment) and a real PostgreSQL.

The form is read with the programme file's validation: a bad e-mail address is shown at its
field and nothing is written. A valid enrolment puts the name and address in the directory only
and the profile in the programme (``participant_enrolled``, its actor the coordinator); an id
already in the programme, and an id whose personal data was erased, are refused at the id field
and write nothing. Auditors and other programmes' coordinators are refused.
"""

import uuid

from mentorflow.privacy import erase
from store.directory import Contact, Directory, ProgrammeEntry
from store.sealing import Sealer
from store.staff import Role, StaffRegister
from tests.staff_helpers import sign_in_staff, staff_member, started_programme
from tests.temporal_helpers import running_worker
from tests.test_staff_coordinate import people, programme
from tests.web_helpers import MASTER, app_for, browser_client, csrf_of
from workflows.messages import programme_workflow_id
from workflows.programme import ProgrammeWorkflow


def form(person_id: str, **fields: str) -> dict[str, str]:
    return {
        "id": person_id,
        "name": "Nea Newcomer",
        "email": f"{person_id}@example.org",
        "role": "mentee",
        "locale": "sv",
        "unit": "finance",
        "manager": "boss7",
        "goals": "leadership; payroll",
        "capacity": "",
        "trained_on": "",
        **fields,
    }


async def contact_rows(pool, programme_id: str) -> int:
    return int(
        await pool.fetchval("SELECT count(*) FROM people WHERE programme_id = $1", programme_id)
    )


async def test_a_coordinator_enrols_a_participant_on_the_page_and_in_the_api(env, pool, mail):
    """Errors at their fields and nothing written; the directory gets the contact, the
    programme the profile, sent as the coordinator; others are refused."""
    today = (await env.get_current_time()).date()
    email = f"pia-{uuid.uuid4().hex[:8]}@example.org"
    p = programme(today, email)
    coordinator = await StaffRegister(pool).add(email, Role.COORDINATOR, (p.id,))
    auditor = await staff_member(pool, Role.AUDITOR)
    other = await staff_member(pool, Role.COORDINATOR, "other")
    gone = f"gone-{uuid.uuid4().hex[:6]}"
    earlier = ProgrammeEntry(f"earlier-{gone}", "Earlier", "Europe/Helsinki", "hr1")
    await Directory(pool).register(earlier, [Contact(gone, "Gone", f"{gone}@example.org", "fi")])
    await erase(pool, Sealer(pool, MASTER), gone, "dpo1", "request of 2026-12-01")
    app, links = app_for(env.client, pool, mail)
    page_of = f"/staff/programmes/{p.id}"
    new = f"n-{uuid.uuid4().hex[:6]}"
    async with (
        running_worker(env.client, pool, mail) as task_queue,
        browser_client(app) as browser,
        browser_client(app) as auditor_browser,
        browser_client(app) as other_browser,
    ):
        handle = await started_programme(env.client, pool, p, people(), task_queue)
        await handle.query(ProgrammeWorkflow.state)
        await sign_in_staff(browser, links, coordinator)
        await sign_in_staff(auditor_browser, links, auditor)
        await sign_in_staff(other_browser, links, other)
        page = await browser.get(page_of)
        assert 'action="/staff/programmes/' + p.id + '/enrol"' in page.text
        csrf = csrf_of(page.text)
        before = await contact_rows(pool, p.id)

        bad = await browser.post(
            f"{page_of}/enrol", data={"csrf": csrf, **form(new, email="nea.example.org")}
        )
        assert bad.status_code == 400, bad.text
        assert 'id="enrol_email-error"' in bad.text
        assert "is not a valid e-mail address" in bad.text and 'href="#enrol_email"' in bad.text
        assert 'value="Nea Newcomer"' in bad.text  # the form keeps what was typed
        assert "Enter an e-mail address, like nea.newcomer@example.org." in bad.text
        finnish = await browser.post(
            f"{page_of}/enrol",
            data={"csrf": csrf, **form(new, email="nea.example.org")},
            headers={"Accept-Language": "fi"},
        )
        assert "Anna sähköpostiosoite, esimerkiksi" in finnish.text
        assert await contact_rows(pool, p.id) == before
        assert new not in (await handle.query(ProgrammeWorkflow.state)).participants
        capacity = await browser.post(
            f"{page_of}/enrol", data={"csrf": csrf, **form(new, role="mentor", capacity="9")}
        )
        assert capacity.status_code == 400 and 'id="enrol_capacity-error"' in capacity.text

        erased = await browser.post(f"{page_of}/enrol", data={"csrf": csrf, **form(gone)})
        assert erased.status_code == 409 and 'id="enrol_id-error"' in erased.text
        assert "personal data was erased" in erased.text
        taken = await browser.post(
            f"{page_of}/enrol", data={"csrf": csrf, **form("m1", name="Not Heidi")}
        )
        assert taken.status_code == 409 and 'id="enrol_id-error"' in taken.text
        contacts = await Directory(pool).people(p.id, ["m1", gone])
        assert gone not in contacts and contacts["m1"].name != "Not Heidi"
        assert await contact_rows(pool, p.id) == before

        refused = await auditor_browser.post(
            f"{page_of}/enrol", data={"csrf": csrf_of(page.text), **form(new)}
        )
        assert refused.status_code == 403
        other_page = await other_browser.get("/staff")
        refused = await other_browser.post(
            f"{page_of}/enrol", data={"csrf": csrf_of(other_page.text), **form(new)}
        )
        assert refused.status_code == 403
        body = {"id": new, "name": "Nea", "email": f"{new}@example.org", "role": "mentee"}
        api = f"/api/v1/programmes/{p.id}/enrolment"
        assert (await auditor_browser.post(api, json=body)).status_code == 403
        assert (await other_browser.post(api, json=body)).status_code == 403
        assert await contact_rows(pool, p.id) == before

        done = await browser.post(f"{page_of}/enrol", data={"csrf": csrf, **form(new)})
        assert done.status_code == 303, done.text
        assert done.headers["location"] == f"{page_of}?done=enrolled"
        shown = await browser.get(done.headers["location"])
        assert "The participant is enrolled." in shown.text
        assert f'<option value="{new}">{new} (mentee)</option>' in shown.text
        state = await handle.query(ProgrammeWorkflow.state)
        profile = state.participants[new]
        assert (profile.role, profile.locale, profile.unit, profile.manager) == (
            "mentee",
            "sv",
            "finance",
            "boss7",
        )
        assert profile.goals == ("leadership", "payroll")
        contact = (await Directory(pool).people(p.id, [new]))[new]
        assert (contact.name, contact.email, contact.locale) == (
            "Nea Newcomer",
            f"{new}@example.org",
            "sv",
        )

        by_api = f"m-{uuid.uuid4().hex[:6]}"
        mentor = {**body, "id": by_api, "email": f"{by_api}@example.org", "role": "mentor"}
        mentor |= {"expertise": ["payroll"], "capacity": 2, "trained_on": str(today)}
        answer = await browser.post(api, json=mentor)
        assert answer.status_code == 200, answer.text
        again = await browser.post(api, json=mentor)
        assert again.status_code == 409 and again.json()["detail"].startswith("duplicate:")
        wrong = await browser.post(api, json={**mentor, "id": "x9", "email": "nope"})
        assert wrong.status_code == 422
        assert wrong.headers["content-type"] == "application/problem+json"
        assert "email" in wrong.json()["detail"]
        erased_api = await browser.post(api, json={**body, "id": gone})
        assert erased_api.status_code == 409 and erased_api.json()["detail"].startswith("erased:")
        state = await handle.query(ProgrammeWorkflow.state)
        assert state.participants[by_api].trained_on == today
        assert "x9" not in state.participants and gone not in state.participants
        assert await contact_rows(pool, p.id) == before + 2
        await handle.terminate("test done")

    actors = await pool.fetch(
        "SELECT actor, payload::text AS payload FROM events"
        " WHERE stream_id = $1 AND type = 'participant_enrolled'",
        programme_workflow_id(p.id),
    )
    assert [r["actor"] for r in actors] == ["hr1", "hr1"]
    assert not [r for r in actors if "Nea" in r["payload"] or "example.org" in r["payload"]]
