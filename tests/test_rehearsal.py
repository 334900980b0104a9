"""The domain engine (``mentorflow simulate --engine domain``) decides exactly what the workflows
decide: scenarios run through both engines with the same seed must give the same event streams
and the same report.

What is compared, and why:

- Every stream (the programme's and each group's), event by event in stream order: the type,
  the actor, the time and the whole payload (texts opened: the full engine seals them, the domain
  engine has no keys to seal with).
- Times to the second, in ``occurred_at`` and in payloads. On Temporal an Update lands, and a
  step that follows a timer or an activity is taken, some milliseconds of real time later; the
  domain engine lands a person's action 1 ms after its planned second. Every decision that
  depends on time rounds to whole seconds (people act on whole seconds, a group starts on a
  whole second), so the seconds are what both engines must agree on.
- Event ids (and any id in a payload, drawn by ``workflow.uuid4``) and the run's own programme
  id (``<id>.sim-<random>``) are not compared: they are random in each run of either engine.
- What the programme records on a group's ``relationship_ended`` signal, and its closure after
  the last one (``LAGGING``), is compared in everything but time, and in time only to be no
  earlier than the domain engine's and less than ``SIGNAL_LAG`` later. On Temporal a group
  signals after its closing mail is delivered and its history archived, real seconds that the
  time-skipping server counts as virtual time (seven groups closing at once take more than a
  second); the domain engine signals at once. A run of such events (every group at the end) is
  compared as a set: on Temporal their order is the order in which concurrent workflows'
  signals arrive, which no decision fixes.
- The report: everything except ``mail`` beyond ``messages`` (the domain engine delivers no mail,
  so it has no sent/failed counts; the messages the notifications call for must agree) and the
  ``checks`` only the full engine can run (Temporal replay of every run, the stored hash chains);
  the fold check must hold in both.
"""

import difflib
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from domain.calendar import calendar
from domain.codec import PROGRAMME, RELATIONSHIP, encode
from domain.programme.events import ProgrammeStarted
from mentorflow.programme_files import load_programme
from mentorflow.rehearsal import rehearsal
from mentorflow.settings import Settings
from mentorflow.simulate import SimulationReport, simulate
from store.event_store import EventStore
from store.sealing import Sealer
from tests.test_scripted_actions import SCRIPT
from workflows.messages import programme_workflow_id, workflow_id

EXAMPLE = Path(__file__).parent.parent / "examples" / "palkeet-pilot.yaml"

_FRACTION = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_RUN = re.compile(r"\.sim-[0-9a-f]{8}")


def _normal(text: str) -> str:
    return _RUN.sub(".sim-RUN", _UUID.sub("ID", _FRACTION.sub(r"\1", text)))


LAGGING = ("relationship_ended", "programme_closed")
"""Events the programme records on a group's ``relationship_ended`` signal, and its closure."""

SIGNAL_LAG = timedelta(seconds=10)


def _event(e: Any) -> str:
    stored = encode(e)
    at = "~" if stored.type in LAGGING else e.occurred_at.replace(microsecond=0).isoformat()
    payload = json.dumps(stored.payload, sort_keys=True)
    return _normal(f"{stored.type} {at} {e.actor} {payload}")


def _stream(events: list[Any]) -> list[str]:
    """The stream's events as comparable lines; a run of ``relationship_ended`` sorted."""
    out: list[str] = []
    block: list[str] = []
    for line in [_event(e) for e in events]:
        if line.startswith("relationship_ended"):
            block.append(line)
            continue
        out += sorted(block)
        block = []
        out.append(line)
    return out + sorted(block)


def _lagging_times(events: list[Any]) -> list[datetime]:
    return [e.occurred_at for e in events if e.type in LAGGING]


def _report(report: SimulationReport) -> dict[str, Any]:
    data = report.model_dump(mode="json")
    data["mail"] = {"messages": data["mail"]["messages"]}
    data["checks"] = {"fold_matches_workflows": data["checks"]["fold_matches_workflows"]}
    data.pop("scenario")
    return yaml.safe_load(_normal(yaml.safe_dump(data)))


