"""Crypto-shredding: texts sealed with their author's data key, erasure, export, master keys."""

import asyncio
import base64
import json
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
import yaml
from pydantic import BaseModel, ValidationError

from domain.relationship.commands import (
    Pause,
    RecordAgreement,
    RecordMeeting,
    SubmitFeedback,
    Withdraw,
)
from domain.text import MAX_SEALED, Text, sealed
from mentorflow.audit.records import relationship_as_of
from mentorflow.audit.report import verify
from mentorflow.codec import CodecKeyError
from mentorflow.hr_import.sync import ERASED_WHY, SyncPlan, apply, plan
from mentorflow.privacy import PrivacyError, erase, erasures, export
from mentorflow.programmes import ProgrammeError, register
from mentorflow.settings import Settings
from mentorflow.simulate import simulate
from mentorflow.synthetic import cohort
from mentorflow.web.reading import Reader
from store.directory import Contact, Directory, ProgrammeEntry
from store.event_store import EventStore, NewEvent
from store.migrate import migrate
from store.pool import create_pool
from store.sealing import (
    ERASED,
    ErasedPersonError,
    MasterKeyError,
    MasterKeys,
    Sealer,
    UnknownAuthorError,
    erased_people,
)
from store.staff import Role
from tests.builders import SHORT, group, known_people, spec
from tests.staff_helpers import own_database_url, staff_member
from tests.temporal_helpers import running_worker, start_relationship, whole_seconds_now
from tests.test_programme_rules import ProgrammeRun, pilot
from worker import WORKFLOWS
from workflows.relationship import RelationshipWorkflow

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "palkeet-pilot.yaml"

# Distinctive enough that finding one anywhere means it was stored in clear.
A3_NAME, A3_EMAIL = "Zyxwoq Quillfeather", "zyxwoq.quillfeather@example.org"
A3_AGREEMENT = "Qvorptastic agreement: we meet at the Kelpwhistle cafe"
A3_GOAL = "Become a Snarfblat expert"
A3_REASON = "Glimmerquast long sick leave"
M1_ANSWER = "Wobbleteeth feedback from m1"
DISTINCTIVE = (A3_NAME, A3_EMAIL, A3_AGREEMENT, A3_GOAL, A3_REASON)


def without_run_ids(model: BaseModel | None) -> str:
    assert model is not None
    return re.sub(r"\.sim-[0-9a-f]{8}", ".sim-RUN", model.model_dump_json())


def two_keys() -> MasterKeys:
    return MasterKeys.generate("old")


async def test_every_free_text_field_of_a_command_is_sealed_and_opens(pool: asyncpg.Pool) -> None:
    """Text fields (plain, optional, in tuples, in dicts, in nested models) are sealed with the
    author's key; ids, dates and flags are not; the domain accepts the sealed forms."""
    sealer = Sealer(pool, two_keys())
    await known_people(pool, "p-seal")

    class Item(BaseModel):
        title: Text
        owner: str

    class Agenda(BaseModel):  # a command another engineer adds later: covered by the marker
        by: str
        items: tuple[Item, ...]
        note: Text | None = None

    agreement = await sealer.seal_command(
        RecordAgreement(by="p-seal", goals=("grow", "learn"), agreement="weekly"), "p-seal"
    )
    assert all(sealed(t) for t in (*agreement.goals, agreement.agreement))
    assert agreement.by == "p-seal"
    feedback = await sealer.seal_command(
        SubmitFeedback(by="p-seal", round="midpoint", answers={"useful": "very"}), "p-seal"
    )
    assert list(feedback.answers) == ["useful"] and sealed(feedback.answers["useful"])
    meeting = RecordMeeting(by="p-seal", held_on="2026-01-05", attendees=("p-seal",))
    assert await sealer.seal_command(meeting, "p-seal") is meeting  # no text: unchanged
    agenda = await sealer.seal_command(
        Agenda(by="p-seal", items=(Item(title="budget", owner="p-seal"),), note="bring slides"),
        "p-seal",
    )
    assert sealed(agenda.items[0].title) and agenda.items[0].owner == "p-seal"
    assert sealed(agenda.note or "")
    opened = await sealer.open_tree(agenda.model_dump(mode="json"))
    assert opened == {
        "by": "p-seal",
        "items": [{"title": "budget", "owner": "p-seal"}],
        "note": "bring slides",
    }
    assert await sealer.open_tree(feedback.answers) == {"useful": "very"}


