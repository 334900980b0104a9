"""Fixtures of the fault tests beyond the session's (tests/conftest.py)."""

from collections.abc import AsyncIterator

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from mentorflow import embedded


@pytest_asyncio.fixture(scope="module")
async def own_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the test module's own, for tests that terminate a group: a
    group terminated with deliveries in flight can hold such a server's clock, and the shared
    one (``env``) must keep running for every later test."""
    environment = await embedded.start_time_skipping()
    yield environment
    await environment.shutdown()
