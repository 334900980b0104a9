"""The coordinator's programme page and its /api/v1 twin, over a real ProgrammeWorkflow on the
time-skipping server and a real PostgreSQL.

A coordinator signed in as the programme's coordinator marks a mentor trained (the domain's
refusals shown translated), sees the proposal with its explanations, edits it so that a hard rule
breaks (refused before anything is sent, the rule named), then validly, and approves. Auditors
and other programmes' coordinators are refused; an admin who is not the programme's coordinator
marks a mentor trained under their own staff id; a coordinator listed for the programme who is
not its coordinator is answered with the domain's refusal.
"""

import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from activities.record_keeping import to_new_event
from domain.calendar import calendar
from domain.envelope import Event
from domain.matching import MatchingResult, ProposedGroup, Unmatched
from domain.model import Role as PersonRole
from domain.programme.events import (
    MatchingApproved,
    MatchingProposed,
    PhaseEntered,
    ProgrammePhase,
    ProgrammeStarted,
    RelationshipLaunched,
)
from domain.programme.model import Coordinator, Matching, Participant, Programme, Training
from domain.programme.state import ProgrammeState
from domain.relationship.events import MemberAdded, MemberWithdrew
from mentorflow.csv_export import write_csv
from mentorflow.programmes import register
from mentorflow.synthetic import cohort
from mentorflow.web.staff.coordinate import group_number, view_of
from mentorflow.web.staff.report import ProgrammeReportView, report_of, rows_of
from store.event_store import EventStore
from store.staff import Role, StaffRegister
from tests.builders import COORDINATOR
from tests.staff_helpers import (
    own_database,
    record_meeting,
    recorded_relationship,
    relationship_started,
    sign_in_staff,
    staff_member,
    started_programme,
)
from tests.temporal_helpers import running_worker, sleep_until
from tests.web_helpers import app_for, browser_client, csrf_of
from workflows.messages import programme_workflow_id, workflow_id
from workflows.programme import ProgrammeWorkflow

HELSINKI, NEW_YORK = "Europe/Helsinki", "America/New_York"


def programme(today: date, email: str, zone: str = HELSINKI) -> Programme:
    return Programme(
        id=f"c-{uuid.uuid4().hex[:8]}",
        name="Coordinated programme",
        timezone=zone,
        starts_on=today + timedelta(days=10),
        ends_on=today + timedelta(days=130),
        coordinator=Coordinator(id="hr1", name="Pia Coordinator", email=email),
        training=Training(required=True, deadline=today + timedelta(days=5)),
        matching=Matching(runs_on=today + timedelta(days=10), approval="coordinator"),
    )


def people() -> list[Participant]:
    """m1-m4 (m4 untrained), a1-a6; m1 manages a1 (a hard rule: never matched together)."""
    found = cohort(4, 6, seed=9, trained_share=1.0, managers=1000)
    found[3] = found[3].model_copy(update={"trained_on": None})
    found[4] = found[4].model_copy(update={"manager": "m1"})
    return found


def test_the_programme_view_gives_local_dates_west_of_utc_across_dst():
    """New York, a programme spanning the start of summer time: the calendar's days are the
    programme file's local days, the last day and the training deadline included."""
    p = Programme(
        id="ny",
        name="NY",
        timezone=NEW_YORK,
        starts_on=date(2027, 3, 1),
        ends_on=date(2027, 3, 31),  # summer time starts 2027-03-14
        coordinator=Coordinator(id="hr1", name="Pia", email="pia@example.org"),
        training=Training(required=True, deadline=date(2027, 2, 20)),
        matching=Matching(runs_on=date(2027, 2, 25)),
    )
    state = ProgrammeState(
        programme=p,
        calendar=calendar(p),
        started_at=datetime(2027, 2, 1, tzinfo=UTC),
        participants={},
    )
    view = view_of(state)
    assert (view.starts_on, view.ends_on) == (date(2027, 3, 1), date(2027, 3, 31))
    assert (view.training_by, view.matching_on) == (date(2027, 2, 20), date(2027, 2, 25))