async def test_the_domain_checks_the_plain_text_before_sealing_and_the_sealed_shape(
    pool: asyncpg.Pool,
) -> None:
    """Plain text is refused (NUL, too long) before any sealing; a sealed text that is malformed
    or too long is refused by the domain too."""
    with pytest.raises(ValidationError, match="control character"):
        Withdraw(person_id="a", by="a", reason="bad\x00")
    with pytest.raises(ValidationError, match="at most 4000"):
        Withdraw(person_id="a", by="a", reason="x" * 4001)
    with pytest.raises(ValidationError, match="sealed text is malformed"):
        Withdraw(person_id="a", by="a", reason="mf1:short:a")
    too_long = "mf1:" + "A" * MAX_SEALED + ":a"
    with pytest.raises(ValidationError, match="sealed text is malformed"):
        Withdraw(person_id="a", by="a", reason=too_long)
    await known_people(pool, "p-long")
    longest = await Sealer(pool, two_keys()).seal("\U0001f600" * 4000, "p-long")
    assert len(longest) <= MAX_SEALED
    assert Withdraw(person_id="a", by="a", reason=longest).reason == longest


async def test_a_data_key_is_made_only_for_a_person_the_system_holds(pool: asyncpg.Pool) -> None:
    """Participants and coordinators in the directory and staff members (``staff:<id>``) get a
    data key with their first text; a made-up id, or a staff id no member has, is refused in one
    line and nothing is created."""
    sealer = Sealer(pool, two_keys())
    programme_id = f"authors-{uuid.uuid4().hex[:8]}"
    coordinator = f"hr-{programme_id}"
    await Directory(pool).register(
        ProgrammeEntry(programme_id, "Authors", "Europe/Helsinki", coordinator),
        [Contact(f"p-{programme_id}", "Person P", "p@example.org", "en")],
    )
    admin = await staff_member(pool, Role.ADMIN)
    for author in (f"p-{programme_id}", coordinator, f"staff:{admin.staff_id}"):
        assert await sealer.open(await sealer.seal("a note", author)) == "a note"
    made_up = (f"nobody-{programme_id}", f"staff:{uuid.uuid4()}", "staff:not-a-uuid")
    for author in made_up:
        with pytest.raises(UnknownAuthorError) as refused:
            await Sealer(pool, two_keys()).seal_command(
                Withdraw(person_id=author, by=author, reason="a reason"), author
            )
        assert str(refused.value) == (
            f"no data key made for {author!r}: not a participant or coordinator in the"
            " directory, nor a staff member"
        )
    keys = await pool.fetchval(
        "SELECT count(*) FROM data_keys WHERE person_id = ANY($1::text[])", list(made_up)
    )
    assert keys == 0


async def test_master_key_rotation_keeps_old_data_keys_readable(pool: asyncpg.Pool) -> None:
    """A new master key wraps new data keys; keys wrapped by the old one still unwrap while it is
    listed, and without it the error names the missing key."""
    old = MasterKeys.generate("rot-old")
    await known_people(pool, "p-rot-1", "p-rot-2")
    before = await Sealer(pool, old).seal("written before the rotation", "p-rot-1")
    new_key = MasterKeys.generate("rot-new").keys["rot-new"]
    rotated = MasterKeys({**old.keys, "rot-new": new_key}, "rot-new")
    sealer = Sealer(pool, rotated)
    after = await sealer.seal("written after", "p-rot-2")
    assert await sealer.open(before) == "written before the rotation"
    assert await sealer.open(after) == "written after"
    wrapped_by = dict(
        await pool.fetch(
            "SELECT person_id, master_key_id FROM data_keys WHERE person_id LIKE 'p-rot-%'"
        )
    )
    assert wrapped_by == {"p-rot-1": "rot-old", "p-rot-2": "rot-new"}
    with pytest.raises(MasterKeyError, match="'rot-old', which is not among the known keys"):
        await Sealer(pool, MasterKeys({"rot-new": new_key}, "rot-new")).open(before)


