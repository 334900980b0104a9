"""`mentorflow programme sync`: a new HR export brought into a running programme.

Against the real Temporal dev server and PostgreSQL (as tests/test_programme_cli.py): the commands
run as the installed console script; this process runs the worker.
"""

import asyncio
import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml
from temporalio.client import WorkflowHistory, WorkflowQueryFailedError
from temporalio.worker import Replayer

from domain.model import Role
from domain.programme.commands import ApproveMatching
from domain.programme.model import Participant
from mentorflow.deployment import worker_identity
from mentorflow.hr_import.sync import plan
from store.directory import Contact, Directory
from store.identity import store_id
from tests.test_programme_cli import EXAMPLE, future_programme, mentorflow
from tests.test_programme_rules import ProgrammeRun, pilot
from worker import build_worker
from workflows import TASK_QUEUE
from workflows.messages import programme_workflow_id, workflow_id
from workflows.programme import ProgrammeWorkflow

ROOT = Path(__file__).parent.parent
HEADER = "Henkilönumero;Nimi;Sähköposti;Rooli;Kieli;Yksikkö;Esihenkilö;Osaaminen;Tavoitteet;Kapasiteetti;Mentorikoulutus\r\n"  # noqa: E501
FIRST = [
    "m1;Heidi Mentori;heidi@example.org;mentori;suomi;Talous;boss1;johtaminen;;1;2026-01-15",
    "m2;Åsa Öberg;asa@example.org;mentori;svenska;Henkilöstö;boss2;palkat;;1;",
    "a1;Aku Aktori;aku@example.org;aktori;suomi;IT;boss3;;johtaminen;;",
    "a2;Äijö Ämmälä;aijo@example.org;aktori;suomi;IT;boss4;;palkat;;",
]
SECOND = [
    "m1;Heidi Mentori;heidi.mentori@example.org;mentori;suomi;Talous;boss1;johtaminen;;1;2026-01-15",  # noqa: E501
    "m2;Åsa Öberg;asa@example.org;mentori;svenska;Talous;boss2;palkat;;2;",
    "a2;Äijö Ämmälä;aijo@example.org;aktori;suomi;IT;boss4;;palkat;;",
    "a9;Uusi Aktori;uusi@example.org;aktori;englanti;IT;boss4;;johtaminen;;",
]  # fmt: skip


def export(tmp_path: Path, name: str, rows: list[str]) -> Path:
    """As an HR system writes it: Finnish headers, semicolons, Windows-1252."""
    path = tmp_path / name
    path.write_bytes((HEADER + "\r\n".join(rows) + "\r\n").encode("cp1252"))
    return path


def programme_in_enrolment(tmp_path: Path, programme_id: str) -> Path:
    """The example without its participants, in the future: enrolment lasts three weeks."""
    data = yaml.safe_load(EXAMPLE.read_text())
    today = datetime.now(UTC).date()
    p = data["programme"]
    p.update(id=programme_id, starts_on=today + timedelta(30), ends_on=today + timedelta(400))
    p["training"]["deadline"] = today + timedelta(20)
    p["matching"]["runs_on"] = today + timedelta(21)
    p["closing"]["event_on"] = today + timedelta(390)
    del data["behaviour"], data["participants"]
    path = tmp_path / "programme.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


async def started_state(handle):
    """The programme's state once its start is recorded (a query before that is refused)."""
    for _ in range(100):
        try:
            return await handle.query(ProgrammeWorkflow.state)
        except WorkflowQueryFailedError:
            await asyncio.sleep(0.1)
    raise AssertionError("the programme did not start")


