"""Load test: many relationships at once on the real Temporal dev server, a policy in minutes.

Starts PostgreSQL (embedded, fresh), the Temporal dev server (real time, no skipping), the
Maildir SMTP sink (its own process) and ``--workers`` ``mentorflow worker`` processes; registers a
programme of ``--groups`` groups of five (2 mentors, 3 mentees) and starts each group directly as
a RelationshipWorkflow with the production rules compressed to ``--minutes`` (a year: a month
becomes a twelfth of the run). People act through the real Updates at the rate the compressed
calendar gives: each group records its agreement, records each meeting in its grace period and
three members answer each feedback round. At the end it prints, per run:

- Update latency p50/p99 (accepted Updates; refused ones are counted apart),
- timer lag: how late each reminder and escalation happened (its ``occurred_at``, the workflow's
  time) and was stored (``recorded_at``) after the time the policy set (``scheduled_for``),
- events stored per second and messages delivered to the sink per second,
- CPU seconds per process (from /proc): Temporal server, PostgreSQL, each worker, the SMTP sink,
  and this process (the Update driver).

Run: ``.venv/bin/python -m bench.load --groups 200 --minutes 5 --workers 1 2``.
"""

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.model import Member, Role
from domain.policy import RelationshipPolicy
from domain.relationship.commands import (
    RecordAgreement,
    RecordMeeting,
    RelationshipSpec,
    SubmitFeedback,
)
from domain.relationship.events import FeedbackRound
from mentorflow import embedded
from mentorflow.database import open_database
from mentorflow.log_setup import configure_logging
from mentorflow.mail_server import MailSink
from mentorflow.settings import Settings
from store.directory import Contact, Directory, ProgrammeEntry
from store.event_store import EventStore, RecordedEvent
from workflows import TASK_QUEUE
from workflows.messages import RelationshipInput, workflow_id
from workflows.relationship import RelationshipWorkflow

MENTORFLOW = Path(sys.executable).parent / "mentorflow"
MENTORS, MENTEES = ("m1", "m2"), ("a1", "a2", "a3")
MONTHS = 12  # a relationship is a year of compressed months
LATE = 5.0  # seconds: a deadline later than this is "missed"
TIMED = ("reminder_issued", "escalation_raised")  # events that carry the time they were due


def policy(minutes: float) -> tuple[RelationshipPolicy, timedelta]:
    """The pilot's rules with a month of ``minutes / 12`` (whole seconds); and that month."""
    month = max(5, round(minutes * 60 / MONTHS))
    day = month / 30

    def iso(days: float) -> str:
        return f"PT{max(1, round(days * day))}S"

    rules = RelationshipPolicy(
        cadence=f"PT{month}S",
        meeting_length=iso(1 / 16),
        preparation_reminder=iso(3),
        meeting_record_grace=iso(7),
        agreement_due=iso(30),
        midpoint_window=iso(14),
        final_window=iso(14),
        reminders=tuple(dict.fromkeys((iso(3), iso(1)))),
        overdue_after=iso(7),
    )
    return rules, timedelta(seconds=month)


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)
    refusals: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    failed: int = 0


async def update(figures: Figures, handle: WorkflowHandle[Any, Any], method: Any, arg: Any) -> None:
    started = time.perf_counter()
    try:
        await handle.execute_update(method, arg)
    except Exception as e:  # a refusal (rule violation) or a timeout: counted, not fatal
        if "WorkflowUpdateFailedError" in type(e).__name__:
            figures.refused += 1
            figures.refusals[f"{method.__name__}: {getattr(e.__cause__, 'type', '?')}"] += 1
        else:
            figures.failed += 1
        return
    figures.latencies.append(time.perf_counter() - started)


async def sleep_until(at: datetime) -> None:
    await asyncio.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()))


async def people(
    handle: WorkflowHandle[Any, Any], spec: RelationshipSpec, month: timedelta, figures: Figures
) -> None:
    """One group's people: agreement within the month, each meeting recorded in its grace, three
    answers to each feedback round (the pilot's behaviour, in compressed time)."""
    rng = random.Random(spec.relationship_id)
    p = spec.policy
    start, end = spec.starts_at, spec.ends_at
    length = end - start
    acts: list[tuple[datetime, Any, Any]] = []
    goals, text = ("listening",), "monthly, in person"
    agreement = RecordAgreement(by="m1", goals=goals, agreement=text)
    acts.append(
        (start + month * rng.uniform(0.1, 0.8), RelationshipWorkflow.record_agreement, agreement)
    )
    n = 1
    while start + month * n < end:
        at = (
            start
            + month * n
            + timedelta(seconds=rng.uniform(0.2, 0.8) * _secs(p.meeting_record_grace))
        )
        held = RecordMeeting(by=rng.choice(MENTEES), held_on=at.date(), attendees=("m1", "a1"))
        acts.append((at, RelationshipWorkflow.record_meeting, held))
        n += 1
    midpoint = start + length * p.midpoint_at
    for round_, opens, window in (
        (FeedbackRound.MIDPOINT, midpoint, p.midpoint_window),
        (
            FeedbackRound.FINAL,
            end - _secs_td(p.overdue_after) - _secs_td(p.final_window),
            p.final_window,
        ),
    ):
        for person in rng.sample((*MENTORS, *MENTEES), 3):
            at = opens + timedelta(seconds=rng.uniform(0.1, 0.9) * _secs(window))
            answer = SubmitFeedback(by=person, round=round_, choices={"overall": "4"})
            acts.append((at, RelationshipWorkflow.submit_feedback, answer))
    for at, method, arg in sorted(acts, key=lambda a: a[0]):
        await sleep_until(at)
        await update(figures, handle, method, arg)


