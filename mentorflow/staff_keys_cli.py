"""``mentorflow staff key``: API keys of machine clients, one role on one programme each."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import asyncpg
import typer

from mentorflow import embedded
from mentorflow.cli_common import JsonFlag, fail
from mentorflow.log_setup import configure_logging
from mentorflow.settings import Settings
from store.api_keys import ApiKey, ApiKeys
from store.staff import Role, StaffError

T = TypeVar("T")

key_app = typer.Typer(
    no_args_is_help=True,
    help="API keys of machine clients: a role (coordinator or auditor) on one programme.",
)


def _with_keys(use: Callable[[ApiKeys], Awaitable[T]]) -> T:
    from mentorflow.runtime import database_url, open_database

    settings = Settings()
    configure_logging("WARNING", settings.log_format)

    async def go() -> T:
        pool = await open_database(database_url(settings), settings.migrate)
        try:
            return await use(ApiKeys(pool))
        finally:
            await pool.close()

    try:
        return asyncio.run(go())
    except (StaffError, embedded.StackError, OSError) as e:
        fail(str(e))
    except asyncpg.PostgresError as e:
        fail(f"the database refused the change: {e}")


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
    key, secret = _with_keys(lambda k: k.create(programme.strip(), role, name.strip()))
    if json_output:
        print(json.dumps({**_as_json(key), "key": secret}))
        return
    print(f"created {_line(key)}")
    print(f"key (shown this once): {secret}")


@key_app.command("list")
def list_(json_output: JsonFlag = False) -> None:
    """Every key (never the key itself): id, role, programme, label, active or revoked."""
    keys = _with_keys(lambda k: k.all())
    if json_output:
        print(json.dumps([_as_json(k) for k in keys]))
        return
    for key in keys:
        print(_line(key))
    if not keys:
        print("no API keys yet: mentorflow staff key create --programme ID --role auditor")


@key_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="The id `staff key list` shows.")],
) -> None:
    """Revoke a key: every request carrying it is refused from now on."""
    key = _with_keys(lambda k: k.revoke(key_id))
    print(f"revoked {_line(key)}")
