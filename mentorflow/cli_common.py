"""What every command group of the CLI shares: the one-line failure, common options, and a
database opened for one command."""

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, NoReturn, TypeVar

import asyncpg
import typer
from typer.core import TyperArgument, TyperOption

from mentorflow import embedded
from mentorflow.log_setup import configure_logging
from mentorflow.settings import Settings

T = TypeVar("T")
R = TypeVar("R")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as JSON (for machines).")]


def fail(message: str) -> NoReturn:
    """The one-line reason on stderr, exit code 1."""
    print(f"mentorflow: {' '.join(message.split())}", file=sys.stderr)
    raise typer.Exit(1)


def print_rows(
    rows: Sequence[R],
    json_output: bool,
    as_json: Callable[[R], object],
    line: Callable[[R], str],
    none: str,
) -> None:
    """Every row: as one JSON list, or a line each (``none`` when there are no rows)."""
    if json_output:
        print(json.dumps([as_json(row) for row in rows]))
        return
    for row in rows:
        print(line(row))
    if not rows:
        print(none)


def with_database(
    use: Callable[[asyncpg.Pool, Settings], Awaitable[T]],
    errors: tuple[type[Exception], ...],
    refused: str = "the database refused the request",
) -> T:
    """Open the configured database (migrated when the settings allow), run ``use(pool,
    settings)`` and close it; ``errors`` and the stack's fail with their own line, the database's
    refusals as ``refused: ...``."""
    from mentorflow.database import database_url, open_database

    settings = Settings()
    configure_logging("WARNING", settings.log_format)
    known: tuple[type[Exception], ...] = (*errors, embedded.StackError)

    async def go() -> T:
        pool = await open_database(database_url(settings), settings.migrate)
        try:
            return await use(pool, settings)
        finally:
            await pool.close()

    try:
        return asyncio.run(go())
    except known as e:
        fail(str(e))
    except asyncpg.PostgresError as e:
        fail(f"{refused}: {e}")


def _argument_name(self: TyperArgument) -> str:
    return str(self.metavar or (self.name or "").upper())


def _usage_name(self: TyperArgument) -> str:
    name = _argument_name(self) if self.required else f"[{_argument_name(self)}]"
    return name + ("..." if self.nargs != 1 else "")


def _flag_type(self: TyperOption, ctx: typer.Context) -> str | None:
    if self.is_flag:
        return None
    return _option_type(self, ctx)


# Readable --help: typer writes a required argument as `{file}` in the usage line and `<bool>`
# after every flag; people read `FILE`, and a flag takes no value to describe.
_option_type = TyperOption.display_type_rich
TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]
TyperArgument.display_name_raw = property(_argument_name)  # type: ignore[assignment,method-assign]
TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign,assignment]