def _secs(iso: str) -> float:
    return float(iso.removeprefix("PT").removesuffix("S"))


def _secs_td(iso: str) -> timedelta:
    return timedelta(seconds=_secs(iso))


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its children reaped so far (from /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += parents.get(pid, [])
    return found


def tree_cpu(root: int) -> float:
    return sum(cpu_seconds(pid) for pid in descendants(root))


def temporal_pid() -> int:
    for pid in descendants(os.getpid()):
        try:
            if Path(f"/proc/{pid}/exe").resolve().name == "temporal":
                return pid
        except OSError:
            continue
    return 0


def start_worker(
    env: WorkflowEnvironment, url: str, mail_port: int, data: Path, n: int
) -> subprocess.Popen[bytes]:
    settings = {
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "MENTORFLOW_DATABASE_URL": url,
        "MENTORFLOW_DATA_DIR": str(data),
        "MENTORFLOW_SMTP_HOST": "127.0.0.1",
        "MENTORFLOW_SMTP_PORT": str(mail_port),
        "MENTORFLOW_SMTP_STARTTLS": "false",
        "MENTORFLOW_LOG_LEVEL": "WARNING",
    }
    log = (data / f"worker-{n}.log").open("w")
    return subprocess.Popen(
        [str(MENTORFLOW), "worker"], env={**os.environ, **settings}, stdout=log, stderr=log
    )


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def run(groups: int, minutes: float, workers: int) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="bench-load-"))
    os.environ["MENTORFLOW_DATA_DIR"] = str(data)  # keys and the embedded database, fresh
    Settings().master()  # its key file made now: workers starting together would race for it
    url = embedded.start_postgres(data)
    pool = await open_database(url)
    postgres = int((data / "postgres" / "postmaster.pid").read_text().split()[0])
    programme = f"load-{uuid.uuid4().hex[:8]}"
    entry = ProgrammeEntry(programme, "Load programme", "Europe/Helsinki", "hr1")
    contacts = [
        Contact(p, f"Person {p}", f"{p}@example.org", "fi") for p in (*MENTORS, *MENTEES, "hr1")
    ]
    await Directory(pool).register(entry, contacts)
    with MailSink(data / "Maildir") as sink:
        async with await embedded.start_dev_server() as env:
            procs = [start_worker(env, url, sink.port, data, n) for n in range(workers)]
            try:
                specs, results, wall, cpu, figures = await drive(
                    env, procs, sink, postgres, programme, groups, minutes
                )
            finally:
                for proc in procs:
                    proc.terminate()
                    proc.wait(timeout=30)
    store = EventStore(pool)
    events: list[RecordedEvent] = []
    for s in specs:
        events += await store.read_stream(workflow_id(s.relationship_id))
    await pool.close()
    embedded.stop_postgres(data)
    mailed = sorted(m.stat().st_mtime for m in (data / "Maildir" / "new").iterdir())
    return measured(events, mailed, figures, results, groups, workers, wall, cpu)


