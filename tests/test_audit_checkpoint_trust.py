"""A checkpoint cannot vouch for itself.

`audit verify --checkpoint` read the public key from the checkpoint file, so whoever rewrote the
log could sign a fresh checkpoint with a key of their own and it verified. Now the trusted key
comes from elsewhere (`--public-key` or MENTORFLOW_AUDIT_KEY_FINGERPRINT) and is printed, and a
signing key that others can read is refused.
"""

import json
import uuid
from datetime import UTC, datetime

from mentorflow.audit.checkpoint import fingerprint
from store.event_store import EventStore, NewEvent
from store.migrate import migrate
from store.pool import create_pool
from tests.staff_helpers import own_database_url
from tests.test_audit_commands import audit, public_key_of


async def test_verify_checks_the_checkpoint_against_a_key_given_apart_from_it(
    database_url, tmp_path, monkeypatch
):
    """No trusted key: refused in one line. The right key: ok, and named. A checkpoint signed by
    another key (a forger's): not ok. A key file readable by others: refused.

    In a database of its own: `verify --all` then checks one stream, not every one the session's
    earlier tests wrote (a minute and more)."""
    database_url = await own_database_url(database_url)
    pool = await create_pool(database_url)
    await migrate(pool)
    await EventStore(pool).append(
        f"relationship:trust-{uuid.uuid4().hex[:8]}",
        0,
        [NewEvent(uuid.uuid4(), "paused", 1, datetime.now(UTC), "m1", {"reason": "r"})],
    )
    await pool.close()
    ours, forgers = tmp_path / "ours.pem", tmp_path / "forger.pem"
    for key, name in ((ours, "ours.json"), (forgers, "forged.json")):
        taken = audit(database_url, "checkpoint", "--key", str(key))
        assert taken.returncode == 0, taken.stderr
        (tmp_path / name).write_text(taken.stdout)
        assert fingerprint(public_key_of(key)) in taken.stderr  # told which key signed it
    trusted = public_key_of(ours)
    checkpoint, forged = str(tmp_path / "ours.json"), str(tmp_path / "forged.json")

    untrusted = audit(database_url, "verify", "--all", "--checkpoint", checkpoint)
    assert (untrusted.returncode, untrusted.stdout) == (1, "")
    assert untrusted.stderr.count("\n") == 1 and "--public-key" in untrusted.stderr

    good = audit(
        database_url, "verify", "--all", "--checkpoint", checkpoint, "--public-key", trusted
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert f"checkpoint: ok (trusted key {fingerprint(trusted)})" in good.stdout

    monkeypatch.setenv("MENTORFLOW_AUDIT_KEY_FINGERPRINT", fingerprint(trusted))
    by_fingerprint = audit(database_url, "verify", "--all", "--checkpoint", forged, "--json")
    assert by_fingerprint.returncode == 1
    report = json.loads(by_fingerprint.stdout)
    assert report["checkpoint"].startswith("the checkpoint was signed by key SHA256:")
    assert report["checkpoint_key"] == fingerprint(trusted)

    ours.chmod(0o644)
    exposed = audit(database_url, "checkpoint", "--key", str(ours))
    assert (exposed.returncode, exposed.stdout) == (1, "")
    assert exposed.stderr.count("\n") == 1 and "readable by others" in exposed.stderr
