"""``mentorflow staff key``: API keys of machine clients, one role on one programme each."""

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import asyncpg
import typer

from mentorflow.cli_common import JsonFlag, print_rows, with_database
from store.api_keys import ApiKey, ApiKeys
from store.staff import Role, StaffError

T = TypeVar("T")
KeyIdArg = Annotated[str, typer.Argument(metavar="KEY_ID", help="The id `staff key list` shows.")]
NO_KEYS = "no API keys yet: mentorflow staff key create --programme ID --role auditor"

key_app = typer.Typer(
    no_args_is_help=True,
    help="API keys of machine clients: a role (coordinator or auditor) on one programme.",
)


def with_staff_tables(use: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    """Run ``use(pool)`` on the staff and API key tables; their refusals fail with one line."""
    refused = "the database refused the change"
    return with_database(lambda pool, _: use(pool), (StaffError, OSError), refused)


def _as_json(key: ApiKey) -> dict[str, object]:
    return {
        "key_id": key.key_id,
        "programme": key.programme_id,
        "role": str(key.role),
        "name": key.name,
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


def _line(key: ApiKey) -> str:
    state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M} UTC" if key.revoked_at else "active"
    label = f"  {key.name!r}" if key.name else ""
    return f"{key.key_id}  {key.role}  ({key.programme_id}){label}  {state}"


@key_app.command("create")
def create(
    programme: Annotated[
        str, typer.Option("--programme", metavar="ID", help="The one programme the key acts on.")
    ],
    role: Annotated[Role, typer.Option("--role", help="coordinator or auditor.")],
    name: Annotated[
        str, typer.Option("--name", metavar="LABEL", help="What the key is for (a label).")
    ] = "",
    json_output: JsonFlag = False,
) -> None:
    """Make a key and print it once (only its hash is kept): send it as
    ``Authorization: Bearer KEY`` to /api/v1."""
    key, secret = with_staff_tables(
        lambda p: ApiKeys(p).create(programme.strip(), role, name.strip())
    )
    if json_output:
        print(json.dumps({**_as_json(key), "key": secret}))
        return
    print(f"created {_line(key)}")
    print(f"key (shown this once): {secret}")


@key_app.command("list")
def list_(json_output: JsonFlag = False) -> None:
    """Every key (never the key itself): id, role, programme, label, active or revoked."""
    print_rows(with_staff_tables(lambda p: ApiKeys(p).all()), json_output, _as_json, _line, NO_KEYS)


@key_app.command("revoke")
def revoke(key_id: KeyIdArg) -> None:
    """Revoke a key: every request carrying it is refused from now on."""
    key = with_staff_tables(lambda p: ApiKeys(p).revoke(key_id))
    print(f"revoked {_line(key)}")
