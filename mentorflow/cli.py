"""The ``mentorflow`` command: one entry point for people (rich output) and machines (--json).

Exit code 0 on success; on failure, non-zero with a one-line reason on stderr.
"""

import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from mentorflow import embedded
from mentorflow.audit.cli import audit_app
from mentorflow.cli_common import JsonFlag, fail
from mentorflow.log_setup import configure_logging
from mentorflow.mail_cli import mail_app
from mentorflow.settings import Settings

if TYPE_CHECKING:
    from temporalio.client import Client

T = TypeVar("T")

app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode="markdown",
    add_completion=False,
    help="Mentoring programmes as durable, event-sourced Temporal workflows.",
)
err = Console(stderr=True)
app.add_typer(audit_app, name="audit")
app.add_typer(mail_app, name="mail")

ProgrammeFileArg = Annotated[Path, typer.Argument(help="The programme file (YAML).")]
ParticipantsOption = Annotated[
    Path | None, typer.Option("--participants", help="Participants from an HR export (CSV).")
]


@app.command()
def demo(
    json_output: JsonFlag = False,
) -> None:
    """Run a 40-person programme year end to end on the embedded stack, in virtual time.

    Starts a private PostgreSQL (under MENTORFLOW_DATA_DIR, default ./.mentorflow) unless
    MENTORFLOW_DATABASE_URL is set, and a time-skipping Temporal test server; simulated people
    act through the same Updates real people use. Prints the groups, one group's timeline read
    back from the event store, and the auditor's checks.
    """
    from mentorflow.demo import run_demo
    from mentorflow.demo_view import show_report
    from worker import database_url, mail_config

    settings = Settings()
    configure_logging("WARNING", settings.log_format)
    # The test server lacks a capability only real clusters need; its start-up warning is noise.
    logging.getLogger("temporalio.core").setLevel(logging.ERROR)
    try:
        url = database_url(settings)
        mail, server = mail_config(settings)
        try:
            with _progress(disabled=json_output or not sys.stdout.isatty()) as update:
                maildir = server.maildir if server else None
                report = asyncio.run(run_demo(url, update, mail, maildir))
        finally:
            if server:
                server.stop()
    except embedded.StackError as e:
        fail(str(e))
    if json_output:
        print(report.model_dump_json(indent=2))
    else:
        show_report(report, Console())
    if not report.simulation.checks["fold_matches_workflows"]:
        fail("the state folded from the stored events differs from a workflow's state")
    if not report.simulation.checks["hash_chains_verified"]:
        fail("the event log's hash chains do not verify: run `mentorflow audit verify --all`")


@app.command()
def simulate(
    scenario: Annotated[Path, typer.Argument(help="A programme file with a `behaviour:` section.")],
    json_output: JsonFlag = False,
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.")] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Event store (default: MENTORFLOW_DATABASE_URL or embedded).")
    ] = None,
) -> None:
    """Dry-run a programme in virtual time with simulated people; see every reminder and escalation.

    Every notification is really sent: to the SMTP relay if MENTORFLOW_SMTP_HOST is set, else to
    the embedded mail server, which files it in the Maildir MENTORFLOW_DATA_DIR/mail. The same seed
    gives the same results. Dates in the past are fine: the calendar is shifted to
    the virtual clock and reported back in the scenario's own dates.
    """
    from mentorflow.programme_files import ProgrammeFileError, load_programme
    from mentorflow.simulate import simulate as run_simulation
    from worker import database_url as default_database_url
    from worker import mail_config

    settings = Settings()
    configure_logging("WARNING", settings.log_format)
    logging.getLogger("temporalio.core").setLevel(logging.ERROR)
    try:
        load_programme(scenario)  # refuse a bad file before starting any server
        url = database_url or default_database_url(settings)
        mail, server = mail_config(settings)
        try:
            with _progress(disabled=json_output or not sys.stdout.isatty()) as update:
                report = asyncio.run(run_simulation(scenario, seed, url, update, mail))
        finally:
            if server:
                server.stop()
    except (ProgrammeFileError, embedded.StackError) as e:
        fail(str(e))
    if json_output:
        print(report.model_dump_json(indent=2))
        return
    from mentorflow.simulation_view import show_simulation

    show_simulation(report, Console())