async def test_a_coordinator_marks_trained_edits_the_proposal_and_approves(env, pool, mail):
    """Refusals are the domain's, translated; a broken hard rule is named and nothing sent."""
    today = (await env.get_current_time()).date()
    email = f"pia-{uuid.uuid4().hex[:8]}@example.org"
    p = programme(today, email)
    coordinator = await StaffRegister(pool).add(email, Role.COORDINATOR, (p.id,))
    admin = await staff_member(pool, Role.ADMIN)
    auditor = await staff_member(pool, Role.AUDITOR)
    other = await staff_member(pool, Role.COORDINATOR, "other")
    deputy = await StaffRegister(pool).add(f"deputy-{email}", Role.COORDINATOR, (p.id,))
    app, links = app_for(env.client, pool, mail)
    page_of = f"/staff/programmes/{p.id}"
    async with (
        running_worker(env.client, pool, mail) as task_queue,
        browser_client(app) as browser,
        browser_client(app) as admin_browser,
        browser_client(app) as auditor_browser,
        browser_client(app) as other_browser,
        browser_client(app) as deputy_browser,
    ):
        handle = await started_programme(env.client, pool, p, people(), task_queue)
        await handle.query(ProgrammeWorkflow.state)
        await sign_in_staff(browser, links, coordinator)
        await sign_in_staff(admin_browser, links, admin)
        await sign_in_staff(auditor_browser, links, auditor)
        await sign_in_staff(other_browser, links, other)
        await sign_in_staff(deputy_browser, links, deputy)
        await browser.get("/language/fi?back=/staff")

        # Read only for auditors, nothing for other programmes' coordinators.
        assert (await auditor_browser.get(page_of)).status_code == 403
        assert (await other_browser.get(page_of)).status_code == 403
        assert (await auditor_browser.get(f"/api/v1/programmes/{p.id}")).status_code == 403

        page = await browser.get(page_of)
        assert page.status_code == 200, page.text
        assert "enrolment" in page.text and "ei koulutettu" in page.text  # m4 not trained
        assert f'action="{page_of}/trained"' in page.text and "all-trained" not in page.text
        view = (await browser.get(f"/api/v1/programmes/{p.id}")).json()
        assert (view["starts_on"], view["ends_on"]) == (str(p.starts_on), str(p.ends_on))
        assert view["training_by"] == str(p.training.deadline)

        csrf = csrf_of(page.text)
        future = await browser.post(
            f"{page_of}/trained",
            data={"csrf": csrf, "person_id": "m4", "trained_on": str(today + timedelta(days=9))},
        )
        assert future.status_code == 409 and "Päivämäärä on tulevaisuudessa." in future.text
        mentee = await browser.post(
            f"{page_of}/trained", data={"csrf": csrf, "person_id": "a2", "trained_on": str(today)}
        )
        assert mentee.status_code == 409 and "a2 is not a mentor" in mentee.text
        bad_date = await browser.post(
            f"{page_of}/trained", data={"csrf": csrf, "person_id": "m4", "trained_on": "5.3."}
        )
        assert bad_date.status_code == 400 and 'id="trained_on-error"' in bad_date.text
        mark_m4 = {"person_id": "m4", "trained_on": str(today)}
        other_csrf = csrf_of((await other_browser.get("/staff/attention")).text)
        as_other = await other_browser.post(
            f"{page_of}/trained", data={"csrf": other_csrf, **mark_m4}
        )
        assert as_other.status_code == 403
        auditor_csrf = csrf_of((await auditor_browser.get("/staff/attention")).text)
        as_auditor = await auditor_browser.post(
            f"{page_of}/trained", data={"csrf": auditor_csrf, **mark_m4}
        )
        assert as_auditor.status_code == 403
        assert (
            await auditor_browser.post(f"/api/v1/programmes/{p.id}/trained", json=mark_m4)
        ).status_code == 403
        # Listed for the programme but not its coordinator (another address): the domain refuses.
        deputy_page = await deputy_browser.get(page_of)
        as_deputy = await deputy_browser.post(
            f"{page_of}/trained", data={"csrf": csrf_of(deputy_page.text), **mark_m4}
        )
        assert as_deputy.status_code == 409 and "only the coordinator" in as_deputy.text
        assert (await handle.query(ProgrammeWorkflow.state)).participants["m4"].trained_on is None
        # An admin does not coordinate the programme: accepted, under the admin's own id.
        admin_page = await admin_browser.get(page_of)
        as_admin = await admin_browser.post(
            f"{page_of}/trained", data={"csrf": csrf_of(admin_page.text), **mark_m4}
        )
        assert as_admin.status_code == 303, as_admin.text
        assert (await handle.query(ProgrammeWorkflow.state)).participants["m4"].trained_on == today
        done = await browser.post(
            f"{page_of}/trained", data={"csrf": csrf, "person_id": "m4", "trained_on": str(today)}
        )
        assert done.status_code == 303
        assert (await handle.query(ProgrammeWorkflow.state)).participants["m4"].trained_on == today
        # every mentor trained: a sentence says so, not a form with no one to choose
        all_trained = (await browser.get(page_of)).text
        assert 'data-testid="all-trained">Jokainen mentori on koulutettu' in all_trained
        assert f'action="{page_of}/trained"' not in all_trained
        no_reason = await browser.post(f"{page_of}/remove", data={"csrf": csrf, "person_id": "a6"})
        assert no_reason.status_code == 400 and 'id="reason-error"' in no_reason.text
        removed = await browser.post(
            f"{page_of}/remove", data={"csrf": csrf, "person_id": "a6", "reason": "withdrew"}
        )
        assert removed.status_code == 303
        by_api = await browser.post(
            f"/api/v1/programmes/{p.id}/removal", json={"person_id": "a5", "reason": "other"}
        )
        assert by_api.status_code == 200, by_api.text
        unknown = await browser.post(
            f"/api/v1/programmes/{p.id}/removal", json={"person_id": "zz", "reason": "other"}
        )
        assert unknown.status_code == 409 and unknown.json()["detail"].startswith(
            "not_a_participant:"
        )
        removed_ones = (await handle.query(ProgrammeWorkflow.state)).removed
        assert removed_ones == {"a6": "withdrew", "a5": "other"}

        await sleep_until(env, calendar(p).matching_at + timedelta(hours=1))
        page = await browser.get(page_of)
        assert "odottaa hyväksyntää" in page.text and "Ryhmä 1" in page.text  # not "approval"
        state = await handle.query(ProgrammeWorkflow.state)
        assert state.proposal is not None and state.proposal.groups

        everyone_out = {f"p:{pid}": "-" for pid in state.participants}
        broken = {**everyone_out, "p:m1": "1", "p:m2": "1", "p:a1": "1", "p:a2": "1"}
        for action in ("check", "approve"):
            answer = await browser.post(
                f"{page_of}/matching", data={"csrf": csrf, "action": action, **broken}
            )
            assert answer.status_code == 400, answer.text
            assert "m1 is a1&#39;s manager" in answer.text
        assert (await handle.query(ProgrammeWorkflow.state)).approved is None
        api_check = await browser.post(
            f"/api/v1/programmes/{p.id}/matching/check",
            json={"groups": [{"mentors": ["m1", "m2"], "mentees": ["a1", "a2"]}]},
        )
        assert api_check.status_code == 409
        assert "m1 is a1's manager" in api_check.json()["detail"]

        valid = {**everyone_out, "p:m1": "1", "p:m3": "1", "p:a2": "1", "p:a3": "1"}
        # "I" for 1 is no group (it used to mean "left out" silently), nor is a number past
        # the new group's: each refused at its field, nothing checked or approved.
        last = len(state.proposal.groups) + 1
        for action in ("check", "approve"):
            typos = {**valid, "p:a1": "I", "p:a4": str(last + 1)}
            refused = await browser.post(
                f"{page_of}/matching", data={"csrf": csrf, "action": action, **typos}
            )
            assert refused.status_code == 400, refused.text
            for pid in ("a1", "a4"):
                assert re.search(f'id="p-{pid}"[^>]* aria-invalid="true"', refused.text)
                assert f'<a href="#p-{pid}">Kirjoita ryhmän tai uuden ryhmän numero' in refused.text
            assert 'value="I"' in refused.text and 'data-testid="rules-hold"' not in refused.text
            assert 'aria-invalid="true"' not in refused.text.split('id="p-a2"')[1].split(">")[0]
        assert (await handle.query(ProgrammeWorkflow.state)).approved is None

        checked = await browser.post(
            f"{page_of}/matching", data={"csrf": csrf, "action": "check", **valid}
        )
        assert checked.status_code == 200 and 'data-testid="rules-hold"' in checked.text
        # each person's field keeps where the edit put them (m1 in group 1, a1 left out); one
        # list of the group numbers serves every field
        assert re.search(
            r'id="p-m1" name="p:m1" [^>]*list="group-numbers"[^>]* value="1"', checked.text
        )
        assert re.search(
            r'id="p-a1" name="p:a1" [^>]*inputmode="numeric"[^>]* value="-"', checked.text
        )
        assert checked.text.count("<datalist") == 1
        assert f'<option value="{last}">Uusi ryhmä</option>' in checked.text
        assert (await handle.query(ProgrammeWorkflow.state)).approved is None
        approved = await browser.post(
            f"{page_of}/matching", data={"csrf": csrf, "action": "approve", **valid}
        )
        assert approved.status_code == 303, approved.text
        state = await handle.query(ProgrammeWorkflow.state)
        assert [(g.mentors, g.mentees) for g in state.approved] == [(("m1", "m3"), ("a2", "a3"))]
        again = await browser.post(f"/api/v1/programmes/{p.id}/matching/approval", json={})
        assert again.status_code == 409 and "nothing_to_approve" in again.json()["detail"]

        await sleep_until(env, calendar(p).matching_at + timedelta(days=1))
        state = await handle.query(ProgrammeWorkflow.state)
        for rid in state.launched:
            await env.client.get_workflow_handle(workflow_id(rid)).terminate("test done")
        await handle.terminate("test done")

    events = await pool.fetch(
        "SELECT type, actor FROM events WHERE stream_id = $1 AND type IN"
        " ('mentor_trained', 'matching_approved', 'participant_removed')",
        programme_workflow_id(p.id),
    )
    assert sorted((r["type"], r["actor"]) for r in events) == [
        ("matching_approved", "hr1"),
        ("mentor_trained", "hr1"),
        ("mentor_trained", f"staff:{admin.staff_id}"),
        ("participant_removed", "hr1"),
        ("participant_removed", "hr1"),
    ]


