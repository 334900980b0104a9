"""`mentorflow simulate`: seeded simulated people driving real workflows in virtual time."""

import asyncio
import os
import re
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest_asyncio
import yaml
from temporalio import activity, workflow
from temporalio.worker import Worker

from mentorflow import embedded
from mentorflow.audit.report import verify
from mentorflow.simulate import SimulationReport, simulate
from mentorflow.synthetic import cohort
from tests.mailbox_helpers import headers
from tests.temporal_helpers import result_within
from worker import WORKFLOWS

EXAMPLE = Path(__file__).parent.parent / "examples" / "palkeet-pilot.yaml"


def without_run_ids(report: SimulationReport) -> str:
    """The report with this run's programme id (unique per run) blanked out."""
    return re.sub(r"\.sim-[0-9a-f]{8}", ".sim-RUN", report.model_dump_json())


def scenario(tmp_path: Path, **behaviour: object) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["behaviour"].update(behaviour)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest_asyncio.fixture(scope="module")
async def example(mail, database_url) -> SimulationReport:
    """One run of the example with its seed, shared by the tests that only read its report."""
    return await simulate(EXAMPLE, None, database_url, lambda *_: None, mail.config)


async def test_the_same_seed_gives_the_same_results(example, mail, database_url):
    """Two runs of the example with its seed: identical reports, apart from the run's own id."""
    first = example
    second = await simulate(EXAMPLE, None, database_url, lambda *_: None, mail.config)
    assert first.seed == 2020
    assert without_run_ids(first) == without_run_ids(second)
    assert first.checks["fold_matches_workflows"] is True
    assert first.programme["phase"] == "closed"


async def test_a_scripted_withdrawal_dissolves_a_group_below_its_minimum(example):
    """a3 leaves on 2021-02-10 a group of two mentees (minimum two): the group is dissolved."""
    report = example
    [group] = [r for r in report.relationships if "a3" in r.mentees]
    assert group.outcome == "dissolved"
    assert "after a3 withdrew" in group.reason and len(group.mentees) == 2
    others = [r for r in report.relationships if "a3" not in r.mentees]
    assert others and all(r.outcome == "completed" for r in others)
    assert report.actions["refused:closed"] > 0  # the dissolved group's people still tried to act


async def test_people_who_never_answer_give_exactly_one_escalation_per_deadline(
    mail, tmp_path, database_url
):
    """Nobody records an agreement or answers feedback: one escalation per deadline, no more."""
    path = scenario(tmp_path, agreement_on_time=0, feedback_on_time=0, feedback_late=0, script=[])
    report = await simulate(path, 7, database_url, lambda *_: None, mail.config)
    assert report.relationships
    for group in report.relationships:
        kinds = [e["kind"] for e in group.escalations if e["kind"] != "inactive"]
        assert kinds == ["agreement_overdue", "feedback_overdue", "feedback_overdue"], group.id
        subjects = [e["subject"] for e in group.escalations if e["kind"] == "feedback_overdue"]
        assert subjects == ["feedback:midpoint", "feedback:final"]
        # Times come back in the scenario's own dates (2020/2021), not the server's.
        assert all(e["at"].startswith(("2020", "2021")) for e in group.escalations)


@activity.defn(name="slow_step")
async def slow_step() -> None:
    await asyncio.sleep(32)


@workflow.defn(name="SlowMonth", sandboxed=False)
class SlowMonth:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(slow_step, start_to_close_timeout=timedelta(minutes=2))
        await workflow.sleep(timedelta(days=30))


async def test_a_skip_of_the_clock_may_take_longer_than_the_sdks_30_seconds(env):
    """A month of virtual time whose work takes 32 s of real time: the simulation's skip waits
    for it. ``env.sleep`` gave up after 30 s ("Timeout expired"), and so did a simulation on a
    busy machine whenever the work between two people's actions took that long."""
    queue = f"slow-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=[SlowMonth], activities=[slow_step]):
        handle = await env.client.start_workflow(SlowMonth.run, id=queue, task_queue=queue)
        before = await env.get_current_time()
        await embedded.skip(env, timedelta(days=31))
        assert await env.get_current_time() - before >= timedelta(days=31)
        await result_within(handle)