def test_master_keys_come_from_the_settings_or_a_private_key_file(tmp_path: Path) -> None:
    """MENTORFLOW_MASTER_KEYS (several need MENTORFLOW_MASTER_KEY_ID), else DATA_DIR/master-keys
    made with mode 0600."""
    k = base64.b64encode(os.urandom(32)).decode()
    two = f"a:{k},b:{k}"
    with pytest.raises(CodecKeyError, match="MENTORFLOW_MASTER_KEY_ID must name"):
        Settings(master_keys=two, master_key_id=None).master()
    assert Settings(master_keys=two, master_key_id="b").master().current == "b"
    unset: dict[str, Any] = {"master_keys": None, "master_key_id": None}  # not the session's
    made = Settings(data_dir=tmp_path, **unset).master()
    assert (tmp_path / "master-keys").stat().st_mode & 0o777 == 0o600
    assert Settings(data_dir=tmp_path, **unset).master() == made


def _scenario(tmp_path: Path, erase_a3: bool) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text())
    for p in data["participants"]:
        if p["id"] == "a3":
            p.update(name=A3_NAME, email=A3_EMAIL)
    script = [
        {
            "date": "2020-09-10",
            "person": "a3",
            "action": "record_agreement",
            "text": A3_AGREEMENT,
            "goals": [A3_GOAL],
        },
        {"date": "2021-02-10", "person": "a3", "action": "withdraw", "reason": A3_REASON},
        {"person": "m2", "action": "skip_feedback", "round": "midpoint"},
        {
            "date": "2021-04-25",  # inside the midpoint window (opens mid-April)
            "person": "m1",
            "action": "submit_feedback",
            "round": "midpoint",
            "answers": {"went_well": M1_ANSWER},
        },
    ]
    if erase_a3:
        script.append(
            {
                "date": "2021-03-02",
                "person": "hr1",
                "action": "erase_personal_data",
                "member": "a3",
                "reason": "request of 2021-03-02, ticket 7",
            }
        )
    data["behaviour"]["script"] = script
    path = tmp_path / ("erased.yaml" if erase_a3 else "baseline.yaml")
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


async def _stored_text(pool: asyncpg.Pool, programme_id: str) -> str:
    """Every byte of the record of this run: events (the whole log) and archived histories."""
    async with pool.acquire() as conn:
        events = await conn.fetch(
            "SELECT stream_id, type, actor, payload::text FROM events ORDER BY global_position"
        )
        histories = await conn.fetch(
            "SELECT history FROM workflow_histories WHERE workflow_id LIKE $1",
            f"%{programme_id}%",
        )
    return json.dumps([list(r) for r in events]) + "".join(r["history"] for r in histories)


def _decoded_histories(rows: list[str]) -> str:
    """The archived histories with every payload decrypted by the codec (the Temporal UI's view
    with the codec server): sealed texts are still ciphertext there."""
    from temporalio.api.common.v1 import Payload

    from mentorflow import embedded

    codec = embedded.converter().payload_codec
    assert codec is not None
    out: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "metadata" in value and "data" in value:
                payload = Payload(
                    metadata={k: base64.b64decode(v) for k, v in value["metadata"].items()},
                    data=base64.b64decode(value["data"]),
                )
                out.append(codec.open(payload).data.decode(errors="replace"))  # type: ignore[attr-defined]
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for history in rows:
        walk(json.loads(history))
    return "\n".join(out)


@pytest_asyncio.fixture
async def own_store(database_url: str) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    """A database of its own: a person id is one person in every programme of a database, and
    the a3 erased here must not be the erased a3 of every later test of the session's database."""
    url = await own_database_url(database_url)
    pool = await create_pool(url)
    await migrate(pool)
    yield url, pool
    await pool.close()


