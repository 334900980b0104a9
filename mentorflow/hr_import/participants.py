"""Participants from an HR export: read, mapped, validated, with every problem in one pass.

A problem names the row as the spreadsheet numbers it (the header is row 1) and the column by the
export's own header, so the coordinator can find the cell and fix it at the source.
"""

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from domain.model import Role
from domain.programme.model import Column, Participant, ParticipantField
from mentorflow.field_errors import explain
from mentorflow.hr_import.mapping import ColumnMap, map_columns
from mentorflow.hr_import.reader import ReadError, TableFormat, open_table

LIST_FIELDS = {"expertise", "goals"}
"""The fields whose cell lists several values (``listed``)."""
_LIST_SPLIT = re.compile(r"[;,\n]")
_EMAIL_LIKE = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file; ``row`` as the spreadsheet counts (1 is the header)."""

    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = [f"row {self.row}"] if self.row is not None else []
        where += [f"column {self.column!r}"] if self.column is not None else []
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def as_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ParticipantImport:
    """What was understood of an export: its format, the mapping, the people and the problems."""

    format: TableFormat | None
    mapping: dict[str, str] = field(default_factory=dict)
    """Mentorflow field -> the export's header."""
    ignored: list[str] = field(default_factory=list)
    participants: list[Participant] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    """The row each participant came from, by id."""
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            "role": dict(Counter(p.role.value for p in self.participants)),
            "locale": dict(Counter(p.locale.value for p in self.participants)),
        }


def read_participants(
    path: Path,
    columns: Mapping[ParticipantField, str | Column] | None = None,
    sheet: str | None = None,
) -> ParticipantImport:
    """Everything the export ``path`` says, good and bad; never raises for a bad row."""
    try:
        table = open_table(path, sheet)
    except ReadError as e:
        return ParticipantImport(None, problems=[Problem(str(e))])
    with table:
        result = ParticipantImport(table.format)
        mapping = map_columns(table.header, columns or {})
        result.problems += [
            Problem(p.removeprefix("row 1: "), row=1) if p.startswith("row 1: ") else Problem(p)
            for p in mapping.problems
        ]
        result.mapping = {f: table.header[i] for i, f in sorted(mapping.fields.items())}
        result.ignored = mapping.ignored()
        if not result.ok:
            return result
        try:
            raw = [(n, _fields(cells, mapping)) for n, cells in table.rows]
        except ReadError as e:
            result.problems.append(Problem(str(e)))
            return result
    _validate(raw, mapping, result)
    return result


def listed(text: str) -> list[str]:
    """A cell's several values, separated by commas, semicolons or lines."""
    return [v.strip() for v in _LIST_SPLIT.split(text) if v.strip()]


def _fields(cells: list[str], mapping: ColumnMap) -> dict[str, Any]:
    """A row's cells as participant fields; empty cells are absent values."""
    data: dict[str, Any] = {}
    for index, name in mapping.fields.items():
        text = cells[index].strip() if index < len(cells) else ""
        if not text:
            continue
        if name in LIST_FIELDS:
            data[name] = listed(text)
        else:
            data[name] = mapping.value(name, text)
    if "name" not in data and ("first_name" in data or "last_name" in data):
        data["name"] = " ".join(data[k] for k in ("first_name", "last_name") if k in data)
    data.pop("first_name", None)
    data.pop("last_name", None)
    return data


def _validate(
    raw: list[tuple[int, dict[str, Any]]], mapping: ColumnMap, result: ParticipantImport
) -> None:
    if not raw:
        result.problems.append(Problem("has no participants: only a header row", row=1))
        return
    by_email = _first_rows(raw, "email", result, mapping, fold=True)
    _first_rows(raw, "id", result, mapping)
    ids: dict[str, str | None] = {}
    for _, d in raw:
        if "email" in d:
            ids.setdefault(d["email"].casefold(), d.get("id"))
    for number, data in raw:
        _resolve_manager(number, data, ids, by_email, mapping, result)
        if data.get("role") == Role.MENTOR and mapping.has("capacity") and "capacity" not in data:
            result.problems.append(
                Problem(
                    "a mentor needs a capacity: how many groups they can take (1-5)",
                    number,
                    mapping.header_of("capacity"),
                )
            )
        try:
            participant = Participant.model_validate(data)
        except ValidationError as e:
            result.problems += [_problem(number, err, mapping) for err in e.errors()]
            continue
        if participant.id not in result.rows:
            result.participants.append(participant)
            result.rows[participant.id] = number
    if not mapping.has("capacity"):
        result.notes.append("no capacity column: every mentor takes one group")
    if not mapping.has("locale"):
        result.notes.append("no language column: everyone gets letters in English")


def _first_rows(
    raw: list[tuple[int, dict[str, Any]]],
    name: ParticipantField,
    result: ParticipantImport,
    mapping: ColumnMap,
    fold: bool = False,
) -> dict[str, int]:
    """The row where each value of ``name`` first appears; later ones are problems."""
    first: dict[str, int] = {}
    for number, data in raw:
        if name not in data:
            continue
        key = data[name].casefold() if fold else data[name]
        if key in first:
            result.problems.append(
                Problem(
                    f"{data[name]!r} is also on row {first[key]}: each person once, please",
                    number,
                    mapping.header_of(name),
                )
            )
        else:
            first[key] = number
    return first


def _resolve_manager(
    number: int,
    data: dict[str, Any],
    ids: dict[str, str | None],
    by_email: dict[str, int],
    mapping: ColumnMap,
    result: ParticipantImport,
) -> None:
    """A manager given by e-mail becomes that participant's id: addresses never reach Temporal."""
    manager = data.get("manager")
    if manager is None:
        return
    column = mapping.header_of("manager")
    if _EMAIL_LIKE.match(manager):
        found = ids.get(manager.casefold())
        if found is None:
            result.problems.append(
                Problem(
                    f"{manager!r} is not the e-mail address of anyone in the file:"
                    " give the manager's id instead (any label shared by the people"
                    " with the same manager will do)",
                    number,
                    column,
                )
            )
            data.pop("manager")
            return
        data["manager"] = manager = found
    if manager == data.get("id"):
        result.problems.append(Problem("a person cannot be their own manager", number, column))
        data.pop("manager")


def _problem(number: int, error: Any, mapping: ColumnMap) -> Problem:
    loc = error["loc"]
    name = str(loc[0]) if loc else None
    if error["type"] == "missing" and name is not None:
        return Problem("is empty: it is required", number, mapping.header_of(name))
    column = mapping.header_of(name) if name is not None else None
    if name == "manager" and error["type"] == "string_pattern_mismatch":
        return Problem(
            f"{error['input']!r} is not an id: give the manager's id (letters, digits, '.', '_',"
            " '-'), not a name, which must not reach the workflows",
            number,
            column,
        )
    return Problem(explain(error), number, column)
