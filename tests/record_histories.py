"""Record the histories committed under tests/histories/: ``python -m tests.record_histories``.

``python -m tests.record_histories NAME`` writes ``tests/histories/NAME_run<n>.json``.
Run it only when a history should change on purpose (a new scenario, or a workflow change that is
released with ``workflow.patched``); CI replays the committed files to catch unintended changes.
The scenario exercises every Update and every phase of a relationship on a two-month policy.
"""

import asyncio
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter

from domain.commands import (
    AddAgendaItem,
    CancelMeeting,
    Pause,
    RecordAgreement,
    RecordMeeting,
    Resume,
    ScheduleMeeting,
    SubmitFeedback,
    Withdraw,
)
from mentorflow import embedded
from mentorflow.log_setup import configure_logging
from mentorflow.mail_server import MailServer
from mentorflow.verify import run_histories
from store.migrate import migrate
from store.pool import create_pool
from tests.builders import COORDINATOR, SHORT, register_test_people, spec
from tests.temporal_helpers import running_worker, sleep_until
from workflows.messages import RelationshipInput, workflow_id
from workflows.relationship import RelationshipWorkflow

HISTORIES = Path(__file__).parent / "histories"


async def record(name: str) -> list[Path]:
    url = embedded.start_postgres(Path(tempfile.mkdtemp()))
    pool = await create_pool(url)
    await migrate(pool)
    # Without the codec: the committed histories must replay without a secret key (they hold
    # test data only), and they prove that payloads from before the codec still replay.
    env = await embedded.start_time_skipping(pydantic_data_converter)
    rid = f"history-{uuid.uuid4().hex[:8]}"
    starts = (await env.get_current_time()).replace(microsecond=0) + timedelta(seconds=1)
    day = timedelta(days=1)
    W = RelationshipWorkflow
    hour = timedelta(hours=1)
    script = [
        (day, W.record_agreement, RecordAgreement(by="m1", goals=("payroll",), agreement="weekly")),
        (
            2 * day,
            W.schedule_meeting,
            ScheduleMeeting(by="m1", starts_at=starts + 5 * day, place="B2"),
        ),
        (3 * day, W.add_agenda_item, AddAgendaItem(by="a2", text="How to say no?")),
        (
            4 * day,
            W.schedule_meeting,
            ScheduleMeeting(by="m2", starts_at=starts + 5 * day + 2 * hour, minutes=60, place="B2"),
        ),
        (
            6 * day,
            W.record_meeting,
            RecordMeeting(by="m1", held_on=(starts + 6 * day).date(), attendees=("m1", "a1")),
        ),
        (8 * day, W.pause, Pause(by="a1", reason="audit season")),
        (12 * day, W.resume, Resume(by=COORDINATOR)),
        (
            13 * day,
            W.schedule_meeting,
            ScheduleMeeting(by="m1", starts_at=starts + 16 * day, place="C"),
        ),
        (13 * day + hour, W.cancel_meeting, CancelMeeting(by="m1")),
        (20 * day, W.withdraw, Withdraw(person_id="a3", by="a3", reason="moved to another agency")),
        (
            35 * day,
            W.submit_feedback,
            SubmitFeedback(by="a1", round="midpoint", answers={"useful": "yes"}),
        ),
        (
            58 * day,  # the final round: days 57-59 (a pause no longer moves the end)
            W.submit_feedback,
            SubmitFeedback(by="m2", round="final", answers={"useful": "yes"}),
        ),
    ]
    with MailServer(Path(tempfile.mkdtemp()) / "Maildir") as mail:
        async with env:
            await register_test_people(pool)
            async with running_worker(env.client, pool, mail) as task_queue:
                handle = await env.client.start_workflow(
                    W.run,
                    RelationshipInput(spec=spec(rid, starts, starts + timedelta(days=60), SHORT)),
                    id=workflow_id(rid),
                    task_queue=task_queue,
                )
                for offset, update, command in script:
                    await sleep_until(env, starts + offset)
                    print(f"day {offset.days}: {type(command).__name__}", flush=True)
                    await handle.execute_update(update, command)
                await handle.result()
                assert handle.first_execution_run_id is not None
                histories = await run_histories(
                    env.client, handle.id, handle.first_execution_run_id
                )
    await pool.close()
    written = []
    for n, history in enumerate(histories, start=1):
        path = HISTORIES / f"{name}_run{n}.json"
        path.write_text(history.to_json(), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    configure_logging("WARNING")
    # A new name per release keeps the older histories: each must still replay.
    for path in asyncio.run(record(sys.argv[1] if len(sys.argv) > 1 else "relationship_current")):
        print(path)
