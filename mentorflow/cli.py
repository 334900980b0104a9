"""The ``mentorflow`` command: one entry point for people (rich output) and machines (--json).

Exit code 0 on success; on failure, non-zero with a one-line reason on stderr.
"""

import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from enum import StrEnum
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
from mentorflow.privacy_cli import privacy_app
from mentorflow.settings import Settings
from mentorflow.staff_cli import staff_app
from mentorflow.telemetry import configure_telemetry

if TYPE_CHECKING:
    import asyncpg
    from temporalio.client import Client

    from activities.mail.smtp import SmtpConfig
    from domain.matching import GroupAssignment
    from domain.programme.model import Participant
    from mentorflow.hr_import.sync import Applied, SyncPlan
    from mentorflow.mail_server import MailSink
    from mentorflow.simulate import SimulationReport

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
app.add_typer(staff_app, name="staff")
app.add_typer(privacy_app, name="privacy")


def _file_option(flag: str, help: str) -> object:
    """An option that names a file (FILE in --help)."""
    return typer.Option(flag, help=help, metavar="FILE")


ProgrammeFileArg = Annotated[Path, typer.Argument(help="The programme file (YAML).")]
DryRunDatabase = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Event store to record the dry run in (default: its own embedded PostgreSQL under"
        " MENTORFLOW_DATA_DIR, never MENTORFLOW_DATABASE_URL).",
    ),
]
SendMail = Annotated[
    bool,
    typer.Option(
        "--send-mail",
        help="Send the dry run's messages through the configured SMTP relay"
        " (MENTORFLOW_SMTP_HOST) instead of the built-in mail sink.",
    ),
]
ParticipantsOption = Annotated[
    Path | None, _file_option("--participants", "Participants from an HR export (CSV or .xlsx).")
]
ColumnsOption = Annotated[
    Path | None,
    _file_option(
        "--columns",
        "Which export column is which field (a `columns:` section); overrides the programme"
        " file's.",
    ),
]
SheetOption = Annotated[
    str | None,
    typer.Option(
        "--sheet", help="The workbook's sheet to read (default: the first).", metavar="NAME"
    ),
]


@app.command()
def demo(
    json_output: JsonFlag = False,
    database_url: DryRunDatabase = None,
    send_mail: SendMail = False,
) -> None:
    """Run a 40-person programme year end to end on the embedded stack, in virtual time.

    Starts its own PostgreSQL (under MENTORFLOW_DATA_DIR, default ./.mentorflow) unless
    --database-url says otherwise, a time-skipping Temporal test server and the built-in mail
    sink (unless --send-mail); simulated people act through the same Updates real people use.
    Prints the groups, one group's timeline read back from the event store, and the auditor's
    checks.
    """
    import asyncpg

    from mentorflow.demo import run_demo
    from mentorflow.demo_view import show_report

    settings = Settings()
    configure_logging("WARNING", settings.log_format)
    configure_telemetry()
    # The test server lacks a capability only real clusters need; its start-up warning is noise.
    logging.getLogger("temporalio.core").setLevel(logging.ERROR)
    try:
        url, (mail, server) = _dry_run_stack(settings, database_url, send_mail)
        try:
            with _progress(disabled=json_output or not sys.stdout.isatty()) as update:
                maildir = server.maildir if server else None
                migrate = settings.migrate or database_url is None
                run = run_demo(url, update, mail, maildir, migrate, settings.master())
                report = asyncio.run(run)
        finally:
            if server:
                server.stop()
    except embedded.StackError as e:
        fail(str(e))
    except asyncpg.PostgresError as e:
        fail(f"the database refused the request: {e}")
    if json_output:
        print(report.model_dump_json(indent=2))
    else:
        show_report(report, Console())
    if not report.simulation.checks["fold_matches_workflows"]:
        fail("the state folded from the stored events differs from a workflow's state")
    if not report.simulation.checks["hash_chains_verified"]:
        fail("the event log's hash chains do not verify: run `mentorflow audit verify --all`")


