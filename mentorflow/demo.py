"""The main job: a programme year of 40 people, end to end, on the embedded stack, in minutes.

It is ``mentorflow simulate`` on the built-in scenario (``mentorflow/scenarios/demo.yaml``: the
pilot programme with 31 more people): training, matching and its approval, monthly meetings,
reminders, a midpoint survey, late and missing answers, escalations, a withdrawal, closure, the
programme report, and one group's timeline read back from the event store.
"""

from importlib import resources
from pathlib import Path

from pydantic import BaseModel

from mentorflow.simulate import Progress, SimulationReport, simulate


class DemoReport(BaseModel):
    simulation: SimulationReport
    database_url: str


def scenario_path() -> Path:
    return Path(str(resources.files("mentorflow") / "scenarios" / "demo.yaml"))


async def run_demo(database_url: str, progress: Progress) -> DemoReport:
    report = await simulate(scenario_path(), None, database_url, progress)
    return DemoReport(simulation=report, database_url=database_url)