# ---- the report -----------------------------------------------------------------------------


def test_a_report_of_fewer_than_three_people_shows_nothing_and_csv_cells_are_text():
    """Under three people nothing is shown; a cell a spreadsheet would run is written as text."""
    empty = report_of("tiny", HELSINKI, [])
    assert empty.withheld == ["programme"] and not empty.meetings_by_month
    crafted = ProgrammeReportView(
        programme_id="p",
        timezone=HELSINKI,
        groups=1,
        people=4,
        meetings_by_month={},
        feedback={},
        scales={"=HYPERLINK(1)": {"q1": dict.fromkeys("12345", 1)}},
        escalations={},
        withheld=[],
    )
    out = io.StringIO()
    write_csv(out, ("section", "key", "item", "value"), rows_of(crafted))
    assert "\nscale,'=HYPERLINK(1)/q1,1,1" in out.getvalue()
    assert "\n=" not in out.getvalue() and ",=" not in out.getvalue()


async def test_the_report_charts_aggregates_for_its_coordinator_only(env, database_url, mail):
    """Charts as SVG, CSV and JSON exports; auditors and other coordinators are refused."""
    pool = await own_database(database_url)
    try:
        rid = await recorded_relationship(
            pool,
            "rep",
            HELSINKI,
            datetime(2026, 3, 20, 9, tzinfo=ZoneInfo(HELSINKI)),
            datetime(2026, 3, 30, 0, 30, tzinfo=ZoneInfo(HELSINKI)),
        )
        await record_meeting(pool, rid)
        app, links = app_for(env.client, pool, mail)
        coordinator = await staff_member(pool, Role.COORDINATOR, "rep")
        auditor = await staff_member(pool, Role.AUDITOR)
        other = await staff_member(pool, Role.COORDINATOR, "other")
        async with browser_client(app) as browser, browser_client(app) as refused:
            await sign_in_staff(refused, links, auditor)
            assert (await refused.get("/staff/programmes/rep/report")).status_code == 403
            assert (await refused.get("/api/v1/programmes/rep/report")).status_code == 403
            await sign_in_staff(refused, links, other)
            assert (await refused.get("/staff/programmes/rep/report.csv")).status_code == 403

            await sign_in_staff(browser, links, coordinator)
            page = await browser.get("/staff/programmes/rep/report")
            assert page.status_code == 200, page.text
            assert "<svg" in page.text and "<script" not in page.text
            assert "free-text answers are never shown" in page.text
            assert "2026-03" in page.text  # held on 31 March (the recorded date)
            exported = await browser.get("/staff/programmes/rep/report.json")
            report = exported.json()
            assert report["meetings_by_month"] == {"2026-03": {"held": 1, "not_held": 0}}
            assert report == (await browser.get("/api/v1/programmes/rep/report")).json()
            csv_file = await browser.get("/staff/programmes/rep/report.csv")
            assert csv_file.headers["content-type"].startswith("text/csv")
            assert "meetings,2026-03,held,1" in csv_file.text
            unknown = await browser.get("/api/v1/programmes/nowhere/report")
            assert unknown.status_code == 403  # not one of theirs: the same as any other
    finally:
        await pool.close()


