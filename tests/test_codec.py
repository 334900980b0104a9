"""The payload codec: Temporal holds ciphertext only, keys rotate while workflows run.

On a real Temporal test server and a real PostgreSQL: a relationship's history, as the server
returns it, holds no clear payload; a run started under one key continues under the next and
still replays; a payload under a key nobody configured is refused, saying which key.
"""

import asyncio
import base64
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from domain.relationship.commands import Pause, RecordAgreement
from mentorflow.codec import (
    CodecKeyError,
    CodecKeys,
    EncryptionCodec,
    UnknownKeyError,
    data_converter,
    key_file_keys,
    parse_keys,
)
from mentorflow.settings import Settings
from mentorflow.verify import replay, run_histories
from tests.builders import SHORT, spec
from tests.staff_helpers import own_database
from tests.temporal_helpers import running_worker, start_relationship, until_idle, whole_seconds_now
from worker import WORKFLOWS, build_worker
from workflows.relationship import RelationshipWorkflow

SECRET = "Zanzibar-7781 confidential agreement"
"""A text no history may hold in clear."""


def client_with(client: Client, converter: DataConverter) -> Client:
    """Another client of the same server (one process of a deployment), with ``converter``."""
    return Client(**{**client.config(), "data_converter": converter})


def payloads(message: Message, skip: tuple[str, ...] = ()) -> Iterator[Payload]:
    """Every Payload inside ``message`` (not under the fields named in ``skip``)."""
    for field, value in message.ListFields():
        if field.name in skip or field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            values = [v for v in value.values() if isinstance(v, Message)]
        else:
            values = list(value) if field.label == field.LABEL_REPEATED else [value]
        for v in values:
            if isinstance(v, Payload):
                yield v
            else:
                yield from payloads(v, skip)


def raw(history: WorkflowHistory) -> bytes:
    """Every byte of the history as the server stores and returns it (payloads not decoded)."""
    events = b"".join(e.SerializeToString() for e in history.events)
    return events + history.to_json().encode()


async def test_a_history_from_the_server_holds_no_clear_payload(mail, dev_env, pool):
    """Inputs, Updates, activity arguments and results: only ``binary/encrypted`` payloads."""
    # The real dev server: ending a group whose deliveries are still in flight by terminating it
    # leaves a time-skipping server's clock held for the rest of the module.
    env = dev_env
    rid = f"codec-{uuid.uuid4()}"
    starts = await whole_seconds_now(env)
    async with running_worker(env.client, pool, mail) as task_queue:
        handle = await start_relationship(
            env, task_queue, spec(rid, starts, starts + timedelta(days=60), SHORT)
        )
        command = RecordAgreement(by="m1", goals=("Quokka-goal",), agreement=SECRET)
        await handle.execute_update(RelationshipWorkflow.record_agreement, command)
        state = await handle.query(RelationshipWorkflow.state)
        history = await handle.fetch_history()
        await handle.terminate("test done")

    assert state.agreement.goals == ["Quokka-goal"]  # the client with the key reads it back
    stored = raw(history)
    assert SECRET.encode() not in stored and b"Quokka-goal" not in stored
    # Not codec payloads, never personal: the SDK's patch markers and search attributes
    # (Temporal indexes those in clear, so they hold patch names and ids only).
    internal = ("marker_recorded_event_attributes", "search_attributes")
    found = [p for e in history.events for p in payloads(e, internal)]
    assert len(found) >= 4  # input, Update, activity input and result
    assert all(p.metadata["encoding"] == b"binary/encrypted" for p in found)
    assert b"encryption-key-id" in stored and b"test-session" in stored


async def test_a_run_started_under_one_key_continues_and_replays_under_the_next(
    mail, dev_env, database_url
):
    """Rotation while running: key A seals the start; then B becomes current, A stays known.

    On the real dev server: it hands the run to the new worker when the old one has gone (the
    test server's virtual clock would hold it on the old worker's sticky queue). In a database
    of its own: the histories it archives are sealed with keys no other test knows, and an
    `audit verify --all` of the shared database (tests/test_simulate.py) must not meet them.
    """
    env = dev_env
    pool = await own_database(database_url)
    a = CodecKeys.generate("key-a")
    b = CodecKeys({**a.keys, **CodecKeys.generate("key-b").keys}, current="key-b")
    before = client_with(env.client, data_converter(a))
    after = client_with(env.client, data_converter(b))
    rid = f"rotation-{uuid.uuid4()}"
    starts = await whole_seconds_now(env)
    task_queue = f"test-{uuid.uuid4()}"
    async with build_worker(before, pool, mail.config, task_queue):
        handle = await start_relationship_with(before, task_queue, rid, starts)
        first_run = handle.result_run_id
        await handle.execute_update(
            RelationshipWorkflow.record_agreement,
            RecordAgreement(by="m1", goals=("Quokka-goal",), agreement=SECRET),
        )
    # The rotated deployment: a new worker, whose cache is empty, decodes the A-sealed start.
    async with build_worker(after, pool, mail.config, task_queue):
        handle = after.get_workflow_handle(handle.id)
        await handle.execute_update(RelationshipWorkflow.pause, Pause(by="a1", reason="busy"))
        state = await handle.query(RelationshipWorkflow.state)
        histories = await run_histories(after, handle.id, first_run)
        await handle.terminate("test done")
    await pool.close()

    assert state.agreement.goals == ["Quokka-goal"] and state.paused_since is not None
    # The agreement ends the kickoff run: the rotated worker continued it as new, under B.
    stored = b"".join(raw(h) for h in histories)
    assert b"key-a" in stored and b"key-b" in stored  # both keys sealed parts of this workflow
    await replay(histories, data_converter(b))
    only_b = CodecKeys({"key-b": b.keys["key-b"]}, current="key-b")
    result = await Replayer(
        workflows=list(WORKFLOWS), data_converter=data_converter(only_b)
    ).replay_workflow(histories[0], raise_on_replay_failure=False)
    assert result.replay_failure is not None and "'key-a'" in str(result.replay_failure)


