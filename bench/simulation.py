"""Simulation benchmark: a programme year at 100, 300 and 1,000 participants, beside bare Temporal.

For each size it prints the wall time, stored events per second and people's actions per second
of ``mentorflow simulate`` (the example programme's policy and behaviour, a synthetic cohort of
30% mentors), and the wall time of the same number of bare workflows (twelve 30-day timers and
one activity each, on the same kind of time-skipping server), so our layer's overhead is a ratio.
Run: ``.venv/bin/python -m bench.simulation [SIZES...]`` (default 100 300 1000; 1,000 takes
several minutes).
"""

import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml
from temporalio.worker import Worker

from bench.baseline import BareWorkflow, bare_step
from mentorflow import embedded
from mentorflow.log_setup import configure_logging
from mentorflow.mail_server import MailServer
from mentorflow.settings import Settings
from mentorflow.simulate import simulate
from mentorflow.synthetic import cohort
from mentorflow.telemetry import configure_telemetry
from worker import database_url

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


async def bare(workflows: int) -> float:
    """Seconds for ``workflows`` bare workflows, their results awaited one after another."""
    async with await embedded.start_time_skipping() as env:
        queue = f"bare-{uuid.uuid4()}"
        async with Worker(
            env.client, task_queue=queue, workflows=[BareWorkflow], activities=[bare_step]
        ):
            started = time.perf_counter()
            handles = [
                await env.client.start_workflow(
                    BareWorkflow.run, 12, id=f"bare-{uuid.uuid4()}", task_queue=queue
                )
                for _ in range(workflows)
            ]
            for handle in handles:
                await handle.result()
            return time.perf_counter() - started


async def main(sizes: list[int]) -> None:
    url = database_url(Settings())
    columns = ("people", "groups", "wall s", "events/s", "actions/s", "bare s", "ratio")
    print(" ".join(f"{c:>9}" for c in columns))
    for size in sizes:
        started = time.perf_counter()
        with MailServer(Path(tempfile.mkdtemp()) / "Maildir") as mail:
            report = await simulate(scenario_file(size), None, url, lambda *_: None, mail.config)
        wall = time.perf_counter() - started
        groups = len(report.relationships)
        baseline = await bare(groups + 1)
        actions = sum(report.actions.values())
        row = (size, groups, wall, report.events["total"] / wall, actions / wall, baseline)
        print(" ".join(f"{v:9.1f}" if isinstance(v, float) else f"{v:9d}" for v in row), end="")
        print(f" {wall / baseline:9.1f}")


if __name__ == "__main__":
    configure_logging("ERROR", "console")
    configure_telemetry()
    asyncio.run(main([int(a) for a in sys.argv[1:]] or [100, 300, 1000]))
