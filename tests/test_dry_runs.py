"""Dry runs stay dry: `simulate` and `demo` never use the configured relay or database.

A dry run of the real programme file would have mailed real employees a year of messages and
left its ``*.sim-*`` programmes in the real hash-chained log: `simulate` took
MENTORFLOW_SMTP_HOST and MENTORFLOW_DATABASE_URL when they were set. Now a dry run uses the
built-in mail sink and its own embedded database unless `--send-mail` / `--database-url` say
otherwise.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import private_dir

EXAMPLE = Path(__file__).parent.parent / "examples" / "palkeet-pilot.yaml"
MENTORFLOW = Path(sys.executable).parent / "mentorflow"
PRODUCTION = {
    # Both unreachable: a dry run that touched either would fail.
    "MENTORFLOW_DATABASE_URL": "postgresql://mentorflow@127.0.0.1:9/production",
    "MENTORFLOW_SMTP_HOST": "127.0.0.1",
    "MENTORFLOW_SMTP_PORT": "9",
}


def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **PRODUCTION, "MENTORFLOW_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [str(MENTORFLOW), *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_simulate_uses_its_own_database_and_the_mail_sink_whatever_is_configured():
    """With a production relay and database configured: the simulation runs on its own, every
    message is filed in the dry run's Maildir, and nothing reaches either."""
    data_dir = private_dir("dry-run")
    done = run("simulate", str(EXAMPLE), "--json", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["programme"]["phase"] == "closed"
    assert report["mail"]["sent"] == report["mail"]["messages"] > 0
    filed = list((data_dir / "mail").glob("**/new/*"))
    assert len(filed) == report["mail"]["sent"]


def test_send_mail_without_a_relay_is_refused_in_one_line():
    """`--send-mail` is the explicit way to use the relay; without one it says so."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORFLOW_SMTP")}
    done = subprocess.run(
        [str(MENTORFLOW), "simulate", str(EXAMPLE), "--send-mail"],
        capture_output=True,
        text=True,
        env={**env, "MENTORFLOW_DATA_DIR": str(private_dir("dry-run-relay"))},
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "mentorflow: --send-mail needs a relay: set MENTORFLOW_SMTP_HOST\n"
