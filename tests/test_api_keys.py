"""API keys of machine clients: `mentorflow staff key create|list|revoke`, and the JSON API
answering ``Authorization: Bearer KEY`` with the key's role on the key's programme only, over real
PostgreSQL and Temporal servers (the authorization matrix in test_staff_web covers every route)."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from store.api_keys import ApiKeys
from store.staff import Role
from tests.staff_helpers import recorded_relationship, sign_in_staff, staff_member
from tests.temporal_helpers import whole_seconds_now
from tests.web_helpers import app_for, browser_client

MENTORFLOW = Path(sys.executable).parent / "mentorflow"


def key_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MENTORFLOW_DATABASE_URL": database_url}
    return subprocess.run(
        [str(MENTORFLOW), "staff", "key", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_keys_are_printed_once_kept_hashed_listed_and_revoked(database_url):
    """`create` prints the key once; `list` never shows it; `revoke` marks it; bad input is one
    line and makes nothing."""
    made = key_cli(
        database_url, "create", "--programme", "pilot", "--role", "coordinator",
        "--name", "HR system", "--json",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    assert key["key"].startswith("mfk_") and len(key["key"]) > 40
    assert (key["programme"], key["role"], key["name"]) == ("pilot", "coordinator", "HR system")
    listed = key_cli(database_url, "list", "--json")
    assert key["key"] not in listed.stdout
    [mine] = [k for k in json.loads(listed.stdout) if k["key_id"] == key["key_id"]]
    assert mine["revoked_at"] is None
    before = len(json.loads(listed.stdout))
    for args, reason in (
        (("create", "--programme", "pilot", "--role", "admin"), "coordinator or auditor"),
        (("create", "--programme", "no such/id", "--role", "auditor"), "is not a programme id"),
        (
            ("create", "--programme", "p", "--role", "auditor", "--name", "a\nb"),
            "--name is a label",
        ),
        (("revoke", "not-an-id"), "is not a key id"),
        (("revoke", "00000000-0000-0000-0000-000000000000"), "no API key with the id"),
    ):
        refused = key_cli(database_url, *args)
        assert refused.returncode == 1 and reason in refused.stderr, (args, refused.stderr)
        assert len(refused.stderr.strip().splitlines()) == 1
    assert len(json.loads(key_cli(database_url, "list", "--json").stdout)) == before
    revoked = key_cli(database_url, "revoke", key["key_id"])
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    [after] = [
        k
        for k in json.loads(key_cli(database_url, "list", "--json").stdout)
        if k["key_id"] == key["key_id"]
    ]
    assert after["revoked_at"] is not None


async def test_only_the_hash_of_a_key_is_stored(pool):
    """The table holds the SHA-256 of the key, never the key."""
    key, secret = await ApiKeys(pool).create("pilot", Role.AUDITOR)
    stored = await pool.fetchval(
        "SELECT key_hash FROM api_keys WHERE key_id = $1", uuid.UUID(key.key_id)
    )
    assert secret.encode() not in bytes(stored) and len(bytes(stored)) == 32
    assert (await ApiKeys(pool).by_secret(secret)) == key
    assert await ApiKeys(pool).by_secret(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None


async def test_a_key_acts_with_its_role_on_its_programme_only(env, pool, mail):
    """A coordinator key reads its programme's overviews but not the record; an auditor key reads
    its programme's record but not another's nor the whole log; a key opens no page; a revoked
    or unknown key is refused (401) even with a staff session."""
    app, links = app_for(env.client, pool, mail)
    programme = f"k{uuid.uuid4().hex[:8]}"
    when = await whole_seconds_now(env)
    rid = await recorded_relationship(pool, programme, "Europe/Helsinki", when, when)
    other = await recorded_relationship(pool, f"o{programme}", "Europe/Helsinki", when, when)
    keys = ApiKeys(pool)
    coordinator, coordinator_secret = await keys.create(programme, Role.COORDINATOR)
    _, auditor_secret = await keys.create(programme, Role.AUDITOR)
    async with browser_client(app) as client:
        client.headers["Authorization"] = f"Bearer {coordinator_secret}"
        me = (await client.get("/api/v1/me")).json()
        assert me == {
            "staff_id": f"key:{coordinator.key_id}",
            "role": "coordinator",
            "programmes": [programme],
        }
        assert (await client.get(f"/api/v1/programmes/{programme}/groups")).status_code == 200
        assert (await client.get("/api/v1/programmes/other/groups")).status_code == 403
        assert (await client.get(f"/api/v1/relationships/{rid}")).status_code == 403
        page = await client.get("/staff/programmes")  # a key opens no page
        assert page.status_code == 303 and page.headers["location"] == "/staff/signin"

        client.headers["Authorization"] = f"Bearer {auditor_secret}"
        assert (await client.get(f"/api/v1/relationships/{rid}")).status_code == 200
        assert (await client.get(f"/api/v1/relationships/{rid}/export")).status_code == 200
        assert (await client.get(f"/api/v1/relationships/{other}")).status_code == 403
        unknown = await client.get(f"/api/v1/relationships/{programme}:999")
        assert unknown.status_code == 403  # a key learns nothing of what is not its own
        whole = await client.post("/api/v1/log/verification", json={})
        assert whole.status_code == 403 and whole.headers["content-type"] == (
            "application/problem+json"
        )
        listed = (await client.get("/api/v1/programmes")).json()
        assert {p["programme_id"] for p in listed} == {programme}

        await keys.revoke(coordinator.key_id)
        await sign_in_staff(client, links, await staff_member(pool, Role.ADMIN))
        for secret in (coordinator_secret, "mfk_not-a-key", "mfk_"):
            client.headers["Authorization"] = f"Bearer {secret}"
            refused = await client.get("/api/v1/me")
            assert refused.status_code == 401, secret
            assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        del client.headers["Authorization"]
        assert (await client.get("/api/v1/me")).json()["role"] == "admin"  # the session still


async def test_openapi_names_the_session_and_the_api_key_as_ways_in(env, pool, mail):
    """Every /api/v1 operation takes either the staff session or a bearer API key."""
    app, _ = app_for(env.client, pool, mail)
    async with browser_client(app) as anyone:
        document = (await anyone.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "http", "scheme": "bearer"}
    assert schemes["staffSession"]["in"] == "cookie"
    for path, operations in document["paths"].items():
        if path.startswith("/api/v1/"):
            for operation in operations.values():
                assert {"apiKey": []} in operation["security"], path
                assert {"staffSession": []} in operation["security"], path