def test_a_bad_scenario_is_refused_in_one_line_before_anything_starts(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(EXAMPLE.read_text().replace("meeting_held: 0.95", "meeting_held: often"))
    mentorflow = Path(sys.executable).parent / "mentorflow"
    done = subprocess.run(
        [str(mentorflow), "simulate", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=dict(os.environ),
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.count("\n") == 1
    assert "behaviour.meeting_held: 'often' is not a number" in done.stderr


async def test_two_launch_batches_of_groups_run_to_the_end_and_the_report_counts_what_is_stored(
    mail, tmp_path, pool, database_url
):
    """12 mentors and 18 mentees (the example's groups of two mentors and two or three mentees):
    more groups than one launch batch (``launch_batch``), so the programme launches them in two
    steps, two appends; every group closes, the JSON counts equal SQL counts,
    every message the notifications call for is in the Maildir exactly once, the whole log
    verifies and every history replays as `mentorflow audit verify --all` does it.

    Smallest that still proves it: a launch batch of four (the default, ``LAUNCH_BATCH``, is 50:
    this was 270 people in 55 groups, seven times the time, and 500 people for fifteen months
    before that), and the programme runs three months (September to November, across a DST
    change), in which every kind of step a group takes still happens: agreement reminders,
    meetings and their reminders, the midpoint and final feedback rounds with their reminders,
    escalations, the closing session, closing."""
    data = yaml.safe_load(EXAMPLE.read_text())
    data["programme"].update(ends_on="2020-11-30", closing={"event_on": "2020-11-20"})
    data["participants"] = [
        {**p.model_dump(mode="json", exclude_defaults=True), "role": p.role.value}
        for p in cohort(12, 18, seed=500)
    ]
    data["behaviour"]["script"] = []
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(data))
    batch = 4
    report = await simulate(
        path, None, database_url, lambda *_: None, mail.config, launch_batch=batch
    )

    assert report.programme["phase"] == "closed" and report.programme["participants"] == 30
    groups = len(report.relationships)
    assert batch < groups <= 2 * batch  # seed 500 forms 6 groups: two batches
    assert all(r.phase == "closed" for r in report.relationships)
    steps = {
        "relationship_started",
        "agreement_reminder",
        "meeting_scheduled",
        "meeting_unscheduled_reminder",
        "feedback_requested",
        "feedback_reminder",
        "escalation_raised",
        "closing_invitation",
        "relationship_closed",
    }
    assert steps <= set(report.notifications), report.notifications  # the three months suffice
    assert all(set(r.feedback) == {"midpoint", "final"} for r in report.relationships)
    assert report.checks["fold_matches_workflows"] is True
    run = report.programme["id"]
    async with pool.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT count(*) FROM events WHERE stream_id = $1 OR stream_id LIKE $2",
            f"programme:{run}",
            f"relationship:{run}:%",
        )
        # One append per batch: each append is one transaction, which stamps its rows' xmin.
        appends = await conn.fetchval(
            "SELECT count(DISTINCT xmin::text) FROM events"
            " WHERE stream_id = $1 AND type = 'relationship_launched'",
            f"programme:{run}",
        )
        kinds = await conn.fetch(
            "SELECT kind, count(*) AS n FROM outbox WHERE stream_id = $1 OR stream_id LIKE $2"
            " GROUP BY kind",
            f"programme:{run}",
            f"relationship:{run}:%",
        )
    assert report.events["total"] == stored
    assert appends == 2
    assert report.notifications == {r["kind"]: r["n"] for r in kinds}
    held = sum(r.meetings_held for r in report.relationships)
    assert report.report is not None and report.report.meetings_held == held

    outbox = await _outbox(pool, run)
    owed = {(str(event_id), person) for event_id, recipients in outbox for person in recipients}
    filed = [h for h in headers(mail) if h["X-Mentorflow-Event"] in {e for e, _ in owed}]
    assert len(filed) == len(owed) == report.mail["messages"] == report.mail["sent"]
    assert all(mail.handler.received[h["Message-ID"]] == 1 for h in filed)
    assert report.mail["failed"] == report.mail["sending"] == 0

    # The auditor's check of the whole log, as `mentorflow audit verify --all` runs it.
    verified = await verify(pool, WORKFLOWS, None)
    assert verified.ok and verified.log["events"] >= stored and verified.histories.replayed > groups
    assert report.checks["hash_chains_verified"] is True


async def _outbox(pool, run: str):
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT event_id, recipients FROM outbox WHERE stream_id = $1 OR stream_id LIKE $2",
            f"programme:{run}",
            f"relationship:{run}:%",
        )
    return [(r["event_id"], r["recipients"]) for r in rows]
