"""Session-wide real servers: an embedded PostgreSQL and a time-skipping Temporal test server.

Each starts only when a test asks for it (``pool``, ``database_url``, ``store``; ``env``,
``dev_env``; ``mail``): pure tests (the domain's, the layers') run without any server.
"""

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from mentorflow import embedded
from mentorflow.codec import CodecKeys
from mentorflow.log_setup import configure_logging
from mentorflow.mail_server import MailServer
from mentorflow.telemetry import configure_telemetry
from store.event_store import EventStore
from store.migrate import migrate
from store.pool import create_pool
from tests.mail_relay import FaultyMailServer

configure_logging("INFO", "console")  # through stdlib logging, so pytest captures it per test
configure_telemetry()  # Temporal's core logs too

# One codec key for the session, as in one deployment: every client, worker and replayer made
# here, and every `mentorflow` command the tests start (they inherit the environment), share it.
os.environ["MENTORFLOW_CODEC_KEYS"] = CodecKeys.generate("test-session").render()
os.environ["MENTORFLOW_CODEC_KEY_ID"] = "test-session"
# Likewise one master key of sealing: people's data keys (one per person id, whatever the
# programme) are wrapped by it, and every test and command opens them with it.
os.environ["MENTORFLOW_MASTER_KEYS"] = CodecKeys.generate("test-master").render()
os.environ["MENTORFLOW_MASTER_KEY_ID"] = "test-master"


def private_dir(name: str) -> Path:
    """A directory outside pytest's tmp tree, whose permissions pytest resets at every start.

    The embedded PostgreSQL runs as its own system user and needs to traverse the path; a
    second pytest process chmod-ing /tmp/pytest-of-root to 0700 mid-run breaks it.
    """
    path = Path(tempfile.mkdtemp(prefix=f"mentorflow-test-{name}-"))
    _created.append(path)
    return path


_created: list[Path] = []


LONGEST_FIRST = (
    "tests/test_simulate.py",
    "tests/test_rehearsal.py",
    "tests/faults/test_delivery_kill.py",
    "tests/test_programme_payloads.py",
    "tests/test_readme.py",
    "tests/test_audit_commands.py",
    "tests/test_dev.py",
    "tests/test_privacy.py",
    "tests/test_staff_browser.py",
    "tests/test_notifications.py",
    "tests/test_worker_operations.py",
    "tests/test_relationship_workflow.py",
    "tests/test_web_browser.py",
)
"""The test files that take longest (``--durations`` lists them), in that order."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest test files first, the rest as collected: `make test` runs the files in
    several processes (``--dist loadfile --no-loadscope-reorder``), each taking the next
    file when it is done, so that the short files fill the time beside the long ones instead of
    leaving one process running the longest alone at the end."""
    root = Path(__file__).parent.parent
    if gone := [path for path in LONGEST_FIRST if not (root / path).exists()]:
        raise pytest.UsageError(f"tests/conftest.py LONGEST_FIRST names missing files: {gone}")
    rank = {path: n for n, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture(scope="session", autouse=True)
def _remove_private_dirs() -> Iterator[None]:
    yield
    for path in _created:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def _postgres() -> Iterator[str]:
    yield embedded.start_postgres(private_dir("pg"))


@pytest_asyncio.fixture(scope="session")
async def pool(_postgres: str) -> AsyncIterator[asyncpg.Pool]:
    """The session's database, migrated, with contacts for the people of ``tests/builders.py``
    (programme ``test``), as a start would register them."""
    from tests.builders import register_test_people

    pool = await create_pool(_postgres, min_size=1, max_size=20)
    await migrate(pool)
    await register_test_people(pool)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def database_url(_postgres: str, pool: asyncpg.Pool) -> str:
    """The URL of ``pool``'s database (migrated, test people registered), for commands."""
    return _postgres


@pytest.fixture
def store(pool: asyncpg.Pool) -> EventStore:
    return EventStore(pool)


@pytest_asyncio.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server for the test module (it starts in a third of a second).

    One per module, not per session: a workflow whose worker has gone keeps a task outstanding,
    and the server then holds its clock for good, so every later ``env.sleep`` on it times out
    ("Timeout expired"). Such a leftover now fails only the module that left it, which the
    failure then names, not every later module that sleeps.
    """
    environment = await embedded.start_time_skipping()
    yield environment
    await environment.shutdown()


@pytest_asyncio.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server, in real time: for behaviour the test server gets wrong."""
    environment = await embedded.start_dev_server()
    yield environment
    await environment.shutdown()


BOUNCING = "bounce"
"""Addresses starting with this are refused (550) by the test mail server."""


@pytest.fixture(scope="session")
def mail() -> Iterator[MailServer]:
    """A real SMTP server (aiosmtpd) filing into a Maildir; refuses addresses starting "bounce"."""
    server = FaultyMailServer(
        private_dir("mail") / "Maildir", refuse=lambda a: a.startswith(BOUNCING)
    )
    with server:
        yield server
