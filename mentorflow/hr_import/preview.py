"""What `programme check --participants` shows: what was understood, then every problem."""

from pathlib import Path
from typing import Any, TextIO

from mentorflow.csv_export import write_csv
from mentorflow.hr_import.participants import ParticipantImport

FIRST_ROWS = 5
EXPORT_COLUMNS = (
    "id", "name", "email", "role", "locale", "unit", "manager",
    "expertise", "goals", "capacity", "trained_on",
)  # fmt: skip


def as_json(found: ParticipantImport) -> dict[str, Any]:
    fmt = found.format
    return {
        "format": None
        if fmt is None
        else {
            "kind": fmt.kind,
            "encoding": fmt.encoding,
            "separator": fmt.separator,
            "sheet": fmt.sheet,
        },
        "mapping": found.mapping,
        "ignored_columns": found.ignored,
        "participants": len(found.participants),
        "counts": found.counts(),
        "first_rows": [
            {"row": found.rows[p.id], **p.model_dump(mode="json")}
            for p in found.participants[:FIRST_ROWS]
        ],
        "notes": found.notes,
        "problems": [p.as_json() for p in found.problems],
    }


def as_text(path: Path, found: ParticipantImport) -> list[str]:
    lines: list[str] = []
    if found.format is not None:
        lines.append(f"{path}: {found.format.describe()}")
    if found.mapping:
        lines.append("columns: " + ", ".join(f"{f} <- {h!r}" for f, h in found.mapping.items()))
    if found.ignored:
        lines.append("not used: " + ", ".join(map(repr, found.ignored)))
    if found.participants:
        counts = found.counts()
        roles = ", ".join(f"{counts['role'].get(r, 0)} {r}s" for r in ("mentor", "mentee"))
        locales = ", ".join(f"{loc} {n}" for loc, n in sorted(counts["locale"].items()))
        lines.append(f"{len(found.participants)} participants: {roles}; languages: {locales}")
        lines.append("first rows:")
        for p in found.participants[:FIRST_ROWS]:
            cells = [f"row {found.rows[p.id]}", p.id, p.name, p.role.value, p.locale.value]
            lines.append("  " + "  ".join([*cells, p.unit or "-", p.manager or "-"]))
    lines += [f"note: {n}" for n in found.notes]
    if found.problems:
        lines.append(f"problems ({len(found.problems)}):")
        lines += [f"  {p}" if p.row is not None else f"  {path}: {p}" for p in found.problems]
    return lines


def export(found: ParticipantImport, out: TextIO) -> None:
    """The participants as understood, in Mentorflow's own columns (formulas neutralised)."""
    rows = []
    for p in found.participants:
        data = p.model_dump(mode="json")
        rows.append(
            [
                "; ".join(v) if isinstance(v := data.get(c), list) else ("" if v is None else v)
                for c in EXPORT_COLUMNS
            ]
        )
    write_csv(out, EXPORT_COLUMNS, rows)