async def _full_streams(pool, report: SimulationReport) -> dict[str, list[Any]]:
    """The full engine's streams from the event store, texts opened."""
    store, sealer = EventStore(pool), Sealer(pool, Settings().master())
    run = report.programme["id"]
    records = await store.read_stream(programme_workflow_id(run))
    streams = {
        "programme": [PROGRAMME.decode(r, await sealer.open_tree(r.payload)) for r in records]
    }
    for group in report.relationships:
        records = await store.read_stream(workflow_id(group.id))
        streams[group.id.rsplit(":", 1)[1]] = [
            RELATIONSHIP.decode(r, await sealer.open_tree(r.payload)) for r in records
        ]
    return streams


async def _both(path: Path, seed: int | None, pool, database_url, mail) -> None:
    full = await simulate(path, seed, database_url, lambda *_: None, mail.config)
    streams = await _full_streams(pool, full)
    started = streams["programme"][0]
    assert isinstance(started, ProgrammeStarted)
    scenario = calendar(load_programme(path).programme)
    shift = started.calendar.starts_at - scenario.starts_at
    assert shift % timedelta(days=1) == timedelta(0)

    domain, sim = await rehearsal(path, seed, lambda *_: None, shift=shift)
    domain_streams = {"programme": sim.programme.events} | {
        rid.rsplit(":", 1)[1]: run.events for rid, run in sim.groups.items()
    }
    assert sorted(domain_streams) == sorted(streams)
    for name in streams:
        ours, theirs = _stream(domain_streams[name]), _stream(streams[name])
        diff = "\n".join(difflib.unified_diff(theirs, ours, "full", "domain", lineterm="", n=1))
        assert ours == theirs, f"stream {name} differs:\n{diff}"
        lags = zip(_lagging_times(streams[name]), _lagging_times(domain_streams[name]), strict=True)
        assert all(timedelta(0) <= full - domain < SIGNAL_LAG for full, domain in lags), name
    assert _report(domain) == _report(full)
    assert full.checks["fold_matches_workflows"] is True


DEMO = Path(__file__).parent.parent / "mentorflow" / "scenarios" / "demo.yaml"

SCENARIOS: dict[str, tuple[Path, dict[str, Any], int | None]] = {
    # The example: a withdrawal that dissolves a group, a skipped feedback round.
    "example": (EXAMPLE, {}, None),
    # The demo's 40 people: two withdrawals, seven groups.
    "demo": (DEMO, {}, None),
    # Nobody records an agreement or answers: an escalation per deadline, the approval late.
    "escalations": (
        EXAMPLE,
        {
            "agreement_on_time": 0,
            "feedback_on_time": 0,
            "feedback_late": 0,
            "coordinator_approval_delay": "P9D",
            "script": [],
        },
        7,
    ),
    # Most answers come late, half the meetings never happen (inactive groups), and a mentor
    # withdraws from a group that keeps its other mentor.
    "late answers and withdrawals": (
        EXAMPLE,
        {
            "feedback_on_time": 0.2,
            "feedback_late": 0.7,
            "meeting_held": 0.5,
            "script": [
                {"date": "2021-03-01", "person": "m1", "action": "withdraw", "reason": "moved"},
                {"date": "2021-02-10", "person": "a3", "action": "withdraw", "reason": "left"},
            ],
        },
        11,
    ),
    # Every scripted action (a pause and a resume, meetings planned and cancelled, answers, a
    # person the programme does not hold), with the refusals the rules give.
    "scripted": (
        EXAMPLE,
        {
            "script": SCRIPT,
            "training_completion": 0,
            "meeting_held": 0,
            "feedback_on_time": 0,
            "feedback_late": 0,
        },
        None,
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_both_engines_give_the_same_streams_and_report(
    name, tmp_path, pool, database_url, mail
):
    base, behaviour, seed = SCENARIOS[name]
    path = base
    if behaviour:
        data = yaml.safe_load(base.read_text())
        data["behaviour"].update(behaviour)
        path = tmp_path / "scenario.yaml"
        path.write_text(yaml.safe_dump(data))
    await _both(path, seed, pool, database_url, mail)
