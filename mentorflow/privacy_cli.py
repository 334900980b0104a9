"""``mentorflow privacy``: the data protection officer's commands (erase, export)."""

import asyncio
import dataclasses
import getpass
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import asyncpg
import typer

from mentorflow import embedded
from mentorflow.cli_common import JsonFlag, fail, with_database
from mentorflow.codec import CodecError
from mentorflow.log_setup import configure_logging
from mentorflow.settings import Settings

if TYPE_CHECKING:
    from mentorflow.retention import Installed

privacy_app = typer.Typer(
    no_args_is_help=True,
    help="Personal data: erase a person (their texts become unreadable, the record stays"
    " verifiable) or export everything held about them. Uses MENTORFLOW_DATABASE_URL (or the"
    " embedded store) and the master keys (MENTORFLOW_MASTER_KEYS or DATA_DIR/master-keys).",
)

PersonArg = Annotated[
    str, typer.Argument(metavar="PERSON", help="The person's id (as in the programme file).")
]
T = TypeVar("T")


def _recorded_by(verb: str) -> object:
    """The --by option: who ``verb``, as the record names them."""
    return typer.Option("--by", help=f"Who {verb}, as recorded (default: operator:<login name>).")


ErasedBy = Annotated[str | None, _recorded_by("erases")]
GrantedBy = Annotated[str | None, _recorded_by("grants")]
DryRunFlag = Annotated[
    bool, typer.Option("--dry-run", help="List who would be erased today, and who is kept.")
]
InstallFlag = Annotated[
    bool,
    typer.Option(
        "--install",
        help="Create the daily Temporal Schedule (03:00 Europe/Helsinki) unless it exists"
        " (workers do this at start too). Uses TEMPORAL_ADDRESS.",
    ),
]


def _actor(by: str | None) -> str:
    """Who acts, as recorded: as given, or the operator's login name."""
    return by or f"operator:{getpass.getuser()}"


def _run(use: "Callable[[asyncpg.Pool, Settings], Awaitable[T]]") -> T:
    from mentorflow.privacy import PrivacyError
    from store.sealing import SealingError

    return with_database(use, (PrivacyError, SealingError, CodecError))


@privacy_app.command("erase")
def erase_command(
    person: PersonArg,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="Why (kept in the record, in clear: e.g. 'request of 2026-12-01, ticket 42';"
            " no personal data).",
        ),
    ],
    by: ErasedBy = None,
    json_output: JsonFlag = False,
) -> None:
    """Erase PERSON's personal data: their data key (every text they wrote then reads
    "[erased]"), their name and address in every programme; records who erased, when and why.
    The event log, its hash chains and the workflow histories stay as they are and verify."""
    from mentorflow.privacy import erase
    from store.sealing import Sealer

    actor = _actor(by)
    result = _run(lambda pool, s: erase(pool, Sealer(pool, s.master()), person, actor, reason))
    if json_output:
        print(result.model_dump_json())
        return
    print(
        f"erased {person}: data key deleted, {result.directory_rows} directory row(s) deleted;"
        f" recorded at position {result.event_position} by {result.erased_by}"
    )


@privacy_app.command("export")
def export_command(person: PersonArg, json_output: JsonFlag = False) -> None:
    """Everything held about PERSON (GDPR art. 15) across programmes: directory entries, their
    profiles, the events they did or are named in with their own texts opened, and the messages
    sent them."""
    from mentorflow.privacy import export
    from store.sealing import Sealer

    result = _run(lambda pool, s: export(pool, Sealer(pool, s.master()), person))
    if json_output:
        print(result.model_dump_json(indent=2))
        return
    print(f"person {result.person_id}")
    for row in result.directory:
        print(f"  programme {row['programme_id']}: {row['name']} <{row['email']}>, {row['locale']}")
    if not result.directory:
        print("  no directory entry")
    if result.data_key and result.data_key["erased_at"]:
        print(f"  personal data erased on {result.data_key['erased_at']:%Y-%m-%d %H:%M} UTC")
    print(f"{len(result.profiles)} profile(s) (what the programmes know of them, no name):")
    for held in result.profiles:
        profile = json.dumps(held["profile"], ensure_ascii=False, default=str)
        print(f"  programme {held['programme_id']} ({held['source']}): {profile}")
    print(f"{len(result.events)} event(s):")
    for e in result.events:
        payload = json.dumps(e["payload"], ensure_ascii=False, default=str)
        print(f"  {e['occurred_at']:%Y-%m-%d %H:%M} {e['stream_id']} {e['type']} by {e['actor']}")
        print(f"    {payload}")
    print(f"{len(result.deliveries)} message(s) addressed to them")


