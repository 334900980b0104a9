"""The lock files and pyproject.toml agree, and the check (`make lint`) sees when they do not."""

import re
import shutil
from pathlib import Path

from tests.lockfile import DEV, ROOT, RUNTIME, check


def copy(tmp_path: Path) -> Path:
    for name in ("pyproject.toml", RUNTIME.name, DEV.name):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_the_committed_locks_agree_with_pyproject():
    assert check() == []


def test_a_dependency_added_to_pyproject_but_not_locked_is_named(tmp_path):
    root = copy(tmp_path)
    edit(root / "pyproject.toml", '"pyyaml>=6.0,<7",', '"pyyaml>=6.0,<7",\n    "six>=1.16",')
    assert "requirements.lock: six>=1.16 is in pyproject.toml but not locked" in check(root)


def test_a_dependency_removed_from_pyproject_but_still_locked_is_named(tmp_path):
    root = copy(tmp_path)
    edit(root / "pyproject.toml", '"isodate>=0.7,<0.8",', "")
    problems = check(root)
    assert any(
        re.match(r"requirements\.lock: isodate==\S+ is locked but nothing", p) for p in problems
    )
    assert any(p.startswith("requirements-dev.lock: isodate==") for p in problems)


def test_a_range_that_excludes_the_pinned_version_is_named(tmp_path):
    root = copy(tmp_path)
    edit(root / "pyproject.toml", '"pyyaml>=6.0,<7",', '"pyyaml>=7",')
    assert any("is outside pyyaml>=7" in p for p in check(root))


def test_the_runtime_lock_and_the_dev_lock_pin_the_same_versions(tmp_path):
    root = copy(tmp_path)
    pinned = re.search(r"^pyyaml==(\S+) ", (root / RUNTIME.name).read_text(), flags=re.M)
    assert pinned is not None
    edit(root / RUNTIME.name, f"pyyaml=={pinned[1]} ", "pyyaml==6.0.0 ")
    assert any(p.startswith("requirements.lock has pyyaml==6.0.0, ") for p in check(root))
