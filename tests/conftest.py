"""Session-wide real servers: an embedded PostgreSQL and a time-skipping Temporal test server."""

from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from mentorflow import embedded
from mentorflow.log_setup import configure_logging
from store.event_store import EventStore
from store.migrate import migrate
from store.pool import create_pool

configure_logging("INFO", "console")  # through stdlib logging, so pytest captures it per test


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return embedded.start_postgres(tmp_path_factory.mktemp("pg"))


@pytest_asyncio.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, min_size=1, max_size=20)
    await migrate(pool)
    yield pool
    await pool.close()


@pytest.fixture
def store(pool: asyncpg.Pool) -> EventStore:
    return EventStore(pool)


@pytest_asyncio.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await embedded.start_time_skipping()
    yield environment
    await environment.shutdown()


@pytest_asyncio.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server, in real time: for behaviour the test server gets wrong."""
    environment = await embedded.start_dev_server()
    yield environment
    await environment.shutdown()