def _dry_run_stack(
    settings: Settings, database_url: str | None, send_mail: bool
) -> "tuple[str, tuple[SmtpConfig, MailSink | None]]":
    """A dry run's database and mail: its own, unless the options say otherwise explicitly.

    A dry run of the real programme file must not mail real employees a year of messages, nor
    leave its programmes in the real hash-chained log.
    """
    from mentorflow.runtime import mail_config

    url = database_url or embedded.start_postgres(settings.data_dir)
    if not send_mail:
        settings = settings.model_copy(update={"smtp_host": None})
    elif settings.smtp() is None:
        fail("--send-mail needs a relay: set MENTORFLOW_SMTP_HOST")
    return url, mail_config(settings)


class Engine(StrEnum):
    """Which engine runs a simulation (``mentorflow simulate --engine``)."""

    FULL = "full"
    DOMAIN = "domain"


@app.command()
def simulate(
    scenario: Annotated[Path, typer.Argument(help="A programme file with a `behaviour:` section.")],
    json_output: JsonFlag = False,
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.")] = None,
    database_url: DryRunDatabase = None,
    send_mail: SendMail = False,
    engine: Annotated[
        Engine,
        typer.Option(
            help="full: the real workflows on Temporal, the event store and the mail sink."
            " domain: the same decisions stepped in one process, without Temporal, database or"
            " mail (for rehearsals at organisation scale; no mail is sent, so the report counts"
            " the messages owed, and checks only that the fold matches).",
            case_sensitive=False,
        ),
    ] = Engine.FULL,
) -> None:
    """Dry-run a programme in virtual time with simulated people; see every reminder and escalation.

    A dry run stays dry: every notification is written and sent to the built-in mail sink, which
    files it in the Maildir MENTORFLOW_DATA_DIR/mail (through the configured relay only with
    --send-mail), and the events go to the dry run's own embedded database (another only with
    --database-url), whatever MENTORFLOW_SMTP_HOST and MENTORFLOW_DATABASE_URL say. The same
    seed gives the same results. Dates in the past are fine: the calendar is shifted to the
    virtual clock and reported back in the scenario's own dates.

    --engine domain runs the same people and the same decisions without Temporal, a database
    or mail: a year of 10,000 people in 60-90 s on 2 cores. A test runs scenarios through both
    engines and requires the same events and report (see README, "Simulations").
    """
    import asyncpg

    from domain.calendar import calendar
    from domain.programme.commands import earliest_launch, group_calendar_problem
    from mentorflow.programme_files import ProgrammeFileError, load_programme
    from mentorflow.simulate import simulate as run_simulation

    settings = Settings()
    configure_logging("WARNING", settings.log_format)
    configure_telemetry()
    logging.getLogger("temporalio.core").setLevel(logging.ERROR)
    try:
        loaded = load_programme(scenario)  # refuse a bad file before starting any server
        cal = calendar(loaded.programme)
        problem = group_calendar_problem(loaded.programme, cal, earliest_launch(cal))
        if problem is not None:
            fail(f"{scenario}: {problem}")
        if engine == Engine.DOMAIN:
            if database_url is not None or send_mail:
                fail("--engine domain uses no database and sends no mail")
            report = _rehearse(scenario, seed, json_output)
            _show(report, json_output)
            return
        url, (mail, server) = _dry_run_stack(settings, database_url, send_mail)
        try:
            with _progress(disabled=json_output or not sys.stdout.isatty()) as update:
                # Its own database is always brought up to date; another only if allowed.
                migrate = settings.migrate or database_url is None
                run = run_simulation(scenario, seed, url, update, mail, migrate, settings.master())
                report = asyncio.run(run)
        finally:
            if server:
                server.stop()
    except (ProgrammeFileError, embedded.StackError) as e:
        fail(str(e))
    except asyncpg.PostgresError as e:
        fail(f"the database refused the request: {e}")
    _show(report, json_output)


def _rehearse(scenario: Path, seed: int | None, json_output: bool) -> "SimulationReport":
    from mentorflow.rehearsal import UnsupportedScenario, rehearse

    try:
        with _progress(disabled=json_output or not sys.stdout.isatty()) as update:
            return asyncio.run(rehearse(scenario, seed, update))
    except UnsupportedScenario as e:
        fail(f"{scenario}: {e}")