async def test_sync_applies_an_export_once_and_then_changes_nothing(
    mail, dev_env, pool, database_url, tmp_path, monkeypatch
):
    """New, gone and changed people go through the Updates as "HR import"; twice is once."""
    monkeypatch.setenv("MENTORFLOW_DATABASE_URL", database_url)
    address = dev_env.client.service_client.config.target_host
    pid = f"sync-{os.getpid()}-{id(tmp_path) % 10_000}"
    file = programme_in_enrolment(tmp_path, pid)
    first, second = export(tmp_path, "first.csv", FIRST), export(tmp_path, "second.csv", SECOND)
    handle = dev_env.client.get_workflow_handle_for(
        ProgrammeWorkflow.run, programme_workflow_id(pid)
    )
    async with build_worker(
        dev_env.client,
        pool,
        mail.config,
        TASK_QUEUE,
        identity=worker_identity(await store_id(pool)),
    ):
        code, out, err = await mentorflow(
            address, "programme", "start", str(file), "--participants", str(first)
        )
        assert code == 0, err
        started = await started_state(handle)

        code, out, err = await mentorflow(
            address, "programme", "sync", pid, "--participants", str(second), "--dry-run"
        )
        assert code == 0, err
        assert out.splitlines() == [
            f"{pid}: enrolment",
            "new (1): a9 Uusi Aktori",
            "gone (1): a1",
            "changed (1): m2 (unit, capacity)",
            "contact details (1): m1 (email)",
            "dry run: nothing changed",
        ]
        assert (await handle.query(ProgrammeWorkflow.state)).version == started.version

        code, out, err = await mentorflow(
            address, "programme", "sync", pid, "--participants", str(second), "--json"
        )
        assert code == 0, err
        assert json.loads(out)["applied"] == {
            "enrolled": ["a9"],
            "removed": ["a1"],
            "updated": ["m2"],
            "contacts_updated": ["m1"],
            "refused": [],
        }
        state = await handle.query(ProgrammeWorkflow.state)
        assert sorted(state.participants) == ["a2", "a9", "m1", "m2"]
        assert (state.participants["m2"].unit, state.participants["m2"].capacity) == ("Talous", 2)
        assert state.participants["a9"].locale == "en" and state.removed == {"a1": "HR import"}
        recorded = await pool.fetch(
            "SELECT type, actor, payload->>'reason' AS reason FROM events"
            " WHERE stream_id = $1 AND type LIKE 'participant_%' ORDER BY version",
            programme_workflow_id(pid),
        )
        assert [tuple(r) for r in recorded] == [
            ("participant_enrolled", "hr1", "HR import"),
            ("participant_updated", "hr1", "HR import"),
            ("participant_removed", "hr1", "HR import"),
        ]
        contacts = await Directory(pool).people(pid, ["m1", "a9"])
        assert contacts["m1"].email == "heidi.mentori@example.org"
        assert contacts["a9"] == Contact("a9", "Uusi Aktori", "uusi@example.org", "en")

        code, out, err = await mentorflow(
            address, "programme", "sync", pid, "--participants", str(second)
        )
        assert (code, out) == (
            0,
            f"{pid}: enrolment\nnothing to change: the programme matches the export\n",
        ), err
        assert (await handle.query(ProgrammeWorkflow.state)).version == state.version

        history = await handle.fetch_history()
        await handle.terminate("test done")
    await Replayer(
        workflows=[ProgrammeWorkflow], data_converter=dev_env.client.data_converter
    ).replay_workflow(WorkflowHistory.from_json(history.workflow_id, history.to_json()))


async def test_a_broken_export_is_refused_before_anything_changes(dev_env, tmp_path):
    """A sync with a bad file names the row and column and does not touch the programme."""
    address = dev_env.client.service_client.config.target_host
    bad = export(tmp_path, "bad.csv", [*FIRST, "m1;Kaksi;kaksi@example.org;mentori;suomi;;;;;;"])
    code, out, err = await mentorflow(
        address, "programme", "sync", "any", "--participants", str(bad)
    )
    assert (code, out) == (1, "")
    assert err == (
        f"mentorflow: {bad}: row 6, column 'Henkilönumero': 'm1' is also on row 2: each person"
        " once, please (and 1 more)\n"
    )


def _participant(pid: str, role: Role, **extra: object) -> Participant:
    return Participant(id=pid, name=pid.upper(), email=f"{pid}@example.org", role=role, **extra)


