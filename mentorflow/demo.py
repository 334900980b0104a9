"""The main job: a programme year of 40 people, end to end, on the embedded stack, in minutes.

It is ``mentorflow simulate`` on the built-in scenario (``mentorflow/scenarios/demo.yaml``: the
pilot programme with 31 more people): training, matching and its approval, monthly meetings,
reminders, a midpoint survey, late and missing answers, escalations, a withdrawal, closure, the
programme report, and one group's timeline read back from the event store.
"""

from importlib import resources
from pathlib import Path

from pydantic import BaseModel

from activities.mail.smtp import SmtpConfig
from mentorflow.simulate import Progress, SimulationReport, simulate
from store.sealing import MasterKeys


class DemoReport(BaseModel):
    simulation: SimulationReport
    database_url: str
    maildir: str | None
    """Where the embedded mail server filed the messages (None: sent to the configured relay)."""


def scenario_path() -> Path:
    return Path(str(resources.files("mentorflow") / "scenarios" / "demo.yaml"))


async def run_demo(
    database_url: str,
    progress: Progress,
    mail: SmtpConfig,
    maildir: Path | None,
    migrate_schema: bool = True,
    master: MasterKeys | None = None,
) -> DemoReport:
    report = await simulate(
        scenario_path(), None, database_url, progress, mail, migrate_schema, master
    )
    return DemoReport(
        simulation=report,
        database_url=database_url,
        maildir=str(maildir) if maildir else None,
    )
