"""The domain engine (``mentorflow simulate --engine domain``) decides exactly what the workflows
decide: scenarios run through both engines with the same seed must give the same event streams
and the same report.

What is compared, and why:

- Every stream (the programme's and each group's), event by event in stream order: the type,
  the actor, the time and the whole payload (texts opened: the full engine seals them, the domain
  engine has no keys to seal with).
- Times within a second of each other, in ``occurred_at`` and in payloads. On Temporal an
  Update lands, and a step that follows a timer or an activity is taken, some milliseconds of
  real time later; the domain engine lands a person's action 1 ms after its planned second and
  fires a timer on its millisecond. Those milliseconds also reach what is computed from such a
  time: a pause's length is the time between two Updates, and every deadline after a resume
  moves by it, so on Temporal it carries the difference of two transit times (a few ms, either
  way). Every decision rounds to whole seconds (people act on whole seconds, a group starts on a
  whole second), so no time may differ by a second or more; the rest of each event (all but its
  times) must be equal.
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
- The report, its times (cut to the second by the report) at most a second apart: everything
  except ``mail`` beyond ``messages`` (the domain engine delivers no mail, so it has no
  sent/failed counts; the messages the notifications call for must agree) and the ``checks``
  only the full engine can run (Temporal replay of every run, the stored hash chains); the fold
  check must hold in both.
"""

import difflib
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from domain.calendar import calendar
from domain.codec import PROGRAMME, RELATIONSHIP, encode
from domain.programme.events import ProgrammeStarted
from mentorflow.cli import app
from mentorflow.programme_files import load_programme
from mentorflow.rehearsal import rehearsal
from mentorflow.settings import Settings
from mentorflow.simulate import SimulationReport, simulate
from store.event_store import EventStore
from store.sealing import Sealer
from tests.test_scripted_actions import SCRIPT
from workflows.messages import programme_workflow_id, workflow_id

EXAMPLE = Path(__file__).parent.parent / "examples" / "palkeet-pilot.yaml"

_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_RUN = re.compile(r"\.sim-[0-9a-f]{8}")


def _normal(text: str, ids: dict[str, str] | None = None) -> str:
    """``text`` without what is random in a run: each id becomes its place of first use in the
    stream (``ids``: ``ID1``, ``ID2``...), so that an event naming another names the same one in
    both engines; the run's programme id ``<id>.sim-RUN``."""
    if ids is None:
        ids = {}

    def numbered(m: re.Match[str]) -> str:
        return ids.setdefault(m.group(0), f"ID{len(ids) + 1}")

    return _RUN.sub(".sim-RUN", _UUID.sub(numbered, text))


LAGGING = ("relationship_ended", "programme_closed")
"""Events the programme records on a group's ``relationship_ended`` signal, and its closure."""

SIGNAL_LAG = timedelta(seconds=10)


class _Line:
    """An event as compared: its text with the times taken out, the times, and how it reads."""

    def __init__(self, e: Any, ids: dict[str, str]):
        stored = encode(e)
        at = "~" if stored.type in LAGGING else e.occurred_at.isoformat()
        text = f"{stored.type} {at} {e.actor} {json.dumps(stored.payload, sort_keys=True)}"
        self.key = _normal(_TIME.sub("<time>", text), ids)
        self.times = [datetime.fromisoformat(t) for t in _TIME.findall(text)]
        self.shown = _normal(_TIME.sub(lambda m: m.group(0)[:19], text), ids)


def _stream(events: list[Any]) -> list[_Line]:
    """The stream's events as compared; a run of ``relationship_ended`` sorted."""
    out: list[_Line] = []
    block: list[_Line] = []
    ids: dict[str, str] = {}
    for line in [_Line(e, ids) for e in events]:
        if line.key.startswith("relationship_ended"):
            block.append(line)
            continue
        out += sorted(block, key=lambda b: b.key)
        block = []
        out.append(line)
    return out + sorted(block, key=lambda b: b.key)