@app.command()
def migrate() -> None:
    """Apply the event store's migrations (as the database's owner) and exit.

    For deployments whose workers log in as a `mentorflow_writer` member with
    MENTORFLOW_MIGRATE=false (see README, Operations).
    """
    import asyncpg

    from store.migrate import migrate as apply
    from store.pool import create_pool
    from worker import database_url

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format, temporal_core=False)

    async def go() -> list[int]:
        pool = await create_pool(database_url(settings))
        try:
            return await apply(pool)
        finally:
            await pool.close()

    try:
        applied = asyncio.run(go())
    except (embedded.StackError, OSError, asyncpg.PostgresError) as e:
        fail(f"migration failed: {e}")
    print(f"applied migrations {applied}" if applied else "the schema is current")


@app.command()
def dev(
    port: Annotated[int, typer.Option(help="Temporal's port.")] = 7233,
    ui_port: Annotated[int, typer.Option(help="The Web UI's port.")] = 8233,
) -> None:
    """Run everything locally in real time: PostgreSQL, Temporal with its Web UI, mail, a worker.

    State lives under MENTORFLOW_DATA_DIR (default ./.mentorflow): the event store, Temporal's
    SQLite file (a restart finds the running workflows) and the Maildir of every message sent.
    Prints the addresses; Ctrl-C stops everything cleanly.
    """
    from mentorflow.dev import run_dev

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        asyncio.run(run_dev(settings, port, ui_port, say))
    except (embedded.StackError, OSError) as e:
        fail(str(e) or type(e).__name__)


@app.command()
def worker() -> None:
    """Serve the Mentorflow task queue (same as `python worker.py`).

    Connects to TEMPORAL_ADDRESS (default localhost:7233) and MENTORFLOW_DATABASE_URL (default:
    the embedded PostgreSQL under MENTORFLOW_DATA_DIR).
    """
    import worker as composition_root

    try:
        composition_root.main()
    except KeyboardInterrupt:
        pass
    except (embedded.StackError, OSError) as e:
        fail(str(e) or type(e).__name__)


programme_app = typer.Typer(no_args_is_help=True, help="Programme files and programmes.")
app.add_typer(programme_app, name="programme")


@programme_app.command("schema")
def programme_schema() -> None:
    """Print the JSON Schema of programme files (also in docs/programme.schema.json)."""
    from domain.programme import ProgrammeFile

    print(json.dumps(ProgrammeFile.model_json_schema(), indent=2))


@programme_app.command("check")
def programme_check(
    file: ProgrammeFileArg,
    participants: ParticipantsOption = None,
    json_output: JsonFlag = False,
) -> None:
    """Validate a programme file (and a participant CSV) without starting anything."""
    from domain.model import Role
    from mentorflow.programme_files import ProgrammeFileError, load_programme

    try:
        loaded = load_programme(file, participants)
    except ProgrammeFileError as e:
        fail(str(e))
    mentors = [p for p in loaded.participants if p.role == Role.MENTOR]
    summary = {
        "programme": loaded.programme.id,
        "starts_on": loaded.programme.starts_on.isoformat(),
        "ends_on": loaded.programme.ends_on.isoformat(),
        "mentors": len(mentors),
        "trained_mentors": sum(p.trained_on is not None for p in mentors),
        "mentees": len(loaded.participants) - len(mentors),
    }
    if json_output:
        print(json.dumps(summary))
    else:
        print(", ".join(f"{k}: {v}" for k, v in summary.items()) + " - OK")


_client_used = False
"""Set once a command has connected to Temporal (see ``main``)."""


def _run(make: "Callable[[Client], Awaitable[T]]") -> T:
    """Connect, run one request, turn known refusals into the one-line error."""
    global _client_used
    _client_used = True
    from mentorflow.programme_files import ProgrammeFileError
    from mentorflow.programmes import ProgrammeError

    settings = Settings()
    configure_logging("WARNING", settings.log_format, temporal_core=False)
    address = settings.temporal_address or "localhost:7233"

    async def go() -> T:
        client = await embedded.connect(address, settings.temporal_namespace)
        return await make(client)

    try:
        return asyncio.run(go())
    except (ProgrammeError, ProgrammeFileError, embedded.StackError) as e:
        fail(str(e))


