"""The README is true: its commands exist and its example runs and prints what it says."""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.conftest import private_dir

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def console_examples() -> list[str]:
    """The ``$ ...`` lines of the README's console blocks."""
    blocks = re.findall(r"```console\n(.*?)```", README, flags=re.S)
    return [line[2:] for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def test_the_two_commands_are_make_targets_that_ci_runs():
    """`make demo` and `make test` are in the README, in the Makefile, and CI runs `make test`."""
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo", "test"):
        assert f"make {target}" in README
        assert re.search(rf"^{target}:", makefile, flags=re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_readme_example_runs_and_reports_what_the_readme_describes():
    """`mentorflow demo --json`, as the README shows it: the year closes, the audit checks pass."""
    [example] = console_examples()
    argv = shlex.split(example)
    argv[0] = str(Path(sys.executable).parent / Path(argv[0]).name)  # this environment's .venv/bin
    env = {**os.environ, "MENTORFLOW_DATA_DIR": str(private_dir("readme"))}
    env.pop("MENTORFLOW_DATABASE_URL", None)
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    demo = json.loads(done.stdout)
    report = demo["simulation"]
    assert report["programme"]["phase"] == "closed" and report["programme"]["participants"] == 40
    assert report["checks"]["fold_matches_workflows"] is True
    assert report["checks"]["workflow_runs_replayed"] > len(report["relationships"])
    outcomes = {r["outcome"] for r in report["relationships"]}
    assert outcomes <= {"completed", "dissolved"} and "completed" in outcomes
    [dissolved] = [r for r in report["relationships"] if "a3" in r["mentees"]]
    assert dissolved["outcome"] == "dissolved" and "after a11 withdrew" in dissolved["reason"]
    assert any(r["escalations"] for r in report["relationships"])
    assert report["timeline"] and report["timeline"][-1]["type"] == "relationship_closed"
    documented = README.split("prints one JSON object:")[1].split("A test")[0]
    assert set(re.findall(r"`(\w+)`", documented)) == set(demo)
    simulations = README.split("`--json` prints")[1].split("Time:")[0]
    assert set(re.findall(r"`(\w+)`", simulations.split("(")[0])) <= set(report)


def test_a_bad_configuration_gets_one_line_and_a_non_zero_exit():
    """An unreachable database: exit 1, one line on stderr naming it, no password shown."""
    mentorflow = Path(sys.executable).parent / "mentorflow"
    unreachable = "postgresql://u:s3cret@127.0.0.1:1/x"  # a dry run uses it only when told to
    done = subprocess.run(
        [str(mentorflow), "demo", "--database-url", unreachable],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "cannot reach the database" in done.stderr
    assert "s3cret" not in done.stderr


def test_every_setting_is_in_the_configuration_table():
    from mentorflow.settings import Settings

    table = README.split("## Configuration")[1].split("\n## ")[0]
    for name, field in Settings.model_fields.items():
        variable = field.validation_alias or f"MENTORFLOW_{name.upper()}"
        assert f"`{variable}`" in table, variable
