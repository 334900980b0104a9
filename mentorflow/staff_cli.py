"""``mentorflow staff``: who may sign in to the web app as coordinator, auditor or admin."""

import json
from typing import Annotated

import typer
from email_validator import EmailNotValidError, validate_email

from mentorflow.cli_common import JsonFlag, fail, print_rows
from mentorflow.staff_keys_cli import key_app, with_staff_tables
from store.staff import Role, StaffMember, StaffRegister

staff_app = typer.Typer(
    no_args_is_help=True,
    help="Staff of the web app: coordinators (of their programmes), auditors, admins.",
)


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
    member = with_staff_tables(lambda p: StaffRegister(p).add(address, role, programmes or []))
    print(json.dumps(_as_json(member)) if json_output else f"added {_line(member)}")


@staff_app.command("list")
def list_(json_output: JsonFlag = False) -> None:
    """Every staff member, their role and programmes."""
    members = with_staff_tables(lambda p: StaffRegister(p).all())
    none = "no staff yet: mentorflow staff add EMAIL --role admin"
    print_rows(members, json_output, _as_json, _line, none)


@staff_app.command("remove")
def remove(
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="The staff member's address.")],
) -> None:
    """Remove a staff member: their sessions end at their next request."""
    member = with_staff_tables(lambda p: StaffRegister(p).remove(email.strip()))
    print(f"removed {_line(member)}")


staff_app.add_typer(key_app, name="key")
