"""``mentorflow privacy``: the data protection officer's commands (erase, export)."""

import asyncio
import getpass
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import asyncpg
import typer

from mentorflow import embedded
from mentorflow.cli_common import JsonFlag, fail
from mentorflow.codec import CodecError
from mentorflow.log_setup import configure_logging
from mentorflow.settings import Settings

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


def _run(use: "Callable[[asyncpg.Pool, Settings], Awaitable[T]]") -> T:
    from mentorflow.privacy import PrivacyError
    from mentorflow.runtime import database_url, open_database
    from store.sealing import SealingError

    settings = Settings()
    configure_logging("WARNING", settings.log_format)

    async def go() -> T:
        pool = await open_database(database_url(settings), settings.migrate)
        try:
            return await use(pool, settings)
        finally:
            await pool.close()

    try:
        return asyncio.run(go())
    except (PrivacyError, SealingError, CodecError, embedded.StackError) as e:
        fail(str(e))
    except asyncpg.PostgresError as e:
        fail(f"the database refused the request: {e}")


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
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who erases, as recorded (default: operator:<login name>)."),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Erase PERSON's personal data: their data key (every text they wrote then reads
    "[erased]"), their name and address in every programme; records who erased, when and why.
    The event log, its hash chains and the workflow histories stay as they are and verify."""
    from mentorflow.privacy import erase
    from store.sealing import Sealer

    actor = by or f"operator:{getpass.getuser()}"
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
    """Everything held about PERSON (GDPR art. 15) across programmes: directory entries, the
    events they did or are named in with their own texts opened, and the messages sent them."""
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
    print(f"{len(result.events)} event(s):")
    for e in result.events:
        payload = json.dumps(e["payload"], ensure_ascii=False, default=str)
        print(f"  {e['occurred_at']:%Y-%m-%d %H:%M} {e['stream_id']} {e['type']} by {e['actor']}")
        print(f"    {payload}")
    print(f"{len(result.deliveries)} message(s) addressed to them")
