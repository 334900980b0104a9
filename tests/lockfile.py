"""The lock files still say what pyproject.toml asks for: ``python -m tests.lockfile`` (run by
``make lint``) prints one line per disagreement and exits 1, or exits 0 in silence.

Offline and quick: no resolver runs. For this machine's Python (the lock is universal; entries
whose markers do not apply here are left out), each lock must hold

- every requirement of pyproject.toml (the runtime ones; the dev extra too for
  requirements-dev.lock) at a version its range allows;
- nothing else than what those requirements need, followed through the metadata of the
  installed packages (``make`` installs exactly the dev lock, so every locked package is there);
- and requirements.lock the same version of each package as requirements-dev.lock.

A changed range that the pinned version still meets needs no new lock, as with ``uv pip
compile``, which keeps such pins. ``make lock`` writes both files again.
"""

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).parent.parent
RUNTIME, DEV = ROOT / "requirements.lock", ROOT / "requirements-dev.lock"

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def pins(lock_text: str) -> dict[str, Version]:
    """The pins of a lock that apply to this Python: canonical name -> version."""
    found: dict[str, Version] = {}
    for line in lock_text.splitlines():
        match = _PIN.match(line)
        if match is None:
            continue
        name, version, marker = match.groups()
        if marker is None or Marker(marker).evaluate():
            found[canonicalize_name(name)] = Version(version)
    return found


def requirements(pyproject_text: str, extras: tuple[str, ...] = ()) -> list[Requirement]:
    project = tomllib.loads(pyproject_text)["project"]
    listed = list(project["dependencies"])
    for extra in extras:
        listed += project["optional-dependencies"][extra]
    return [Requirement(r) for r in listed]


def _needs(name: str, extras: set[str]) -> list[Requirement]:
    """What the installed ``name`` requires, with ``extras``, on this Python."""
    try:
        required = metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        return []  # reported as a version mismatch by the caller
    needed = []
    for line in required:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": e}) for e in extras or {""}):
            needed.append(requirement)
    return needed


def disagreements(
    roots: list[Requirement], locked: dict[str, Version], lock_name: str
) -> list[str]:
    """Each root met by a pin; exactly the closure of the roots locked."""
    problems = []
    wanted: dict[str, set[str]] = {}
    queue: list[Requirement] = []
    for root in roots:
        if root.marker is not None and not root.marker.evaluate():
            continue
        name = canonicalize_name(root.name)
        if name not in locked:
            problems.append(f"{lock_name}: {root} is in pyproject.toml but not locked")
        elif not root.specifier.contains(locked[name], prereleases=True):
            problems.append(f"{lock_name}: {name}=={locked[name]} is outside {root}")
        queue.append(root)
    while queue:
        requirement = queue.pop()
        name = canonicalize_name(requirement.name)
        extras = wanted.setdefault(name, set())
        new_extras = set(requirement.extras) - extras
        if extras and not new_extras:
            continue
        extras |= new_extras
        if name not in locked:
            problems.append(f"{lock_name}: {name} (needed for {requirement}) is not locked")
            continue
        installed = _installed_version(name)
        if installed != locked[name]:
            problems.append(
                f"{lock_name}: {name}=={locked[name]} is locked but {installed} is installed:"
                " run `make .venv/.installed`"
            )
        queue += _needs(name, extras)
    for extra in sorted(set(locked) - set(wanted)):
        problems.append(f"{lock_name}: {extra}=={locked[extra]} is locked but nothing needs it")
    return sorted(set(problems))


def _installed_version(name: str) -> Version | None:
    try:
        return Version(metadata.version(name))
    except metadata.PackageNotFoundError:
        return None


def check(root: Path = ROOT) -> list[str]:
    pyproject = (root / "pyproject.toml").read_text()
    runtime, dev = pins((root / RUNTIME.name).read_text()), pins((root / DEV.name).read_text())
    problems = disagreements(requirements(pyproject), runtime, RUNTIME.name)
    problems += disagreements(requirements(pyproject, ("dev",)), dev, DEV.name)
    for name in sorted(set(runtime) & set(dev)):
        if runtime[name] != dev[name]:
            problems.append(
                f"{RUNTIME.name} has {name}=={runtime[name]}, {DEV.name} {name}=={dev[name]}"
            )
    return problems


def main() -> int:
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("the lock files disagree with pyproject.toml: run `make lock`", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