def test_after_the_matching_people_in_groups_are_listed_not_removed():
    """Gone group members, newcomers and changed details wait for the coordinator's decision."""
    run = ProgrammeRun(pilot())
    run.run_until(datetime(2026, 9, 2, tzinfo=UTC))
    run.act(datetime(2026, 9, 3, tzinfo=UTC), ApproveMatching(by="hr1"))
    state = run.state
    group = state.approved[0]
    gone = group.mentees[0]
    kept = [p for pid, p in state.participants.items() if pid != gone]
    people = [
        Participant(name=p.id.upper(), email=f"{p.id}@example.org", **p.model_dump()) for p in kept
    ]
    people[0] = people[0].model_copy(update={"unit": "elsewhere", "name": "Renamed"})
    people.append(_participant("a-late", Role.MENTEE))
    contacts = {
        p.id: Contact(p.id, p.id.upper(), f"{p.id}@example.org", p.locale.value) for p in kept
    }
    result = plan(state, contacts, people)
    assert (result.enrol, result.remove, result.update) == ([], [], [])
    assert [(p.id, f) for p, f in result.contacts] == [(kept[0].id, ["name"])]
    assert dict(result.decide) == {
        kept[0].id: "details changed (unit) after the matching: not applied",
        "a-late": "new in the export; the matching is done: not enrolled",
        gone: f"is in group {group.number} and gone from the export: not removed",
    }
    assert date(2026, 9, 3) > pilot().matching.runs_on


async def test_after_the_groups_start_a_sync_lists_instead_of_changing(
    mail, dev_env, pool, database_url, tmp_path, monkeypatch
):
    """Groups running: a member gone from the export, a newcomer and a changed unit are listed
    for the coordinator; nothing is recorded, the first time or the second."""
    monkeypatch.setenv("MENTORFLOW_DATABASE_URL", database_url)
    address = dev_env.client.service_client.config.target_host
    pid = f"sync-late-{os.getpid()}-{id(tmp_path) % 10_000}"
    file = future_programme(tmp_path, pid)
    rows = (ROOT / "examples" / "henkilosto.csv").read_bytes().decode("cp1252").splitlines()
    rows = [r for r in rows if not r.startswith("a3;")]
    rows = [r.replace(";it;boss4;automation", ";finance;boss4;automation") for r in rows]
    # future_programme gives a5 an address the test mail server refuses: the export has it too.
    rows = [r.replace(";a5@example.org;", ";bounce-a5@example.org;") for r in rows]
    rows.append("a9;Uusi Aktori;uusi@example.org;Aktori;suomi;it;boss4;;;;;vakituinen")
    later = tmp_path / "later.csv"
    later.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    handle = dev_env.client.get_workflow_handle_for(
        ProgrammeWorkflow.run, programme_workflow_id(pid)
    )
    async with build_worker(
        dev_env.client,
        pool,
        mail.config,
        TASK_QUEUE,
        identity=worker_identity(await store_id(pool)),
    ):
        assert (await mentorflow(address, "programme", "start", str(file)))[0] == 0
        state = await started_state(handle)
        while state.phase != "approval":
            await asyncio.sleep(0.2)
            state = await started_state(handle)  # a new run reads its state from the store
        await handle.execute_update(ProgrammeWorkflow.approve_matching, ApproveMatching(by="hr1"))
        while not state.launched:
            await asyncio.sleep(0.2)
            state = await started_state(handle)
        outputs = []
        for _ in range(2):
            code, out, err = await mentorflow(
                address, "programme", "sync", pid, "--participants", str(later)
            )
            assert code == 0, err
            outputs.append(out)
            assert (await handle.query(ProgrammeWorkflow.state)).version == state.version
        assert outputs[0] == outputs[1]
        assert outputs[0].splitlines() == [
            f"{pid}: running",
            "for you to decide (3):",
            "  m4: details changed (unit) after the matching: not applied",
            "  a9: new in the export; the matching is done: not enrolled",
            f"  a3: is in group 1 ({pid}:1) and gone from the export: not removed",
            "nothing to change by import: the people above are for you to decide",
        ]
        for wid in (workflow_id(f"{pid}:1"), programme_workflow_id(pid)):
            await dev_env.client.get_workflow_handle(wid).terminate("test done")