def _show(report: "SimulationReport", json_output: bool) -> None:
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

    from mentorflow.database import database_url
    from store.migrate import migrate as apply
    from store.pool import create_pool

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)

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
    configure_telemetry()

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
    from mentorflow.runtime import run

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    configure_telemetry(settings.temporal_metrics_port)
    try:
        asyncio.run(run(settings))
    except KeyboardInterrupt:
        pass
    except (embedded.StackError, OSError) as e:
        fail(str(e) or type(e).__name__)


@app.command()
def web() -> None:
    """Serve the web app for the people in programmes on MENTORFLOW_WEB_HOST:MENTORFLOW_WEB_PORT.

    A Temporal client (TEMPORAL_ADDRESS, default localhost:7233) and a reader of the event store
    (MENTORFLOW_DATABASE_URL, default the embedded PostgreSQL); sign-in links go out through
    MENTORFLOW_SMTP_HOST (default: the embedded Maildir server).
    """
    from pydantic import ValidationError

    from mentorflow.web.server import serve_web

    try:
        settings = Settings()
    except ValidationError as e:
        fail("; ".join(str(error["msg"]).removeprefix("Value error, ") for error in e.errors()))
    configure_logging(settings.log_level, settings.log_format)
    configure_telemetry()
    try:
        serve_web(settings)
    except KeyboardInterrupt:
        pass
    except (embedded.StackError, OSError) as e:
        fail(str(e) or type(e).__name__)


programme_app = typer.Typer(no_args_is_help=True, help="Programme files and programmes.")
app.add_typer(programme_app, name="programme")


@programme_app.command("schema")
def programme_schema() -> None:
    """Print the JSON Schema of programme files (also in docs/programme.schema.json)."""
    from mentorflow.programme_files import ProgrammeFile

    print(json.dumps(ProgrammeFile.model_json_schema(), indent=2))


@programme_app.command("move")
def programme_move(
    file: ProgrammeFileArg,
    starts_on: Annotated[
        str,
        typer.Option(
            "--starts-on",
            help="The new first day (YYYY-MM-DD, the programme's own date).",
            show_default=False,
        ),
    ],
    programme_id: Annotated[
        str | None,
        typer.Option("--id", help="A new programme id (a started programme keeps its id)."),
    ] = None,
    output: Annotated[
        Path | None,
        _file_option("--output", "Write the moved file here (default: print it)."),
    ] = None,
) -> None:
    """Move every date of a programme file by the same number of days, to start on a new day.

    The calendar, mentors' training dates and a simulation script all move together, so a past
    programme (like examples/palkeet-pilot.yaml) can be started for real or rehearsed again:

      mentorflow programme move examples/palkeet-pilot.yaml --starts-on 2027-01-11 --id pilot-2027
      --output pilot-2027.yaml

    The YAML's comments are not kept. Nothing is started.
    """
    from datetime import date

    import yaml

    from mentorflow.programme_files import ProgrammeFileError, moved

    try:
        day = date.fromisoformat(starts_on)
    except ValueError:
        fail(f"--starts-on {starts_on!r} is not a date in the form YYYY-MM-DD")
    try:
        data = moved(file, day, programme_id)
    except ProgrammeFileError as e:
        print("\n".join(f"{e.path}: {p}" for p in e.problems))  # all here, one on stderr
        fail(str(e))
    text = f"# {file.name} moved to start on {day} (mentorflow programme move)\n" + yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True
    )
    if output is None:
        print(text, end="")
    else:
        output.write_text(text, encoding="utf-8")
        programme = data["programme"]
        print(f"wrote {output}: {programme['id']} from {day} to {programme['ends_on']}")