def measured(
    events: list[RecordedEvent],
    mailed: list[float],
    figures: Figures,
    results: list[Any],
    groups: int,
    workers: int,
    wall: float,
    cpu: dict[str, float],
) -> dict[str, Any]:
    """The row printed for one run: Update latency, timer lag, rates and CPU."""
    timed = [e for e in events if e.type in TIMED]
    fired = [(e.occurred_at - _due(e)).total_seconds() for e in timed]
    stored = [(e.recorded_at - _due(e)).total_seconds() for e in timed]
    span = (max(e.recorded_at for e in events) - min(e.recorded_at for e in events)).total_seconds()
    worst = sorted(timed, key=lambda e: e.occurred_at - _due(e), reverse=True)[:3]
    return {
        "worst": [
            (e.type, e.payload.get("subject"), (e.occurred_at - _due(e)).total_seconds())
            for e in worst
        ],
        "refusals": dict(figures.refusals),
        "groups": groups,
        "workers": workers,
        "wall s": wall,
        "closed": sum(1 for r in results if not isinstance(r, BaseException)),
        "updates": len(figures.latencies),
        "refused": figures.refused,
        "failed": figures.failed,
        "upd p50 ms": 1000 * percentile(figures.latencies, 50),
        "upd p99 ms": 1000 * percentile(figures.latencies, 99),
        "lag p50 s": percentile(fired, 50),
        "lag p99 s": percentile(fired, 99),
        "lag max s": max(fired, default=float("nan")),
        "stored max s": max(stored, default=float("nan")),
        "late > 5 s": sum(1 for lag in fired if lag > LATE),
        "events/s": len(events) / span if span else float("nan"),
        "msgs/s": len(mailed) / (mailed[-1] - mailed[0]) if len(mailed) > 1 else float("nan"),
        "cpu": cpu,
    }


def _due(e: RecordedEvent) -> datetime:
    return datetime.fromisoformat(e.payload["scheduled_for"])


async def drive(
    env: WorkflowEnvironment,
    procs: list[subprocess.Popen[bytes]],
    sink: MailSink,
    postgres: int,
    programme: str,
    groups: int,
    minutes: float,
) -> tuple[list[RelationshipSpec], list[Any], float, dict[str, float], Figures]:
    """Start the groups, act as their people until every group has closed; the run's figures."""
    rules, month = policy(minutes)
    members = (
        *(Member(person_id=p, role=Role.MENTOR) for p in MENTORS),
        *(Member(person_id=p, role=Role.MENTEE) for p in MENTEES),
    )
    server = temporal_pid()
    cpu0 = cpu_now(server, postgres, sink, procs)
    wall0 = time.perf_counter()
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5 + groups / 100)
    specs = [
        RelationshipSpec(
            relationship_id=f"{programme}:{n}",
            programme_id=programme,
            coordinator_id="hr1",
            members=members,
            policy=rules,
            starts_at=starts,
            ends_at=starts + month * MONTHS,
        )
        for n in range(groups)
    ]
    handles = await asyncio.gather(
        *(
            env.client.start_workflow(
                RelationshipWorkflow.run,
                RelationshipInput(spec=s),
                id=workflow_id(s.relationship_id),
                task_queue=TASK_QUEUE,
            )
            for s in specs
        )
    )
    figures = Figures()
    await asyncio.gather(
        *(people(h, s, month, figures) for h, s in zip(handles, specs, strict=True))
    )
    results = await asyncio.wait_for(
        asyncio.gather(*(h.result() for h in handles), return_exceptions=True), timeout=600
    )
    wall = time.perf_counter() - wall0
    cpu1 = cpu_now(server, postgres, sink, procs)
    return specs, results, wall, {k: cpu1[k] - cpu0[k] for k in cpu0}, figures


def cpu_now(
    server: int, postgres: int, sink: MailSink, procs: list[subprocess.Popen[bytes]]
) -> dict[str, float]:
    """CPU seconds used so far by each process of the run (with its children)."""
    cpu = {
        "temporal": tree_cpu(server),
        "postgres": tree_cpu(postgres),
        "driver": cpu_seconds(os.getpid()),
        "smtp sink": cpu_seconds(sink.pid or 0),
    }
    return cpu | {f"worker {n + 1}": cpu_seconds(p.pid) for n, p in enumerate(procs)}


def show(rows: list[dict[str, Any]]) -> None:
    columns = [k for k in rows[0] if k not in ("cpu", "worst", "refusals")]
    print(" ".join(f"{c:>12}" for c in columns))
    for row in rows:
        print(
            " ".join(
                f"{row[c]:12.1f}" if isinstance(row[c], float) else f"{row[c]:12d}" for c in columns
            )
        )
    print("\nCPU seconds per process over the run (2 cores = 2 CPU s per wall second):")
    for row in rows:
        parts = ", ".join(f"{k} {v:.0f}" for k, v in row["cpu"].items())
        run = f"{row['groups']} groups, {row['workers']} worker(s), {row['wall s']:.0f} s wall"
        print(f"  {run}: {parts}")
        busy = sum(row["cpu"].values()) / row["wall s"]
        top = max(row["cpu"], key=row["cpu"].get)
        print(f"    {busy:.2f} cores busy with these processes; the most: {top}")
        print(f"    refused Updates: {row['refusals']}; latest timed events: {row['worst']}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=5.0, help="a relationship's length")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    rows = []
    for w in args.workers:
        rows.append(await run(args.groups, args.minutes, w))
        show(rows)  # each run's figures as soon as they are known (a run takes minutes)
        print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    configure_logging("ERROR", "console")
    asyncio.run(main())
