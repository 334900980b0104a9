"""Simulation benchmark: a programme year at 100, 300 and 1,000 participants, beside bare Temporal.

For each size it prints the wall time, stored events per second and people's actions per second
of ``mentorflow simulate`` (the example programme's policy and behaviour, a synthetic cohort of
30% mentors), and the wall time of bare Temporal doing the same work: the simulation's final
replay fetches every run's history, and each history is counted here (workflow tasks, timers,
activities, Updates, signals; ``bench.baseline.tally``); then one trivial workflow per recorded
run takes as many Updates and signals and runs as many timers and activities, on the same kind
of time-skipping server, results awaited one after another as the simulation does. The ratio of
the two wall times is our layer's overhead.
Run: ``.venv/bin/python -m bench.simulation [SIZES...]`` (default 100 300 1000; 1,000 takes
several minutes).

Then the domain engine (``mentorflow simulate --engine domain``, ``mentorflow.rehearsal``) on the
same kind of scenario at 1,000 and 10,000 people (``--domain SIZES...`` for others; ``--domain``
alone skips the full engine): the wall time, matching included, the process's CPU time (the
wall time less what other processes took of the cores), the time the matching alone took,
events and actions per second.
"""

import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml
from temporalio.client import Client
from temporalio.worker import Worker

from bench.baseline import ReplayedWorkload, Shape, bare_step, tally, total
from mentorflow import embedded, verify
from mentorflow.log_setup import configure_logging
from mentorflow.mail_server import MailSink
from mentorflow.rehearsal import rehearsal
from mentorflow.settings import Settings
from mentorflow.simulate import simulate
from mentorflow.synthetic import cohort
from mentorflow.telemetry import configure_telemetry
from worker import database_url

fetch_histories = verify.run_histories
EXAMPLE = Path(__file__).parent.parent / "examples" / "palkeet-pilot.yaml"


def scenario_file(participants: int) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text())
    mentors = participants * 3 // 10
    data["participants"] = [
        {**p.model_dump(mode="json", exclude_defaults=True), "role": p.role.value}
        for p in cohort(mentors, participants - mentors, seed=participants)
    ]
    data["behaviour"]["script"] = []
    path = Path(tempfile.mkdtemp()) / f"scenario-{participants}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def counting_histories(shapes: list[Shape]) -> None:
    """Make the simulation's final replay (every run of every workflow) count each history it
    fetches into ``shapes`` (the benchmark's only change to the run: it reads what is fetched)."""
    fetch = verify.run_histories

    async def run_histories(client: Client, workflow_id: str, first_run_id: str) -> list[Any]:
        histories = await fetch(client, workflow_id, first_run_id)
        shapes.extend(tally(h) for h in histories)
        return histories

    verify.run_histories = run_histories


async def bare(shapes: list[Shape]) -> float:
    """Seconds for bare Temporal to do ``shapes``' work: one trivial workflow per recorded run."""
    async with await embedded.start_time_skipping() as env:
        queue = f"bare-{uuid.uuid4()}"
        async with Worker(
            env.client, task_queue=queue, workflows=[ReplayedWorkload], activities=[bare_step]
        ):
            started = time.perf_counter()
            handles = []
            for shape in shapes:
                handle = await env.client.start_workflow(
                    ReplayedWorkload.run, shape, id=f"bare-{uuid.uuid4()}", task_queue=queue
                )
                for _ in range(shape.updates):
                    await handle.execute_update(ReplayedWorkload.poke)
                for _ in range(shape.signals):
                    await handle.signal(ReplayedWorkload.nudge)
                handles.append(handle)
            for handle in handles:
                await handle.result()
            return time.perf_counter() - started


async def main(sizes: list[int]) -> None:
    url = database_url(Settings())
    columns = ("people", "groups", "wall s", "events/s", "actions/s", "bare s", "ratio")
    print(" ".join(f"{c:>9}" for c in columns))
    work = []
    for size in sizes:
        shapes: list[Shape] = []
        counting_histories(shapes)
        started = time.perf_counter()
        with MailSink(Path(tempfile.mkdtemp()) / "Maildir") as mail:
            report = await simulate(scenario_file(size), None, url, lambda *_: None, mail.config)
        wall = time.perf_counter() - started
        verify.run_histories = fetch_histories
        groups = len(report.relationships)
        baseline = await bare(shapes)
        actions = sum(report.actions.values())
        row = (size, groups, wall, report.events["total"] / wall, actions / wall, baseline)
        print(" ".join(f"{v:9.1f}" if isinstance(v, float) else f"{v:9d}" for v in row), end="")
        print(f" {wall / baseline:8.1f}x")
        work.append((size, len(shapes), total(shapes)))
    print("\nThe work both did, counted from the simulation's histories:")
    for size, runs, t in work:
        print(
            f"  {size} people: {runs} workflow runs, {t.workflow_tasks} workflow tasks,"
            f" {t.timers} timers, {t.activities} activities, {t.updates} Updates,"
            f" {t.signals} signals"
        )


async def domain_engine(sizes: list[int]) -> None:
    """The domain engine's figures: no Temporal, no database, no mail."""
    columns = (
        "people",
        "groups",
        "wall s",
        "cpu s",
        "matching s",
        "events",
        "events/s",
        "actions/s",
    )
    print("\nThe domain engine (mentorflow simulate --engine domain):")
    print(" ".join(f"{c:>10}" for c in columns))
    for size in sizes:
        path = scenario_file(size)
        started, cpu = time.perf_counter(), time.process_time()
        report, sim = await rehearsal(path, None, lambda *_: None)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        events, actions = report.events["total"], sum(report.actions.values())
        row = (size, len(report.relationships), wall, cpu, sim.matching_seconds, events)
        print(" ".join(f"{v:10.1f}" if isinstance(v, float) else f"{v:10d}" for v in row), end="")
        print(f" {events / wall:10.0f} {actions / wall:10.0f}")


def _arguments(argv: list[str]) -> tuple[list[int], list[int]]:
    """(full engine sizes, domain engine sizes)."""
    if "--domain" not in argv:
        return [int(a) for a in argv] or [100, 300, 1000], [1000, 10000]
    at = argv.index("--domain")
    return [int(a) for a in argv[:at]], [int(a) for a in argv[at + 1 :]] or [1000, 10000]


async def everything(full: list[int], domain: list[int]) -> None:
    if full:
        await main(full)
    await domain_engine(domain)


if __name__ == "__main__":
    configure_logging("ERROR", "console")
    configure_telemetry()
    asyncio.run(everything(*_arguments(sys.argv[1:])))