def test_the_edit_form_reads_a_group_number_the_new_groups_or_a_dash_and_nothing_else() -> None:
    """1 to 3 are groups when the proposal has two (3 forms a new one), ``-`` leaves a person
    out; anything else names no group, rather than being guessed (it once meant "left out")."""
    assert [group_number(v, 3) for v in ("1", "3", "03", "-")] == [1, 3, 3, 0]
    for typo in ("", "I", "0", "4", "1.", "+", "-1", "1 2", "٣", "9" * 5000):
        assert group_number(typo, 3) is None, typo


# ---- membership changed after the matching ----------------------------------------------------


def matched_programme(p: Programme, cohort_: list[Participant]) -> list[Event]:
    """``p`` started with ``cohort_`` (m1, m2, a1-a4); one group of m1, m2, a1-a3 proposed and
    approved as it is, a4 not matched; the group launched: as the ProgrammeWorkflow records it."""
    group_ = ProposedGroup(
        number=1, mentors=("m1", "m2"), mentees=("a1", "a2", "a3"), score=0, explanation=()
    )
    left = Unmatched(person_id="a4", role=PersonRole.MENTEE, reason="no group had room")
    result = MatchingResult(groups=(group_,), unmatched=(left,), score=0, optimal=False)
    at = datetime.combine(p.matching.runs_on, datetime.min.time(), UTC)

    def made(cls: type[Event], **fields: object) -> Event:
        return cls(event_id=uuid.uuid4(), occurred_at=at, actor="system", **fields)

    return [
        made(
            ProgrammeStarted,
            recipients=(),
            programme=p,
            calendar=calendar(p),
            participants=tuple(x.profile() for x in cohort_),
        ),
        made(PhaseEntered, phase=ProgrammePhase.MATCHING),
        made(MatchingProposed, result=result, approval_due=None, recipients=()),
        made(MatchingApproved, groups=(group_,), edited=False),
        made(PhaseEntered, phase=ProgrammePhase.RUNNING),
        made(
            RelationshipLaunched,
            relationship_id=f"{p.id}:1",
            number=1,
            mentors=group_.mentors,
            mentees=group_.mentees,
        ),
    ]