async def test_erasing_a_person_mid_programme(mail, tmp_path, own_store) -> None:
    """a3 writes the agreement and withdraws with a reason, and is erased mid-programme: the
    programme and its groups run on and close, the chains verify, every run replays (archived
    too), the report is the same as without the erasure, a3's texts and name are gone from every
    view and the export, nothing distinctive is stored in clear, and the erasure is recorded."""
    database_url, pool = own_store
    master = Settings().master()  # the session's (conftest): other tests seal for m1, a3...
    quiet = lambda *_: None  # noqa: E731
    baseline = await simulate(
        _scenario(tmp_path, False), None, database_url, quiet, mail.config, master=master
    )
    report = await simulate(
        _scenario(tmp_path, True), None, database_url, quiet, mail.config, master=master
    )
    assert report.actions["erased"] == 1
    assert report.programme["phase"] == "closed"
    assert report.checks == {
        "fold_matches_workflows": True,
        "workflow_runs_replayed": report.checks["workflow_runs_replayed"],
        "hash_chains_verified": True,
    }
    assert report.checks["workflow_runs_replayed"] > 0
    assert without_run_ids(report.report) == without_run_ids(baseline.report)
    assert [r.outcome for r in report.relationships] == [r.outcome for r in baseline.relationships]
    audit = await verify(pool, WORKFLOWS)
    assert audit.ok, audit

    # Nothing distinctive in clear in the record, in the archived histories (raw, or decoded with
    # the codec key: the texts inside are sealed), or in the directory.
    programme_id = str(report.programme["id"])
    stored = await _stored_text(pool, programme_id)
    archived = [
        r["history"]
        for r in await pool.fetch(
            "SELECT history FROM workflow_histories WHERE workflow_id LIKE $1", f"%{programme_id}%"
        )
    ]
    decoded = _decoded_histories(archived)
    assert "a3" in decoded  # the decoding works: ids are in clear inside the payloads
    for text in (*DISTINCTIVE, M1_ANSWER):
        assert text not in stored and text not in decoded, text
    people = json.dumps([list(r) for r in await pool.fetch("SELECT * FROM people")])
    assert A3_NAME not in people and A3_EMAIL not in people

    # Every view: the group page's state and names, the audit timeline, the export.
    sealer = Sealer(pool, master)
    rid = next(r.id for r in report.relationships if "a3" in r.mentees)
    state = await Reader(pool, sealer).relationship(rid)
    assert state is not None
    assert state.agreement.recorded_by == "a3" and state.agreement.goals == [ERASED]
    names = await Reader(pool, sealer).names(programme_id, ["a3", "m1"])
    assert names["a3"] == ERASED and names["m1"] != ERASED
    timeline = (await relationship_as_of(pool, rid, None, sealer)).timeline
    withdrew = next(e for e in timeline if e.type == "member_withdrew")
    assert withdrew.text == f"a3 withdrew: {ERASED}"
    agreed = next(e for e in timeline if e.type == "agreement_recorded")
    assert agreed.text == f"agreement recorded, goals: {ERASED}"
    m1_group = next(r.id for r in report.relationships if "m1" in r.mentors)
    m1_state = await Reader(pool, sealer).relationship(m1_group)
    assert m1_state is not None
    assert M1_ANSWER in json.dumps(m1_state.model_dump(mode="json"))  # others' texts still read
    held = await export(pool, sealer, "a3")
    assert held.directory == [] and held.data_key and held.data_key["erased_at"]
    exported = json.dumps(held.model_dump(mode="json"))
    assert ERASED in exported
    for text in DISTINCTIVE:
        assert text not in exported

    # Mail to a3 after the erasure fails saying why, never with an address.
    reasons = await pool.fetch(
        "SELECT DISTINCT payload->>'reason' AS reason FROM events WHERE type = 'delivery_failed'"
        " AND payload->>'person_id' = 'a3' AND stream_id LIKE $1",
        f"%{programme_id}%",
    )
    assert [r["reason"] for r in reasons] == ["the person's personal data was erased"]

    # Recorded: who, when, why, never what.
    [record] = [e for e in await erasures(pool) if e["person_id"] == "a3"]
    assert record["by"] == "hr1" and record["reason"] == "request of 2021-03-02, ticket 7"
    assert set(record) == {"at", "by", "person_id", "reason"}
    with pytest.raises(ErasedPersonError):
        await sealer.seal("anything new", "a3")
    with pytest.raises(PrivacyError, match="already erased"):
        await erase(pool, sealer, "a3", "hr1", "again")


