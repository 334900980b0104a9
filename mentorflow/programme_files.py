"""Reading programme files (YAML) and participant exports (CSV) into validated models.

Every problem is reported as ``FILE: where: what`` (a YAML path like ``programme.cadence``, or a
CSV row and column), and nothing is started from a file with a problem.
"""

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from domain.programme import Participant, ProgrammeFile

LIST_SEPARATOR = ";"
CSV_COLUMNS = (
    "id", "name", "email", "role", "locale", "unit", "manager",
    "expertise", "goals", "capacity", "trained_on",
)  # fmt: skip
_LIST_COLUMNS = {"expertise", "goals"}


class ProgrammeFileError(ValueError):
    """A file that cannot be used; ``problems`` lists every one found, ``str()`` the first."""

    def __init__(self, path: Path, problems: list[str]):
        self.path, self.problems = path, problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{path}: {problems[0]}{more}")


def load_programme(path: Path, participants_csv: Path | None = None) -> ProgrammeFile:
    """The programme in ``path``; participants from ``participants_csv`` replace the file's own."""
    data = _read_yaml(path)
    if participants_csv is not None:
        if data.get("participants"):
            raise ProgrammeFileError(path, ["lists participants and a CSV was given too: use one"])
        data["participants"] = [p.model_dump() for p in load_participants_csv(participants_csv)]
    try:
        return ProgrammeFile.model_validate(data)
    except ValidationError as e:
        raise ProgrammeFileError(path, [_describe(err, data) for err in e.errors()]) from e


def load_participants_csv(path: Path) -> list[Participant]:
    """Participants from an HR export: a header row, then one person per row."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            _check_header(path, reader.fieldnames)
            rows = list(enumerate(reader, start=2))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ProgrammeFileError(path, [f"cannot read: {e}"]) from e
    participants, problems = [], []
    for line, row in rows:
        try:
            participants.append(Participant.model_validate(_from_csv(row)))
        except ValidationError as e:
            problems += [
                f"row {line}, column {'.'.join(map(str, err['loc'][:1]))}: {err['msg']}"
                for err in e.errors()
            ]
    if problems:
        raise ProgrammeFileError(path, problems)
    if not participants:
        raise ProgrammeFileError(path, ["has no participants"])
    return participants


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ProgrammeFileError(path, [f"cannot read: {e.strerror}"]) from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ProgrammeFileError(
            path, [f"{where}not valid YAML ({getattr(e, 'problem', e)})"]
        ) from e
    if not isinstance(data, dict):
        raise ProgrammeFileError(path, ["must be a mapping with a `programme:` section"])
    return data


def _check_header(path: Path, header: Sequence[str] | None) -> None:
    missing = [c for c in ("id", "name", "email", "role") if c not in (header or [])]
    unknown = [c for c in header or [] if c not in CSV_COLUMNS]
    if missing or unknown:
        problems = [f"missing column {c!r}" for c in missing]
        problems += [f"unknown column {c!r} (known: {', '.join(CSV_COLUMNS)})" for c in unknown]
        raise ProgrammeFileError(path, problems)


def _from_csv(row: dict[str, str | None]) -> dict[str, Any]:
    """Empty cells are absent values; list columns are ``;``-separated."""
    data: dict[str, Any] = {}
    for column, value in row.items():
        text = (value or "").strip()
        if not text:
            continue
        if column in _LIST_COLUMNS:
            data[column] = [v.strip() for v in text.split(LIST_SEPARATOR) if v.strip()]
        else:
            data[column] = text
    return data


def _describe(error: Any, data: dict[str, Any]) -> str:
    """``participants[3] (id a3).email: value is not a valid email address``."""
    loc = list(error["loc"])
    parts: list[str] = []
    node: Any = data
    for key in loc:
        if isinstance(key, int):
            who = (
                node[key].get("id")
                if isinstance(node, list) and isinstance(node[key], dict)
                else None
            )
            parts[-1] += f"[{key + 1}]" + (f" (id {who})" if who else "")
        else:
            parts.append(str(key))
        node = node[key] if isinstance(node, dict | list) and _has(node, key) else None
    where = ".".join(parts) or "file"
    return f"{where}: {error['msg']}"


def _has(node: dict[str, Any] | list[Any], key: str | int) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(key, int) and 0 <= key < len(node)
