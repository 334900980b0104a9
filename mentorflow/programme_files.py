"""Reading programme files (YAML) and participant exports (CSV or .xlsx) into validated models.

Every problem is reported as ``FILE: where: what`` (a YAML path like ``programme.cadence``, with
list items counted from 1, or an export's row and column), in words that say what is allowed,
and nothing is started from a file with a problem.
"""

import difflib
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Self, get_args

import yaml
from pydantic import BaseModel, ValidationError, model_validator

from domain.model import Frozen, PersonId
from domain.programme.model import Column, Name, Participant, ParticipantField, Programme
from mentorflow.errors import MentorflowError
from mentorflow.field_errors import explain
from mentorflow.hr_import import ParticipantImport, read_participants
from mentorflow.scenario import Behaviour


class ProgrammeFile(Frozen):
    """A programme file: the programme, its participants, and (for simulations) behaviour."""

    programme: Programme
    participants: tuple[Participant, ...] = ()
    columns: dict[ParticipantField, Name | Column] = {}
    """Which column of a participant export fills which field, when the built-in names for
    Finnish, Swedish and English headers do not find it (``email: Työsähköposti``)."""
    behaviour: Behaviour | None = None
    """How simulated people act (``mentorflow simulate``); ignored when starting for real."""

    @model_validator(mode="after")
    def _people(self) -> Self:
        seen: set[PersonId] = set()
        for p in self.participants:
            if p.id in seen:
                raise ValueError(f"participant id {p.id!r} appears more than once")
            seen.add(p.id)
        if self.programme.coordinator.id in seen:
            raise ValueError("the coordinator cannot also be a participant")
        if self.programme.coordinator.name is None or self.programme.coordinator.email is None:
            raise ValueError("the coordinator needs a name and an email (the contact for replies)")
        return self


class ProgrammeFileError(MentorflowError, ValueError):
    """A file that cannot be used; ``problems`` lists every one found, ``str()`` the first."""

    def __init__(self, path: Path, problems: list[str]):
        self.path, self.problems = path, problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{path}: {problems[0]}{more}")


Columns = dict[ParticipantField, str | Column]


def load_programme(
    path: Path,
    participants: Path | None = None,
    columns: Path | None = None,
    sheet: str | None = None,
) -> ProgrammeFile:
    """The programme in ``path``; participants from an export ``participants`` replace the
    file's own, with its columns named by ``columns`` (a file) or the programme's ``columns:``."""
    data = _read_yaml(path)
    if participants is not None:
        if data.get("participants"):
            raise ProgrammeFileError(
                path, ["lists participants and an export was given too: use one"]
            )
        own = _columns(path, data.get("columns") or {})
        mapping = load_columns(columns) if columns is not None else own
        data["participants"] = [
            p.model_dump() for p in load_participants(participants, mapping, sheet)
        ]
    try:
        return ProgrammeFile.model_validate(data)
    except ValidationError as e:
        problems = [_describe(err, data) for err in _relevant(e.errors())]
        raise ProgrammeFileError(path, problems) from e


def moved(path: Path, starts_on: date, programme_id: str | None = None) -> dict[str, Any]:
    """The document of the programme file ``path`` with every date in it (the calendar, mentors'
    training dates, a simulation script's) moved by the same number of days, so that the
    programme starts on ``starts_on``: the same programme, ready to start for real or rehearse
    again. ``programme_id`` renames it (one already started keeps its id). The file must load,
    and so must the result; each refuses with every problem (``ProgrammeFileError``)."""
    before = load_programme(path)
    by = starts_on - before.programme.starts_on
    data: dict[str, Any] = _move_dates(_read_yaml(path), by)
    if programme_id is not None:
        data["programme"]["id"] = programme_id
    try:
        ProgrammeFile.model_validate(data)
    except ValidationError as e:
        problems = [_describe(err, data) for err in _relevant(e.errors())]
        raise ProgrammeFileError(path, [f"once moved: {p}" for p in problems]) from e
    return data


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _move_dates(node: Any, by: timedelta) -> Any:
    """``node`` with each date (a YAML date, or a quoted ``YYYY-MM-DD``) ``by`` later."""
    if isinstance(node, dict):
        return {k: _move_dates(v, by) for k, v in node.items()}
    if isinstance(node, list):
        return [_move_dates(v, by) for v in node]
    if isinstance(node, date):  # YAML reads an unquoted 2020-09-01 as a date (or a datetime)
        return node + by
    if isinstance(node, str) and _ISO_DATE.fullmatch(node):
        try:
            return (date.fromisoformat(node) + by).isoformat()
        except ValueError:  # 2020-13-45: left as it is, for the validation to name it
            return node
    return node


