"""Record the histories committed under tests/histories/: ``python -m tests.record_histories``.

``python -m tests.record_histories NAME`` writes ``tests/histories/NAME_run<n>.json``.
Run it only when a history should change on purpose (a new scenario, or a workflow change that is
released with ``workflow.patched``); CI replays the committed files to catch unintended changes.
A NAME starting with ``programme`` records a ProgrammeWorkflow: training with a coordinator's
``mark_trained``, matching approved by the coordinator, its groups launched and run to the end,
the report. A NAME starting with ``relationship_resolutions`` records a RelationshipWorkflow whose
escalations the coordinator resolves: a member replaced, the agreement's deadline extended, an
acknowledgement. Any other NAME records a RelationshipWorkflow through every Update and every
phase on a two-month policy.
"""

import asyncio
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.calendar import calendar
from domain.model import Member, Role
from domain.programme.commands import ApproveMatching, MarkTrained
from domain.programme.model import Coordinator, Matching, Programme, Training
from domain.relationship.commands import (
    AddAgendaItem,
    AddMember,
    CancelMeeting,
    ExtendDeadline,
    Pause,
    RecordAgreement,
    RecordMeeting,
    ResolveEscalation,
    Resume,
    ScheduleMeeting,
    SubmitFeedback,
    Withdraw,
)
from mentorflow import embedded
from mentorflow.log_setup import configure_logging
from mentorflow.mail_server import MailServer
from mentorflow.programmes import register
from mentorflow.synthetic import cohort
from mentorflow.telemetry import configure_telemetry
from mentorflow.verify import run_histories
from store.migrate import migrate
from store.pool import create_pool
from tests.builders import COORDINATOR, SHORT, register_test_people, spec
from tests.temporal_helpers import result_within, running_worker, sleep_until
from workflows.messages import (
    ProgrammeInput,
    RelationshipInput,
    programme_workflow_id,
    workflow_id,
)
from workflows.programme import ProgrammeWorkflow
from workflows.relationship import RelationshipWorkflow

HISTORIES = Path(__file__).parent / "histories"


async def record(name: str) -> list[Path]:
    """Run the scenario ``name`` names and write every run of its workflow's history."""
    url = embedded.start_postgres(Path(tempfile.mkdtemp()))
    pool = await create_pool(url)
    await migrate(pool)
    # Without the codec: the committed histories must replay without a secret key (they hold
    # test data only), and they prove that payloads from before the codec still replay.
    env = await embedded.start_time_skipping(pydantic_data_converter)
    scenario = run_programme if name.startswith("programme") else run_relationship
    if name.startswith("relationship_resolutions"):
        scenario = run_resolutions
    with MailServer(Path(tempfile.mkdtemp()) / "Maildir") as mail:
        async with env:
            await register_test_people(pool)
            async with running_worker(env.client, pool, mail) as task_queue:
                handle = await scenario(env, pool, task_queue)
                await result_within(handle)
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


async def run_relationship(
    env: WorkflowEnvironment, pool: asyncpg.Pool, task_queue: str
) -> WorkflowHandle[Any, Any]:
    """A group through every Update: agreement, meeting, pause, resume, withdrawal, feedback."""
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
    return handle


async def run_resolutions(
    env: WorkflowEnvironment, pool: asyncpg.Pool, task_queue: str
) -> WorkflowHandle[Any, Any]:
    """A group that never records its agreement nor holds a meeting, run to its end: the
    coordinator replaces a member (escalation 1, the agreement), extends the agreement's deadline
    (escalation 2, the missed meetings), and acknowledges its second escalation (3)."""
    rid = f"history-{uuid.uuid4().hex[:8]}"
    starts = (await env.get_current_time()).replace(microsecond=0) + timedelta(seconds=1)
    day = timedelta(days=1)
    W = RelationshipWorkflow
    a4 = Member(person_id="a4", role=Role.MENTEE)
    script = [
        (
            5 * day,
            W.add_member,
            AddMember(by=COORDINATOR, member=a4, replaces="a3", reason="moved", escalation=1),
        ),
        (
            17 * day,
            W.extend_deadline,
            ExtendDeadline(
                by=COORDINATOR,
                deadline="agreement",
                until=(starts + 20 * day).date(),
                reason="new member",
                escalation=2,
            ),
        ),
        (
            22 * day,
            W.resolve_escalation,
            ResolveEscalation(by=COORDINATOR, escalation=3, note="ok"),
        ),
    ]
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
    return handle


async def run_programme(
    env: WorkflowEnvironment, pool: asyncpg.Pool, task_queue: str
) -> WorkflowHandle[Any, Any]:
    """A 120-day programme: one mentor trains late by the coordinator's word, one never does; the
    coordinator approves the proposed matching; its groups run to the end; the report."""
    today = (await env.get_current_time()).date()
    p = Programme(
        id=f"history-{uuid.uuid4().hex[:8]}",
        name="Recorded programme",
        timezone="UTC",
        starts_on=today + timedelta(days=10),
        ends_on=today + timedelta(days=130),
        coordinator=Coordinator(id="hr1", name="Pia Coordinator", email="pia@example.org"),
        training=Training(required=True, deadline=today + timedelta(days=5)),
        matching=Matching(runs_on=today + timedelta(days=10), approval="coordinator"),
    )
    people = cohort(5, 8, seed=11, trained_share=1.0)
    people[4] = people[4].model_copy(update={"trained_on": None})  # m5 trains in time
    people[3] = people[3].model_copy(update={"trained_on": None})  # m4 never does
    await register(pool, p, people)
    cal = calendar(p)
    handle = await env.client.start_workflow(
        ProgrammeWorkflow.run,
        ProgrammeInput(programme=p, calendar=cal, participants=[x.profile() for x in people]),
        id=programme_workflow_id(p.id),
        task_queue=task_queue,
    )
    await sleep_until(env, cal.training_deadline - timedelta(days=2))
    print("mark_trained", flush=True)
    trained = MarkTrained(by="hr1", person_id="m5", trained_on=today)
    await handle.execute_update(ProgrammeWorkflow.mark_trained, trained)
    await sleep_until(env, cal.matching_at + timedelta(hours=1))
    print("approve_matching", flush=True)
    await handle.execute_update(ProgrammeWorkflow.approve_matching, ApproveMatching(by="hr1"))
    return handle


if __name__ == "__main__":
    configure_logging("WARNING")
    configure_telemetry()
    # A new name per release keeps the older histories: each must still replay.
    for path in asyncio.run(record(sys.argv[1] if len(sys.argv) > 1 else "relationship_current")):
        print(path)
