"""``mentorflow staff``: who may sign in to the web app as coordinator, auditor or admin."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import asyncpg
import typer
from email_validator import EmailNotValidError, validate_email

from mentorflow import embedded
from mentorflow.cli_common import JsonFlag, fail
from mentorflow.log_setup import configure_logging
from mentorflow.settings import Settings
from mentorflow.staff_keys_cli import key_app
from store.staff import Role, StaffError, StaffMember, StaffRegister

T = TypeVar("T")

staff_app = typer.Typer(
    no_args_is_help=True,
    help="Staff of the web app: coordinators (of their programmes), auditors, admins.",
)


def _with_register(use: Callable[[StaffRegister], Awaitable[T]]) -> T:
    from mentorflow.runtime import database_url, open_database

    settings = Settings()
    configure_logging("WARNING", settings.log_format)

    async def go() -> T:
        pool = await open_database(database_url(settings), settings.migrate)
        try:
            return await use(StaffRegister(pool))
        finally:
            await pool.close()

    try:
        return asyncio.run(go())
    except (StaffError, embedded.StackError, OSError) as e:
        fail(str(e))
    except asyncpg.PostgresError as e:
        fail(f"the database refused the change: {e}")


def _address(value: str) -> str:
    try:
        return str(validate_email(value.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as e:
        fail(f"{value!r} is not an e-mail address: {e}")


def _as_json(member: StaffMember) -> dict[str, object]:
    return {
        "staff_id": member.staff_id,
        "email": member.email,
        "role": str(member.role),
        "programmes": list(member.programmes),
    }


def _line(member: StaffMember) -> str:
    scope = ", ".join(member.programmes) if member.programmes else "every programme"
    return f"{member.email}  {member.role}  ({scope})  id {member.staff_id}"


@staff_app.command("add")
def add(
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="The address sign-in links go to.")],
    role: Annotated[Role, typer.Option("--role", help="coordinator, auditor or admin.")],
    programmes: Annotated[
        list[str] | None,
        typer.Option(
            "--programme", metavar="ID", help="A programme a coordinator runs (repeat for more)."
        ),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Add a staff member (or change the role and programmes of an existing one)."""
    address = _address(email)
    member = _with_register(lambda r: r.add(address, role, programmes or []))
    print(json.dumps(_as_json(member)) if json_output else f"added {_line(member)}")


@staff_app.command("list")
def list_(json_output: JsonFlag = False) -> None:
    """Every staff member, their role and programmes."""
    members = _with_register(lambda r: r.all())
    if json_output:
        print(json.dumps([_as_json(m) for m in members]))
        return
    for member in members:
        print(_line(member))
    if not members:
        print("no staff yet: mentorflow staff add EMAIL --role admin")


@staff_app.command("remove")
def remove(
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="The staff member's address.")],
) -> None:
    """Remove a staff member: their sessions end at their next request."""
    member = _with_register(lambda r: r.remove(email.strip()))
    print(f"removed {_line(member)}")


staff_app.add_typer(key_app, name="key")