def load_participants(
    path: Path, columns: Columns | None = None, sheet: str | None = None
) -> list[Participant]:
    """Participants from an HR export; every problem found is in the error."""
    found = read_participants(path, columns, sheet)
    if not found.ok:
        raise ProgrammeFileError(path, [str(p) for p in found.problems])
    return found.participants


load_participants_csv = load_participants


def check_participants(
    path: Path, programme: Path | None, columns: Path | None, sheet: str | None
) -> ParticipantImport:
    """What an export says, read with the mapping of ``columns`` or of the programme file."""
    mapping: Columns = {}
    if columns is not None:
        mapping = load_columns(columns)
    elif programme is not None:
        mapping = _columns(programme, _read_yaml(programme).get("columns") or {})
    return read_participants(path, mapping, sheet)


def load_columns(path: Path) -> Columns:
    """A column mapping file: a ``columns:`` section (or the mapping on its own)."""
    data = _read_yaml(path, need="a mapping such as `columns: {email: Työsähköposti}`")
    return _columns(path, data.get("columns", data))


def _columns(path: Path, section: Any) -> Columns:
    try:
        file = ProgrammeFile.model_validate({"programme": _PLACEHOLDER, "columns": section})
    except ValidationError as e:
        problems = [_describe(err, {"columns": section}) for err in _relevant(e.errors())]
        raise ProgrammeFileError(path, problems) from e
    return dict(file.columns)


_PLACEHOLDER = {
    "id": "x", "name": "x", "starts_on": "2000-01-02", "ends_on": "2000-02-01",
    "coordinator": {"id": "x", "name": "x", "email": "x@example.org"},
    "training": {"deadline": "2000-01-01"}, "matching": {"runs_on": "2000-01-02"},
}  # fmt: skip
"""A valid programme, so that validating a ``columns:`` section alone reports only its own."""


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser under the safe constructor when PyYAML has it (the same data, several times
faster: a file of 10,000 participants took 13 s to read in Python)."""


def _read_yaml(path: Path, need: str = "a mapping with a `programme:` section") -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except OSError as e:
        raise ProgrammeFileError(path, [f"cannot read: {e.strerror}"]) from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ProgrammeFileError(
            path, [f"{where}not valid YAML ({getattr(e, 'problem', e)})"]
        ) from e
    if not isinstance(data, dict):
        raise ProgrammeFileError(path, [f"must be {need}"])
    return data


def _describe(error: Any, data: dict[str, Any]) -> str:
    """``participants[3] (id a3).email: 'x' is not a valid e-mail address``.

    List items are counted from 1, as a person counts them; the names pydantic gives the members
    of a union (``constrained-str``, ``Column``) and dictionary keys (``[key]``) are left out.
    """
    loc = list(error["loc"])
    parts: list[str] = []
    node: Any = data
    for n, key in enumerate(loc):
        if isinstance(key, int):
            who = (
                node[key].get("id")
                if isinstance(node, list) and _has(node, key) and isinstance(node[key], dict)
                else None
            )
            parts[-1] += f"[{key + 1}]" + (f" (id {who})" if who else "")
        elif key == "[key]" or not _names_a_field(node, key, last=n == len(loc) - 1):
            continue
        else:
            parts.append(str(key))
        node = node[key] if isinstance(node, dict | list) and _has(node, key) else None
    what = _unknown_field(loc) if error["type"] == "extra_forbidden" else explain(error)
    where = ".".join(parts)
    return f"{where}: {what}" if where else what


def _unknown_field(loc: list[Any]) -> str:
    """What to write instead of a misspelt field: the closest known one, or all of them."""
    model: Any = ProgrammeFile
    for key in loc[:-1]:
        fields = getattr(model, "model_fields", {})
        if key in fields:  # list indexes, mapping keys and union members are not fields
            model = _model_in(fields[key].annotation)
    known = list(getattr(model, "model_fields", ()))
    if not known:
        return "is not a known field here (check its spelling)"
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    if close:
        return f"is not a known field: did you mean {close[0]!r}?"
    return "is not a known field here; allowed: " + ", ".join(known)


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside an annotation (``X | None``, ``tuple[X, ...]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _names_a_field(node: Any, key: str, last: bool) -> bool:
    """Whether ``key`` is a field of ``node`` (or, at the end, one it lacks), not a union tag."""
    if isinstance(node, dict):
        return key in node or last
    return False


def _relevant(errors: list[Any]) -> list[Any]:
    """A section given where text was expected: the section's own errors say more."""
    wrong_type = [e for e in errors if e["type"].endswith("_type") and isinstance(e["input"], dict)]
    return [e for e in errors if e not in wrong_type] or errors


def _has(node: dict[str, Any] | list[Any], key: str | int) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(key, int) and 0 <= key < len(node)