async def start_relationship_with(client: Client, task_queue: str, rid: str, starts):
    from workflows.messages import RelationshipInput, workflow_id

    return await client.start_workflow(
        RelationshipWorkflow.run,
        RelationshipInput(spec=spec(rid, starts, starts + timedelta(days=60), SHORT)),
        id=workflow_id(rid),
        task_queue=task_queue,
    )


async def test_a_payload_under_an_unknown_key_is_refused_naming_the_key():
    """Decoding with keys that do not include the payload's key id fails, saying which id."""
    sealed = await EncryptionCodec(CodecKeys.generate("retired")).encode([Payload(data=b"{}")])
    with pytest.raises(UnknownKeyError, match=r"codec key 'retired'.*not among the known keys"):
        await EncryptionCodec(CodecKeys.generate("current")).decode(sealed)


async def test_payloads_round_trip_and_clear_ones_pass_through():
    """Sealed payloads open to the original; a payload from before the codec is left as it is."""
    codec = EncryptionCodec(CodecKeys.generate())
    original = Payload(metadata={"encoding": b"json/plain"}, data=SECRET.encode())
    [sealed] = await codec.encode([original])
    assert SECRET.encode() not in sealed.SerializeToString()
    assert await codec.decode([sealed, original]) == [original, original]


async def test_a_payload_relabelled_with_another_key_id_does_not_open():
    """The key id is authenticated: moving a payload under another known id is an error."""
    keys = CodecKeys({**CodecKeys.generate("x").keys, **CodecKeys.generate("y").keys}, "x")
    codec = EncryptionCodec(keys)
    [sealed] = await codec.encode([Payload(data=b"{}")])
    sealed.metadata["encryption-key-id"] = b"y"
    with pytest.raises(ValueError, match="does not decrypt"):
        await codec.decode([sealed])


def key(n: int = 32) -> str:
    return base64.b64encode(bytes(range(n))).decode()


@pytest.mark.parametrize(
    ("text", "current", "error"),
    [
        (f"a:{key()},b:{key()}", None, "MENTORFLOW_CODEC_KEY_ID must name"),
        (f"a:{key()}", "b", "current codec key 'b' is not among the keys"),
        (f"a:{key(16)}", None, "has 16 bytes; AES-256 needs 32"),
        ("a:not base64!", None, "not valid base64"),
        (key(), None, "written id:base64key"),
        (f"a:{key()},a:{key()}", "a", "listed twice"),
        ("", None, "no codec key"),
    ],
)
def test_bad_keys_are_refused_saying_why(text, current, error):
    with pytest.raises(CodecKeyError, match=error):
        parse_keys(text, current)


def test_settings_take_the_configured_keys_and_the_current_one():
    settings = Settings(codec_keys=f"old:{key()},new:{key()}", codec_key_id="new")
    keys = settings.codec()
    assert set(keys.keys) == {"old", "new"} and keys.current == "new"


def test_without_configured_keys_a_private_key_file_is_made_and_kept(tmp_path: Path):
    """The embedded stack's key: created once (0600), the same on every later start."""
    settings = Settings(data_dir=tmp_path / "data", codec_keys=None, codec_key_id=None)
    first = settings.codec()
    path = tmp_path / "data" / "codec-keys"
    assert path.stat().st_mode & 0o777 == 0o600
    assert settings.codec() == first and len(first.keys[first.current]) == 32


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path):
    path = tmp_path / "codec-keys"
    path.write_text(CodecKeys.generate().render())
    path.chmod(0o644)
    with pytest.raises(CodecKeyError, match=r"open to others \(mode 644\): chmod 600"):
        key_file_keys(path)