@privacy_app.command("grant")
def grant_command(
    auditor: Annotated[
        str, typer.Option("--auditor", metavar="EMAIL", help="The auditor's (or admin's) address.")
    ],
    relationship: Annotated[
        str,
        typer.Option("--relationship", metavar="ID", help="The relationship (pilot:1)."),
    ],
    reason: Annotated[
        str,
        typer.Option(
            "--reason", help="Why (kept in the record, in clear: e.g. 'complaint 42'; no names)."
        ),
    ],
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            metavar="DATE",
            help="The last day (YYYY-MM-DD, in the programme's zone) the grant covers.",
        ),
    ] = None,
    by: GrantedBy = None,
    json_output: JsonFlag = False,
) -> None:
    """Let an auditor read one relationship's texts on the auditor's pages, exports and API:
    records who granted, to whom (their staff id), for which relationship, why and until when.
    Without a grant, auditors see every text [sealed]."""
    from datetime import UTC, date, datetime

    from mentorflow.grants import grant

    try:
        last_day = None if until is None else date.fromisoformat(until)
    except ValueError:
        fail(f"--until: {until!r} is not a date like 2026-12-31")
    actor = _actor(by)
    result = _run(
        lambda pool, s: grant(
            pool, auditor, relationship, actor, reason, last_day, datetime.now(UTC)
        )
    )
    if json_output:
        print(result.model_dump_json())
        return
    ends = f"until {result.until} (programme's zone)" if result.until else "with no end"
    print(
        f"granted staff member {result.staff_id} the texts of {result.relationship_id} {ends};"
        f" recorded by {result.granted_by}"
    )


@privacy_app.command("retention")
def retention_command(
    dry_run: DryRunFlag = False,
    install: InstallFlag = False,
    json_output: JsonFlag = False,
) -> None:
    """Personal data of a closed programme is erased after its retention.personal_data (default
    P2Y), by a daily Temporal Schedule, as by `privacy erase` (recorded by system:retention)."""
    from datetime import UTC, datetime

    if dry_run == install:
        fail("give one of --dry-run or --install")
    if dry_run:
        from mentorflow.retention import dry_run as planned

        plan = _run(lambda pool, s: planned(pool, datetime.now(UTC)))
        if json_output:
            print(plan.model_dump_json(indent=2))
            return
        for order in plan.erase:
            print(f"would erase {order.person_id}: {order.reason}")
        for kept in plan.kept:
            print(f"would keep {kept.person_id}: {kept.why}")
        if not plan.erase and not plan.kept:
            print("no programme is past its retention")
        return
    installed = _installed()
    if json_output:
        print(json.dumps(dataclasses.asdict(installed), default=str))
        return
    state = "created" if installed.created else "already installed"
    following = installed.next_runs[0].isoformat() if installed.next_runs else "none"
    print(f"schedule {installed.schedule_id} {state}; next run {following}")


def _installed() -> "Installed":
    from mentorflow.retention import install

    settings = Settings()
    configure_logging("WARNING", settings.log_format)

    async def go() -> "Installed":
        converter = embedded.converter(settings)
        client = await embedded.connect(
            settings.temporal_address, settings.temporal_namespace, converter
        )
        return await install(client)

    try:
        return asyncio.run(go())
    except (CodecError, embedded.StackError) as e:
        fail(str(e))
    except RuntimeError as e:
        fail(f"Temporal at {settings.temporal_address} refused: {e}")
