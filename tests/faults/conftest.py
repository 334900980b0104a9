"""Fixtures of the fault tests beyond the session's (tests/conftest.py)."""

from collections.abc import AsyncIterator

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from mentorflow import embedded


@pytest_asyncio.fixture(scope="module")
async def own_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server apart from the module's ``env``, for tests that terminate a group:
    a group terminated with deliveries in flight can hold such a server's clock, and ``env``
    must keep running for the module's other tests."""
    environment = await embedded.start_time_skipping()
    yield environment
    await environment.shutdown()
