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
- The programme's ``relationship_ended`` events of groups that close in the same second (every
  group at the programme's end) are compared as a set: on Temporal their order is the order in
  which concurrent workflows' signals arrive, which no decision fixes.
- The report: everything except ``mail`` beyond ``messages`` (the domain engine delivers no mail,
  so it has no sent/failed counts; the messages the notifications call for must agree) and the
  ``checks`` only the full engine can run (Temporal replay of every run, the stored hash chains);
  the fold check must hold in both.
"""

import difflib
import json
import re
from datetime import timedelta
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
from workflows.messages import programme_workflow_id, workflow_id

EXAMPLE = Path(__file__).parent.parent / "examples" / "palkeet-pilot.yaml"

_FRACTION = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_RUN = re.compile(r"\.sim-[0-9a-f]{8}")


def _normal(text: str) -> str:
    return _RUN.sub(".sim-RUN", _UUID.sub("ID", _FRACTION.sub(r"\1", text)))


def _event(e: Any) -> str:
    stored = encode(e)
    at = e.occurred_at.replace(microsecond=0).isoformat()
    return _normal(f"{stored.type} {at} {e.actor} {json.dumps(stored.payload, sort_keys=True)}")


def _stream(events: list[Any]) -> list[str]:
    """The stream's events as comparable lines, ``relationship_ended`` of one second sorted."""
    lines = [_event(e) for e in events]
    out: list[str] = []
    for line in lines:
        if (
            out
            and line.startswith("relationship_ended")
            and out[-1].startswith("relationship_ended")
        ):
            same_second = line.split(" ")[1] == out[-1].split(" ")[1]
            if same_second:
                run = [line]
                while (
                    out
                    and out[-1].startswith("relationship_ended")
                    and (out[-1].split(" ")[1] == line.split(" ")[1])
                ):
                    run.append(out.pop())
                out += sorted(run)
                continue
        out.append(line)
    return out


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
    assert _report(domain) == _report(full)
    assert full.checks["fold_matches_workflows"] is True


@pytest.mark.parametrize("seed", [None])
async def test_the_example_gives_the_same_streams_and_report_on_both_engines(
    seed, pool, database_url, mail
):
    """The example (a withdrawal that dissolves a group, a skipped feedback round)."""
    await _both(EXAMPLE, seed, pool, database_url, mail)