@programme_app.command("start")
def programme_start(
    file: ProgrammeFileArg,
    participants: ParticipantsOption = None,
    json_output: JsonFlag = False,
) -> None:
    """Start a programme for real (dates in the future) on the configured Temporal server.

    Needs a running worker (`mentorflow worker`); TEMPORAL_ADDRESS defaults to localhost:7233.
    Names and addresses go to the database (MENTORFLOW_DATABASE_URL), never to Temporal.
    """
    from mentorflow import programmes
    from mentorflow.programme_files import ProgrammeFileError
    from worker import database_url, open_database

    try:
        prepared = programmes.prepare(file, participants)
    except (ProgrammeFileError, programmes.ProgrammeError) as e:
        fail(str(e))

    async def start(client: "Client") -> str:
        # The contacts go to the event store's database, where the worker's deliveries read them.
        pool = await open_database(database_url(Settings()))
        try:
            return await programmes.start(client, pool, prepared)
        finally:
            await pool.close()

    wid = _run(start)
    print(json.dumps({"workflow_id": wid}) if json_output else f"started {wid}")


@programme_app.command("status")
def programme_status(
    programme_id: Annotated[str, typer.Argument(help="The programme's id.")],
    json_output: JsonFlag = False,
) -> None:
    """Show a programme's phase, its matching proposal, its groups and, at the end, its report."""
    from mentorflow import programmes

    result = _run(lambda client: programmes.status(client, programme_id))
    if json_output:
        print(result.model_dump_json(indent=2))
        return
    print(f"{result.programme_id}: {result.phase}, {result.participants} participants")
    if result.excluded:
        print(f"  not trained in time (not matched): {', '.join(result.excluded)}")
    if result.proposal:
        print(
            f"  proposal: {len(result.proposal['groups'])} groups, score {result.proposal['score']}"
        )
        for g in result.proposal["groups"]:
            mentors, mentees = ", ".join(g["mentors"]), ", ".join(g["mentees"])
            print(f"    {g['number']}: mentors {mentors}; mentees {mentees}")
        for u in result.proposal["unmatched"]:
            print(f"    unmatched {u['person_id']}: {u['reason']}")
    if result.approval_due and result.phase == "approval":
        print(f"  waiting for approval, due {result.approval_due:%Y-%m-%d %H:%M %Z}")
    for g in result.groups:
        print(f"  group {g['relationship_id']}: {g['outcome'] or 'running'}")
    if result.report:
        print(f"  report: {json.dumps(result.report)}")


@programme_app.command("approve-matching")
def programme_approve_matching(
    programme_id: Annotated[str, typer.Argument(help="The programme's id.")],
    reason: Annotated[str | None, typer.Option(help="Why, for the record.")] = None,
    groups_file: Annotated[
        Path | None,
        typer.Option(
            "--groups",
            help="An edited assignment instead of the proposal: a YAML list of"
            " `{mentors: [...], mentees: [...]}`; checked against every hard rule.",
        ),
    ] = None,
) -> None:
    """Approve the proposed matching (or an edited one); the groups start at once."""
    from mentorflow import programmes

    try:
        edited = programmes.load_groups(groups_file) if groups_file else None
    except programmes.ProgrammeError as e:
        fail(str(e))
    groups = _run(lambda client: programmes.approve_matching(client, programme_id, reason, edited))
    print(f"approved: {groups} groups of {programme_id} are starting")


class _progress:
    """A rich progress bar over the simulated year, or nothing when output is not a terminal."""

    def __init__(self, disabled: bool):
        self._bar = Progress(
            TextColumn("[bold]virtual time"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            disable=disabled,
            console=err,
        )
        self._task = self._bar.add_task("starting", total=1.0)

    def __enter__(self):  # type: ignore[no-untyped-def]
        self._bar.__enter__()
        return self.update

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(None, None, None)

    def update(self, fraction: float, label: str) -> None:
        self._bar.update(self._task, completed=fraction, description=label)


def main() -> None:
    try:
        app()
    except SystemExit as e:
        if not _client_used:
            raise
        # A client command is done and has printed; skip the interpreter's shutdown. Threads of
        # the Temporal core can still complete a request then and call into a finalising
        # interpreter, which aborts the process (SIGABRT) after a correct answer.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(e.code if isinstance(e.code, int) else (0 if e.code is None else 1))