def _same(name: str, full: list[Any], domain: list[Any]) -> None:
    theirs, ours = _stream(full), _stream(domain)
    shown = difflib.unified_diff(
        [t.shown for t in theirs], [o.shown for o in ours], "full", "domain", lineterm="", n=1
    )
    message = f"stream {name} differs:\n" + "\n".join(shown)
    assert [o.key for o in ours] == [t.key for t in theirs], message
    for o, t in zip(ours, theirs, strict=True):
        apart = [abs(a - b) for a, b in zip(o.times, t.times, strict=True)]
        assert all(d < timedelta(seconds=1) for d in apart), f"{name}: {t.shown}\n{o.shown}"
    lags = zip(_lagging_times(full), _lagging_times(domain), strict=True)
    assert all(timedelta(0) <= f - d < SIGNAL_LAG for f, d in lags), name


def _lagging_times(events: list[Any]) -> list[datetime]:
    return [e.occurred_at for e in events if e.type in LAGGING]


def _report(report: SimulationReport) -> tuple[dict[str, Any], list[datetime]]:
    """The report as compared (its times taken out), and its times (compared within a second)."""
    data = report.model_dump(mode="json")
    data["mail"] = {"messages": data["mail"]["messages"]}
    data["checks"] = {"fold_matches_workflows": data["checks"]["fold_matches_workflows"]}
    data.pop("scenario")
    text = _normal(json.dumps(data, sort_keys=True))
    times = [datetime.fromisoformat(t) for t in _TIME.findall(text)]
    return json.loads(_TIME.sub("<time>", text)), times


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
        _same(name, streams[name], domain_streams[name])
    (ours, our_times), (theirs, their_times) = _report(domain), _report(full)
    assert ours == theirs
    # The report cuts its times to the second: times less than a second apart may read a
    # second apart.
    apart = [abs(a - b) for a, b in zip(our_times, their_times, strict=True)]
    assert all(d <= timedelta(seconds=1) for d in apart), apart
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
    # The programme approves itself; mentors who do not train in time are excluded; the
    # coordinator removes a mentee before the matching.
    "automatic approval and exclusions": (
        EXAMPLE,
        {
            "training_completion": 0.3,
            "script": [
                {
                    "date": "2020-08-25",
                    "person": "hr1",
                    "action": "remove",
                    "member": "a5",
                    "reason": "left the agency",
                }
            ],
        },
        3,
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
        if name.startswith("automatic"):
            data["programme"]["matching"]["approval"] = "automatic"
        path = tmp_path / "scenario.yaml"
        path.write_text(yaml.safe_dump(data))
    await _both(path, seed, pool, database_url, mail)


def test_simulate_engine_domain_runs_without_temporal_a_database_or_mail(tmp_path, monkeypatch):
    """`mentorflow simulate --engine domain --json`: the year closes, nothing lands on disk."""
    monkeypatch.setenv("MENTORFLOW_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["simulate", str(EXAMPLE), "--engine", "domain", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["programme"]["phase"] == "closed" and report["seed"] == 2020
    assert report["checks"] == {"fold_matches_workflows": True}
    assert set(report["mail"]) == {"messages"} and report["mail"]["messages"] > 0
    assert not (tmp_path / "data").exists()  # no embedded database, no Maildir


def test_what_only_the_full_engine_does_is_refused_in_one_line(tmp_path):
    data = yaml.safe_load(EXAMPLE.read_text())
    data["behaviour"]["script"].append(
        {"date": "2021-03-01", "person": "hr1", "action": "erase_personal_data", "member": "a1"}
    )
    path = tmp_path / "erasing.yaml"
    path.write_text(yaml.safe_dump(data))
    erasing = CliRunner().invoke(app, ["simulate", str(path), "--engine", "domain"])
    assert erasing.exit_code == 1
    assert erasing.stderr.count("\n") == 1
    assert "does not erase personal data" in erasing.stderr and "--engine full" in erasing.stderr
    mailing = CliRunner().invoke(
        app, ["simulate", str(EXAMPLE), "--engine", "domain", "--send-mail"]
    )
    assert mailing.exit_code == 1
    assert mailing.stderr == "mentorflow: --engine domain uses no database and sends no mail\n"