async def test_an_erased_person_does_not_come_back_through_a_start_or_a_sync(
    own_store, env
) -> None:
    """HR's export still lists a person erased on request: starting a programme with them is
    refused saying why, and a sync enrols or updates everyone else but not them; their name
    and address stay out of the directory."""
    _, pool = own_store
    sealer = Sealer(pool, Settings().master())
    people = cohort(2, 3, seed=9)
    gone = people[-1]
    programme = pilot()
    await register(pool, programme, people)
    await erase(pool, sealer, gone.id, "hr1", "request of 2026-11-30, ticket 9")

    with pytest.raises(ProgrammeError, match=f"personal data of {gone.id} was erased"):
        await register(pool, programme.model_copy(update={"id": "p2"}), people)
    assert await pool.fetchval("SELECT count(*) FROM programmes WHERE programme_id = 'p2'") == 0

    moved = people[0].model_copy(update={"name": "Moved Person"})
    sync = SyncPlan(
        programme.id, "enrolment", enrol=[gone], contacts=[(moved, ["name"]), (gone, ["email"])]
    )
    state = ProgrammeRun(programme, [p.profile() for p in people]).state
    done = await apply(env.client, pool, state, sync)  # nothing for Temporal: no Update is due

    assert done.refused == [(gone.id, ERASED_WHY)] and done.enrolled == []
    assert done.contacts == [moved.id]

    # The export, read again as `programme sync` does: the erased person is listed once, not as
    # a change to make (else every sync would refuse it, and never end with nothing to do).
    contacts = await Directory(pool).people(programme.id, state.participants)
    again = plan(state, contacts, [moved, *people[1:]], await erased_people(pool, [gone.id]))
    assert gone.id not in [p.id for p in again.enrol] + [p.id for p, _ in again.contacts]
    assert (gone.id, "personal data erased: not synced (a new id enrols them)") in again.decide
    assert again.contacts == [] and again.enrol == [] and again.update == []
    directory = json.dumps([list(r) for r in await pool.fetch("SELECT * FROM people")])
    assert "Moved Person" in directory
    assert gone.name not in directory and str(gone.email) not in directory


MENTORFLOW = str(Path(sys.executable).parent / "mentorflow")