@programme_app.command("check")
def programme_check(
    file: Annotated[
        Path | None, typer.Argument(help="The programme file (YAML).", show_default=False)
    ] = None,
    participants: ParticipantsOption = None,
    columns: ColumnsOption = None,
    sheet: SheetOption = None,
    export: Annotated[
        Path | None,
        _file_option("--export", "Also write the participants as understood to this CSV file."),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Validate a programme file and/or a participant export without starting anything.

    With --participants, shows what was understood of the export (format, columns, counts, the
    first rows) and every problem by row and column.
    """
    from mentorflow.programme_files import ProgrammeFileError

    if file is None and participants is None:
        fail("give a programme file, --participants FILE, or both")
    summary: dict[str, object] = {}
    try:
        if participants is not None:
            summary |= _check_export(participants, file, columns, sheet, export, json_output)
        if file is not None:
            summary = _check_programme(file, participants, columns, sheet) | summary
    except ProgrammeFileError as e:
        if not json_output:
            print("\n".join(f"{e.path}: {p}" for p in e.problems))
        fail(str(e))
    if json_output:
        print(json.dumps(summary))
    elif file is not None:
        keys = ("programme", "starts_on", "ends_on", "mentors", "trained_mentors", "mentees")
        print(", ".join(f"{k}: {summary[k]}" for k in keys) + " - OK")


def _check_export(
    participants: Path,
    file: Path | None,
    columns: Path | None,
    sheet: str | None,
    export: Path | None,
    json_output: bool,
) -> dict[str, object]:
    """Preview an export; fail (after showing every problem) when it has any."""
    from mentorflow.hr_import import preview
    from mentorflow.programme_files import check_participants

    found = check_participants(participants, file, columns, sheet)
    if json_output:
        if not found.ok:
            print(json.dumps(preview.as_json(found)))
    else:
        print("\n".join(preview.as_text(participants, found)))
    if not found.ok:
        fail(f"{participants}: {found.problems[0]}" + _more(len(found.problems)))
    if export is not None:
        with export.open("w", encoding="utf-8", newline="") as out:
            preview.export(found, out)
    return preview.as_json(found)


def _more(n: int) -> str:
    return f" (and {n - 1} more)" if n > 1 else ""


def _check_programme(
    file: Path, participants: Path | None, columns: Path | None, sheet: str | None
) -> dict[str, object]:
    from domain.calendar import calendar
    from domain.model import Role
    from domain.programme.commands import earliest_launch, group_calendar_problem
    from mentorflow.programme_files import load_programme

    loaded = load_programme(file, participants, columns, sheet)
    cal = calendar(loaded.programme)
    problem = group_calendar_problem(loaded.programme, cal, earliest_launch(cal))
    if problem is not None:
        fail(f"{file}: {problem}")
    mentors = [p for p in loaded.participants if p.role == Role.MENTOR]
    return {
        "programme": loaded.programme.id,
        "starts_on": loaded.programme.starts_on.isoformat(),
        "ends_on": loaded.programme.ends_on.isoformat(),
        "mentors": len(mentors),
        "trained_mentors": sum(p.trained_on is not None for p in mentors),
        "mentees": len(loaded.participants) - len(mentors),
    }


_client_used = False
"""Set once a command has connected to Temporal (see ``main``)."""


def _run(make: "Callable[[Client], Awaitable[T]]") -> T:
    """Connect, run one request, turn known refusals into the one-line error."""
    global _client_used
    _client_used = True
    import asyncpg

    from mentorflow.deployment import WrongStoreError
    from mentorflow.programme_files import ProgrammeFileError
    from mentorflow.programmes import ProgrammeError

    settings = Settings()
    configure_logging("WARNING", settings.log_format)
    address = settings.temporal_address

    async def go() -> T:
        client = await embedded.connect(
            address, settings.temporal_namespace, embedded.converter(settings)
        )
        return await make(client)

    try:
        return asyncio.run(go())
    except (
        ProgrammeError,
        ProgrammeFileError,
        embedded.StackError,
        WrongStoreError,
    ) as e:
        fail(str(e))
    except asyncpg.PostgresError as e:
        fail(f"the database refused the request: {e}")


def _require_store(settings: Settings) -> None:
    """Refuse before an embedded PostgreSQL is created where no worker keeps its store."""
    embedded_store = settings.data_dir / "postgres" / "PG_VERSION"
    if settings.database_url is None and not embedded_store.exists():
        fail(
            f"no event store in {settings.data_dir.resolve()}: run this where `mentorflow dev`"
            " runs, or set MENTORFLOW_DATA_DIR or MENTORFLOW_DATABASE_URL as the worker has them"
        )


class _WorkerStore:
    """The event store the worker uses, as this command opened it (``_with_worker_store``)."""

    def __init__(self, client: "Client", pool: "asyncpg.Pool", url: str):
        self.client, self.pool, self.url = client, pool, url

    async def check(self, worker_needed: bool = True) -> str:
        """The store's id, once the worker is known to use this same store (else
        ``WrongStoreError``): before anything is written where the worker reads it."""
        from mentorflow.deployment import check_same_store
        from workflows import TASK_QUEUE

        return await check_same_store(
            self.client, self.pool, TASK_QUEUE, self.url, worker_needed=worker_needed
        )


async def _with_worker_store(
    settings: Settings, client: "Client", use: "Callable[[_WorkerStore], Awaitable[T]]"
) -> T:
    """Open the event store the settings name, run ``use`` on it (which checks it is the
    worker's before it writes), close it."""
    from mentorflow.database import database_url, open_database

    url = database_url(settings)
    pool = await open_database(url, settings.migrate)
    try:
        return await use(_WorkerStore(client, pool, url))
    finally:
        await pool.close()


@programme_app.command("start")
def programme_start(
    file: ProgrammeFileArg,
    participants: ParticipantsOption = None,
    columns: ColumnsOption = None,
    sheet: SheetOption = None,
    json_output: JsonFlag = False,
) -> None:
    """Start a programme for real (dates in the future) on the configured Temporal server.

    Needs a running worker (`mentorflow worker`); TEMPORAL_ADDRESS defaults to localhost:7233.
    Names and addresses go to the database (MENTORFLOW_DATABASE_URL), never to Temporal.
    """
    from mentorflow import programmes
    from mentorflow.programme_files import ProgrammeFileError

    try:
        prepared = programmes.prepare(file, participants, columns=columns, sheet=sheet)
    except (ProgrammeFileError, programmes.ProgrammeError) as e:
        fail(str(e))

    settings = Settings()
    _require_store(settings)

    async def start(client: "Client") -> tuple[str, str, str]:
        # The contacts go to the event store's database, where the worker's deliveries read them:
        # only if the worker uses that same store.
        async def use(store: _WorkerStore) -> tuple[str, str, str]:
            store_id = await store.check()
            return await programmes.start(client, store.pool, prepared), store.url, store_id

        return await _with_worker_store(settings, client, use)

    from mentorflow.deployment import shown

    wid, url, store = _run(start)
    if json_output:
        print(json.dumps({"workflow_id": wid, "event_store": shown(url), "store_id": store}))
    else:
        print(f"started {wid}; event store {shown(url)} (store {store})")


NewExportOption = Annotated[
    Path, _file_option("--participants", "The new HR export (CSV or .xlsx).")
]
SyncColumnsOption = Annotated[
    Path | None,
    _file_option("--columns", "Which export column is which field (a `columns:` section)."),
]


@programme_app.command("sync")
def programme_sync(
    programme_id: Annotated[str, typer.Argument(help="The programme's id.")],
    participants: NewExportOption,
    columns: SyncColumnsOption = None,
    sheet: SheetOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the differences; change nothing.")
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """Bring a running programme in line with a new HR export.

    Shows who is new, gone and changed, then enrols, removes and updates them as the coordinator
    (reason "HR import"). People in a group who are gone from the export are listed for you to
    decide, never removed. Running it again with the same export changes nothing.
    """
    people = _read_export(participants, columns, sheet)
    settings = Settings()
    _require_store(settings)
    plan, applied = _run(lambda client: _sync(client, settings, programme_id, people, dry_run))
    _show_sync(plan, applied, dry_run, json_output)
    if applied is not None and applied.refused:
        pid, why = applied.refused[0]
        fail(f"{pid}: {why}" + _more(len(applied.refused)))


def _read_export(
    participants: Path, columns: Path | None, sheet: str | None
) -> "list[Participant]":
    from mentorflow.programme_files import ProgrammeFileError, load_columns, load_participants

    try:
        mapping = load_columns(columns) if columns is not None else None
        return load_participants(participants, mapping, sheet)
    except ProgrammeFileError as e:
        fail(str(e))


async def _sync(
    client: "Client",
    settings: Settings,
    programme_id: str,
    people: "list[Participant]",
    dry_run: bool,
) -> "tuple[SyncPlan, Applied | None]":
    """The differences from the running programme, and what applying them did (None when
    nothing was applied: a dry run, or nothing to do)."""
    from mentorflow.hr_import import sync
    from store.sealing import erased_people

    async def use(store: _WorkerStore) -> "tuple[SyncPlan, Applied | None]":
        state, contacts = await sync.load(client, store.pool, programme_id)
        erased = await erased_people(store.pool, [p.id for p in people])
        plan = sync.plan(state, contacts, people, erased)
        if dry_run or plan.empty:
            return plan, None
        # Contact details go to the directory the worker's deliveries read: only that one.
        await store.check()
        return plan, await sync.apply(client, store.pool, state, plan)

    return await _with_worker_store(settings, client, use)


def _show_sync(
    plan: "SyncPlan", applied: "Applied | None", dry_run: bool, json_output: bool
) -> None:
    if json_output:
        print(json.dumps({**plan.as_json(), "applied": applied.as_json() if applied else None}))
        return
    print("\n".join(plan.lines()))
    if applied is not None:
        print(
            f"applied: {len(applied.enrolled)} enrolled, {len(applied.removed)} removed,"
            f" {len(applied.updated)} updated, {len(applied.contacts)} contact details"
        )
        print("\n".join(f"refused: {pid}: {why}" for pid, why in applied.refused))
    elif dry_run and not plan.empty:
        print("dry run: nothing changed")


@programme_app.command("status")
def programme_status(
    programme_id: Annotated[str, typer.Argument(help="The programme's id.")],
    json_output: JsonFlag = False,
) -> None:
    """Show a programme's phase, dates ahead, proposal with names and why, groups, failed mail.

    Reads the names and the deliveries from the worker's event store (as `start` finds it).
    """
    from mentorflow import programmes

    settings = Settings()
    _require_store(settings)

    async def read(client: "Client") -> "programmes.ProgrammeStatus":
        async def use(store: _WorkerStore) -> "programmes.ProgrammeStatus":
            await store.check(worker_needed=False)
            return await programmes.status(client, programme_id, store.pool)

        return await _with_worker_store(settings, client, use)

    result = _run(read)
    if json_output:
        print(result.model_dump_json(indent=2))
        return
    for line in programmes.status_lines(result):
        print(line)


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
    groups = _run(lambda client: _approve(client, programme_id, reason, edited))
    print(f"approved: {groups} groups of {programme_id} are starting")


async def _approve(
    client: "Client",
    programme_id: str,
    reason: str | None,
    groups: "tuple[GroupAssignment, ...] | None",
) -> int:
    """Approve as the coordinator; a reason is sealed with their data key first (it is free
    text), in the event store the worker uses, so the event store is needed only then."""
    from pydantic import ValidationError

    from mentorflow import programmes
    from mentorflow.codec import CodecError
    from store.sealing import Sealer, SealingError

    if reason is None:
        return await programmes.approve_matching(client, programme_id, None, groups)
    settings = Settings()
    _require_store(settings)

    async def use(store: _WorkerStore) -> int:
        # The data key goes to the store the worker and the web app open texts from.
        await store.check()
        sealer = Sealer(store.pool, settings.master())
        return await programmes.approve_matching(client, programme_id, reason, groups, sealer)

    try:
        return await _with_worker_store(settings, client, use)
    except ValidationError as e:  # the reason itself: empty, too long, unstorable
        raise programmes.ProgrammeError(f"--reason: {e.errors()[0]['msg']}") from e
    except (SealingError, CodecError) as e:
        raise programmes.ProgrammeError(f"--reason cannot be sealed: {e}") from e


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