async def test_a_programme_input_and_its_events_hold_the_coordinator_by_id_only(
    mail, dev_env, pool, store
):
    """Decoded with the key, the workflow input and the stored events name the coordinator by id;
    the name and address are in the directory, where notifications find them."""
    env = dev_env  # terminated below: see the history test
    from domain.calendar import calendar
    from domain.programme.model import Coordinator, Matching, Programme, Training
    from mentorflow.programmes import register
    from mentorflow.synthetic import cohort
    from store.directory import Directory
    from workflows.messages import ProgrammeInput, programme_workflow_id
    from workflows.programme import ProgrammeWorkflow

    today = (await env.get_current_time()).date()
    coordinator = Coordinator(id="hr-quokka", name="Quentin Quokka", email="quentin@quokka.example")
    p = Programme(
        id=f"p-{uuid.uuid4().hex[:8]}",
        name="Privacy",
        timezone="UTC",
        starts_on=today + timedelta(days=10),
        ends_on=today + timedelta(days=130),
        coordinator=coordinator,
        training=Training(required=False, deadline=today + timedelta(days=5)),
        matching=Matching(runs_on=today + timedelta(days=10)),
    )
    people = cohort(2, 4, seed=1, trained_share=1.0)
    await register(pool, p, people)
    request = ProgrammeInput(
        programme=p, calendar=calendar(p), participants=[x.profile() for x in people]
    )
    async with running_worker(env.client, pool, mail) as task_queue:
        handle = await env.client.start_workflow(
            ProgrammeWorkflow.run, request, id=programme_workflow_id(p.id), task_queue=task_queue
        )
        for _ in range(100):  # until ProgrammeStarted is recorded
            stored = [r.payload for r in await store.read_stream(programme_workflow_id(p.id))]
            if stored:
                break
            await asyncio.sleep(0.1)
        # Stored is not yet held: the workflow takes the append's result in its next task (a
        # query in between was refused "not started yet" on a busy machine).
        await until_idle(handle)
        state = await handle.query(ProgrammeWorkflow.state)
        history = await handle.fetch_history()
        await handle.terminate("test done")

    codec = env.client.data_converter.payload_codec
    assert codec is not None
    start = history.events[0].workflow_execution_started_event_attributes
    [clear] = await codec.decode(start.input.payloads)
    assert b"hr-quokka" in clear.data  # decoded: the id is there, the contact is not
    assert (
        b"Quokka" not in clear.data.replace(b"hr-quokka", b"")
        and b"quokka.example" not in clear.data
    )
    assert state.programme.coordinator == Coordinator(id="hr-quokka")
    assert stored and "Quentin" not in str(stored) and "quokka.example" not in str(stored)
    contacts = await Directory(pool).people(p.id, ["hr-quokka"])
    assert contacts["hr-quokka"].email == "quentin@quokka.example"


def test_a_programme_file_still_needs_the_coordinators_name_and_address():
    """Optional in workflow inputs only: a file without the contact is refused saying so."""
    from pydantic import ValidationError

    from mentorflow.programme_files import ProgrammeFile

    programme = {
        "id": "p1",
        "name": "P",
        "timezone": "UTC",
        "starts_on": "2030-01-10",
        "ends_on": "2030-06-10",
        "coordinator": {"id": "hr1"},
        "training": {"required": False, "deadline": "2030-01-05"},
        "matching": {"runs_on": "2030-01-10"},
    }
    with pytest.raises(ValidationError, match="the coordinator needs a name and an email"):
        ProgrammeFile.model_validate({"programme": programme})


def test_a_worker_with_bad_keys_says_so_in_one_line_and_starts_nothing(tmp_path: Path):
    import os
    import subprocess
    import sys

    data_dir = tmp_path / "data"
    env = {**os.environ, "MENTORFLOW_DATA_DIR": str(data_dir), "MENTORFLOW_CODEC_KEYS": "k1:xx"}
    env.pop("MENTORFLOW_DATABASE_URL", None)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "mentorflow"), "worker"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert done.stderr == "mentorflow: codec key 'k1' is not valid base64\n"
    assert not data_dir.exists()  # no database was created, nothing was migrated


def test_an_input_recorded_with_the_coordinators_contact_still_loads_without_it():
    """Old histories: their input (and a carried state) holding the contact still deserialize,
    and the contact goes no further than the validator."""
    from datetime import UTC, datetime

    from domain.calendar import calendar
    from domain.programme.model import Coordinator, Matching, Programme, Training
    from domain.programme.state import ProgrammeState
    from workflows.messages import ProgrammeInput

    today = datetime(2030, 1, 1, tzinfo=UTC).date()
    p = Programme(
        id="p-old",
        name="Old",
        timezone="UTC",
        starts_on=today + timedelta(days=10),
        ends_on=today + timedelta(days=130),
        coordinator=Coordinator(id="hr1", name="Pia Coordinator", email="pia@example.org"),
        training=Training(required=False, deadline=today + timedelta(days=5)),
        matching=Matching(runs_on=today + timedelta(days=10)),
    )
    state = ProgrammeState(
        programme=p,
        calendar=calendar(p),
        started_at=datetime(2030, 1, 1, tzinfo=UTC),
        participants={},
    )
    recorded = {
        "programme": p.model_dump(mode="json"),
        "calendar": calendar(p).model_dump(mode="json"),
        "participants": [],
        "carried_state": state.model_dump(mode="json"),
    }
    assert "pia@example.org" in str(recorded)
    loaded = ProgrammeInput.model_validate(recorded)
    assert (
        "Pia" not in loaded.model_dump_json() and "pia@example.org" not in loaded.model_dump_json()
    )
    assert loaded.programme.coordinator.id == "hr1"
