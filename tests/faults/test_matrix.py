"""The fault matrix is written down truly: every test the README's Guarantees table and this
package's docstring name exists, and every case of the issue's acceptance has a row."""

import re
from pathlib import Path

import tests.faults

HERE = Path(__file__).parent
README = (HERE.parents[1] / "README.md").read_text()
GUARANTEES = README.split("## Guarantees")[1].split("\n## ")[0]


def test_every_case_has_a_row_naming_existing_tests():
    rows = [r for r in GUARANTEES.splitlines() if r.startswith("| ") and "---" not in r][1:]
    faults = [r.split(" | ")[0].removeprefix("| ") for r in rows]
    for case in (
        "NUL",
        "100,000",
        "relay down",
        "535",
        "452",
        "550 5.1.1",
        "SIGKILL",
        "PostgreSQL restarted",
        "terminated by an operator",
        "pause never resumed",
    ):
        assert any(case in f for f in faults), case
    for row in rows:
        for name in re.findall(r"`(test_\w+\.py)`", row):
            assert (HERE / name).exists(), name


def test_every_test_the_inventory_names_exists():
    inventory = tests.faults.__doc__ or ""
    sources = {p.stem: p.read_text() for p in HERE.glob("test_*.py")}
    for module in re.findall(r"``(test_[a-z_]+)``", inventory):
        if module in sources:
            continue
        assert any(f"def {module}(" in s for s in sources.values()), module
    for prefix in re.findall(r"``(test_\w+)\.\.\.``", inventory):
        assert any(f"def {prefix}" in s for s in sources.values()), prefix