async def test_a_member_added_to_a_group_later_is_no_longer_shown_as_not_matched(
    env, database_url, mail
):
    """a4, left unmatched by the matching, takes a3's place in group 1 from the attention
    inbox (``member_withdrew`` and ``member_added`` in the group's record only): the programme
    page lists a4 under the group, added later in place of a3, and no longer as not matched."""
    pool = await own_database(database_url)
    try:
        today = (await env.get_current_time()).date()
        p = programme(today, f"pia-{uuid.uuid4().hex[:8]}@example.org")
        cohort_ = cohort(2, 4, seed=9, trained_share=1.0)
        await register(pool, p, cohort_)
        store = EventStore(pool)
        events = matched_programme(p, cohort_)
        await store.append(programme_workflow_id(p.id), 0, [to_new_event(e) for e in events])
        rid = f"{p.id}:1"
        starts = events[0].occurred_at
        group_events: list[Event] = [relationship_started(rid, p.id, starts)]
        await store.append(workflow_id(rid), 0, [to_new_event(e) for e in group_events])
        app, links = app_for(env.client, pool, mail)
        coordinator = await staff_member(pool, Role.COORDINATOR, p.id)
        async with browser_client(app) as browser:
            await sign_in_staff(browser, links, coordinator)
            before = (await browser.get(f"/staff/programmes/{p.id}")).text
            assert "Not matched" in before and "a4 (mentee): no group had room" in before
            assert "added-1" not in before
            api = f"/api/v1/programmes/{p.id}"
            view = (await browser.get(api)).json()
            left_out = {"person_id": "a4", "role": "mentee", "reason": "no group had room"}
            assert (view["not_matched"], view["added_later"]) == ([left_out], [])

            changed = [
                MemberWithdrew(
                    event_id=uuid.uuid4(),
                    occurred_at=starts + timedelta(days=5),
                    actor=COORDINATOR,
                    recipients=(),
                    person_id="a3",
                    reason="[sealed]",
                ),
                MemberAdded(
                    event_id=uuid.uuid4(),
                    occurred_at=starts + timedelta(days=5),
                    actor=COORDINATOR,
                    recipients=(),
                    person_id="a4",
                    role=PersonRole.MENTEE,
                    replaces="a3",
                    reason="[sealed]",
                ),
            ]
            await store.append(workflow_id(rid), 1, [to_new_event(e) for e in changed])
            await browser.get("/language/fi?back=/staff")
            after = (await browser.get(f"/staff/programmes/{p.id}")).text
            assert "a4 (mentee): no group had room" not in after and "Ilman ryhmää" not in after
            added = re.search(r'data-testid="added-1">([^<]*)<', after)
            assert added and added.group(1) == "Lisätty myöhemmin: a4 (aktori) henkilön a3 tilalle."
            view = (await browser.get(api)).json()
            assert view["proposal"]["unmatched"] == [left_out]  # the proposal as it was made
            joined = {"group": 1, "person_id": "a4", "role": "mentee", "replaces": "a3"}
            assert (view["not_matched"], view["added_later"]) == ([], [joined])
    finally:
        await pool.close()
