"""Every byte a deployment keeps, scanned for what people wrote and who they are (issue 13).

A group runs on the Temporal dev server as `mentorflow dev` runs it (its state in a SQLite file,
``temporal.db``), with distinctive names, addresses and texts: an agreement, an agenda item, a
withdrawal reason, and an address the mail server refuses quoting it back as Postfix does. Then
Temporal's database file, the event store and the logs are read byte by byte: none of it may be
there in clear. Names and addresses belong in the directory (``people``) and in the mail sink only.
"""

import asyncio
import json
import logging
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg
from temporalio.client import WorkflowHandle

from domain.relationship.commands import AddAgendaItem, RecordAgreement, Withdraw
from mentorflow import embedded
from mentorflow.settings import Settings
from store.directory import Contact, Directory, ProgrammeEntry
from store.sealing import Sealer
from tests.builders import SHORT, spec
from tests.staff_helpers import own_database
from tests.temporal_helpers import running_worker, start_relationship, whole_seconds_now
from workflows.relationship import RelationshipWorkflow

PEOPLE = {
    "m1": ("Väinö Zanzibarson", "vaino.zanzibarson@example.org"),
    "m2": ("Aino Kiwikangas", "aino.kiwikangas@example.org"),
    "a1": ("Sigrid Quokkström", "sigrid.quokkstrom@example.org"),
    # The test mail server refuses addresses starting "bounce", quoting the address back.
    "a2": ("Ilmatar Wombatti", "bounce-ilmatar.wombatti@example.org"),
    "a3": ("Eerik Platypusson", "eerik.platypusson@example.org"),
}
TEXTS = (
    "Zanzibar-4471 we keep this between us",
    "Quokka-goal-9013",
    "Agenda-Kiwi-3310 my manager and I",
    "Long sick leave 5521",
)


def _clear(data: str | bytes) -> list[str]:
    """The distinctive names, addresses and texts found in ``data`` (UTF-8 or not)."""
    text = data if isinstance(data, str) else data.decode("utf-8", errors="replace")
    wanted = [*TEXTS, *(name for name, _ in PEOPLE.values())]
    wanted += [address for _, address in PEOPLE.values()] + [
        a.split("@")[0] for _, a in PEOPLE.values()
    ]
    return [w for w in wanted if w in text or w.encode("utf-16-le").decode("latin-1") in text]


async def _refused_once(pool: asyncpg.Pool, rid: str) -> None:
    """Wait until the refused address's delivery is final and recorded in the group's stream."""
    for _ in range(600):
        recorded = await pool.fetchval(
            "SELECT count(*) FROM events WHERE stream_id = $1 AND type = 'delivery_failed'"
            " AND payload->>'person_id' = 'a2'",
            f"relationship:{rid}",
        )
        if recorded:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the refused delivery was never recorded")


async def _meeting_open(handle: WorkflowHandle) -> None:
    """Wait until the first meeting is open for its agenda (a step after the group starts)."""
    for _ in range(600):
        if (await handle.query(RelationshipWorkflow.state)).open_meetings():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no meeting opened")


async def test_temporal_db_events_and_logs_hold_no_name_address_or_text(
    mail, database_url, tmp_path: Path, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    pool = await own_database(database_url)  # its people are ours alone: ids are global per db
    db_file = tmp_path / "temporal.db"
    env = await embedded.start_dev_server(db_file=db_file)
    rid = f"scan-{uuid.uuid4().hex[:8]}"
    try:
        await Directory(pool).register(
            ProgrammeEntry("test", "Scanned programme", "Europe/Helsinki", "hr1"),
            [Contact(pid, name, address, "fi") for pid, (name, address) in PEOPLE.items()],
        )
        sealer = Sealer(pool, Settings().master())  # as the web app's send_update seals
        starts = await whole_seconds_now(env)
        async with running_worker(env.client, pool, mail) as task_queue:
            handle = await start_relationship(
                env, task_queue, spec(rid, starts, starts + timedelta(days=60), SHORT)
            )
            agreement = RecordAgreement(by="m1", goals=(TEXTS[1],), agreement=TEXTS[0])
            await handle.execute_update(
                RelationshipWorkflow.record_agreement, await sealer.seal_command(agreement, "m1")
            )
            await _meeting_open(handle)
            agenda = AddAgendaItem(by="a1", text=TEXTS[2])
            await handle.execute_update(
                RelationshipWorkflow.add_agenda_item, await sealer.seal_command(agenda, "a1")
            )
            withdrawal = Withdraw(person_id="a3", by="a3", reason=TEXTS[3])
            await handle.execute_update(
                RelationshipWorkflow.withdraw, await sealer.seal_command(withdrawal, "a3")
            )
            await _refused_once(pool, rid)
            await handle.terminate("test done")
        events = await pool.fetch("SELECT type, payload::text AS p FROM events")
        errors = await pool.fetch("SELECT error FROM deliveries WHERE error IS NOT NULL")
    finally:
        await env.shutdown()  # the dev server writes its SQLite file out as it stops
        await pool.close()

    stored = b"".join(f.read_bytes() for f in sorted(tmp_path.glob("temporal.db*")))
    assert rid.encode() in stored and b"binary/encrypted" in stored  # the right file, sealed
    assert _clear(stored) == []

    assert {"agreement_recorded", "member_withdrew", "delivery_failed"} <= {
        r["type"] for r in events
    }
    assert _clear("\n".join(r["p"] for r in events)) == []
    assert errors and _clear("\n".join(r["error"] for r in errors)) == []

    logged = "\n".join(
        [caplog.text, *(json.dumps(r.__dict__, default=str) for r in caplog.records)]
    )
    assert rid in logged  # the logs were captured, and name the group by its id
    assert _clear(logged) == []