async def _cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Run the installed command as a user does: (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        MENTORFLOW,
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 300)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_privacy_commands_erase_and_export_with_clear_errors(
    pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    """`privacy export` shows a person's own texts opened; `privacy erase` needs a reason, refuses
    an unknown person in one line, and afterwards the export shows "[erased]"."""
    master = MasterKeys.generate("cli")
    env = {
        "MENTORFLOW_DATABASE_URL": database_url,
        "MENTORFLOW_MASTER_KEYS": ",".join(
            f"{i}:{base64.b64encode(k).decode()}" for i, k in master.keys.items()
        ),
        "MENTORFLOW_MASTER_KEY_ID": "cli",
        "MENTORFLOW_DATA_DIR": str(tmp_path),
    }
    sealer = Sealer(pool, master)
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO programmes (programme_id, name, timezone, coordinator_id)"
            " VALUES ('privacy-cli', 'P', 'UTC', 'hr1') ON CONFLICT DO NOTHING"
        )
        await conn.execute(
            "INSERT INTO people (programme_id, person_id, name, email, locale)"
            " VALUES ('privacy-cli', 'p-cli', 'Plonk Person', 'plonk@example.org', 'en')"
        )
    text = await sealer.seal("Plonkrivet secret plan", "p-cli")
    await EventStore(pool).append(
        "privacy-test:p-cli",
        0,
        [
            NewEvent(
                event_id=uuid.uuid4(),
                type="note",
                schema_version=1,
                occurred_at=datetime.now(UTC),
                actor="p-cli",
                payload={"text": text},
            )
        ],
    )
    code, out, err = await _cli("privacy", "export", "p-cli", "--json", env=env)
    assert code == 0, err
    held = json.loads(out)
    assert held["directory"][0]["name"] == "Plonk Person"
    assert held["events"][0]["payload"]["text"] == "Plonkrivet secret plan"

    code, _, err = await _cli("privacy", "erase", "nobody-at-all", "--reason", "test", env=env)
    assert code == 1
    assert err.strip() == (
        "mentorflow: unknown person 'nobody-at-all': not in the directory, the data keys or the"
        " record"
    )
    code, _, err = await _cli("privacy", "erase", "p-cli", env=env)
    assert code != 0 and "--reason" in err
    code, out, err = await _cli(
        "privacy", "erase", "p-cli", "--reason", "request 9", "--by", "dpo1", env=env
    )
    assert code == 0, err
    assert "erased p-cli" in out and "by dpo1" in out
    after = json.loads((await _cli("privacy", "export", "p-cli", "--json", env=env))[1])
    assert after["directory"] == [] and after["events"][0]["payload"]["text"] == ERASED
    _, out, _ = await _cli("privacy", "erase", "--help", env=env)
    assert "--reason" in out and "[erased]" in out

    # A text whose author has no data key here (sealed against another database): one line.
    foreign = text.replace(":p-cli", ":p-nokey")
    await EventStore(pool).append(
        "privacy-test:p-nokey",
        0,
        [
            NewEvent(
                event_id=uuid.uuid4(),
                type="note",
                schema_version=1,
                occurred_at=datetime.now(UTC),
                actor="p-nokey",
                payload={"text": foreign},
            )
        ],
    )
    code, _, err = await _cli("privacy", "export", "p-nokey", env=env)
    assert code == 1
    assert err.strip().startswith("mentorflow: no data key for p-nokey: texts sealed in another")
    assert len(err.strip().splitlines()) == 1


async def test_a_master_key_rotated_while_a_group_runs(mail, dev_env, pool) -> None:
    """A group records its agreement under the old master key; the keys are rotated while it runs
    and a member pauses it (a new data key, wrapped by the new master key): the group lives on,
    and a reader with the rotated keys opens both texts."""
    rid = f"rotation-{uuid.uuid4()}"
    mentors, mentees = ("rk-m1", "rk-m2"), ("rk-a1", "rk-a2")
    starts = await whole_seconds_now(dev_env)
    old = MasterKeys.generate("live-old")
    rotated = MasterKeys({**old.keys, **MasterKeys.generate("live-new").keys}, "live-new")
    await known_people(pool, "rk-m1", "rk-a1")
    relationship = spec(
        rid, starts, starts + timedelta(days=60), SHORT, members=group(mentors, mentees)
    )
    async with running_worker(dev_env.client, pool, mail) as task_queue:
        handle = await start_relationship(dev_env, task_queue, relationship)
        agreement = RecordAgreement(by="rk-m1", goals=("Zorblatt goal",), agreement="monthly")
        sealed_agreement = await Sealer(pool, old).seal_command(agreement, "rk-m1")
        await handle.execute_update(RelationshipWorkflow.record_agreement, sealed_agreement)
        pause = await Sealer(pool, rotated).seal_command(
            Pause(by="rk-a1", reason="Fizzlewick leave"), "rk-a1"
        )
        await handle.execute_update(RelationshipWorkflow.pause, pause)
        state = await handle.query(RelationshipWorkflow.state)
        await handle.terminate("test done")
    assert state.paused_since is not None  # the group took the Update sealed under the new key
    wrapped_by = dict(
        await pool.fetch(
            "SELECT person_id, master_key_id FROM data_keys WHERE person_id LIKE 'rk-%'"
        )
    )
    assert wrapped_by == {"rk-m1": "live-old", "rk-a1": "live-new"}
    read = await Reader(pool, Sealer(pool, rotated)).relationship(rid)
    assert read is not None and read.agreement.goals == ["Zorblatt goal"]
    timeline = (await relationship_as_of(pool, rid, None, Sealer(pool, rotated))).timeline
    assert any(e.text == "paused: Fizzlewick leave" for e in timeline)
