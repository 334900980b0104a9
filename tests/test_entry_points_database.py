"""Every entry point honours MENTORFLOW_MIGRATE and reports database trouble in one line.

`programme start` logged in as a worker role (a `mentorflow_writer` member, no CREATE
privilege) used to ignore MENTORFLOW_MIGRATE, try to migrate, and print a traceback.
"""

import uuid
from urllib.parse import urlsplit

import asyncpg
import pytest

from tests.test_programme_cli import future_programme, mentorflow


@pytest.fixture
async def writer_on_a_fresh_database(database_url, pool):
    """A database without the schema, and a login that may write but not create."""
    name = f"fresh_{uuid.uuid4().hex[:10]}"
    role = f"writer_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        await admin.execute(f"CREATE ROLE {role} LOGIN IN ROLE mentorflow_writer")
    finally:
        await admin.close()
    parts = urlsplit(database_url)
    return parts._replace(netloc=f"{role}:@{parts.hostname or ''}", path=f"/{name}").geturl()


@pytest.mark.parametrize(
    ("migrate", "says"),
    [
        ("true", "run `mentorflow migrate` as its owner, and MENTORFLOW_MIGRATE=false"),
        ("false", "has no Mentorflow schema: run `mentorflow migrate` as its owner"),
    ],
)
async def test_programme_start_as_a_writer_gets_one_line_and_starts_nothing(
    dev_env, writer_on_a_fresh_database, tmp_path, monkeypatch, migrate, says
):
    """MIGRATE=true: the migration is refused (one line, how to fix it); MIGRATE=false: the
    missing migrations are named. Either way no programme starts and no password is shown."""
    monkeypatch.setenv("MENTORFLOW_DATABASE_URL", writer_on_a_fresh_database)
    monkeypatch.setenv("MENTORFLOW_MIGRATE", migrate)
    address = dev_env.client.service_client.config.target_host
    pid = f"writer-{uuid.uuid4().hex[:8]}"
    code, out, err = await mentorflow(
        address, "programme", "start", str(future_programme(tmp_path, pid))
    )
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and err.startswith("mentorflow: ") and says in err, err
    from temporalio.service import RPCError

    with pytest.raises(RPCError):  # nothing was started
        await dev_env.client.get_workflow_handle(f"programme:{pid}").describe()
