"""Which column of an export fills which participant field, and what its values mean.

Headers are found by built-in names in Finnish, Swedish and English (compared without case,
spaces or punctuation: ``Sähköposti``, ``E-post``, ``e_mail``), unless the programme's ``columns:``
section names the column. Role and language values map the same way (``mentori``, ``aktori``,
``suomi``, ``svenska``), plus any values the ``columns:`` section adds.
"""

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.programme.model import Column, ParticipantField

HEADER_ALIASES: dict[ParticipantField, tuple[str, ...]] = {
    "id": (
        "id", "person id", "employee id", "employee number", "personnel number", "tunnus",
        "henkilönumero", "henkilöstönumero", "työntekijänumero", "anställningsnummer",
        "personalnummer", "medarbetarnummer",
    ),
    "name": ("name", "full name", "nimi", "koko nimi", "namn", "fullständigt namn"),
    "first_name": ("first name", "given name", "etunimi", "förnamn"),
    "last_name": ("last name", "surname", "family name", "sukunimi", "efternamn"),
    "email": (
        "email", "e-mail", "email address", "mail", "sähköposti", "sähköpostiosoite",
        "työsähköposti", "e-post", "e-postadress", "epost",
    ),
    "role": ("role", "mentoring role", "rooli", "roll"),
    "locale": ("locale", "language", "kieli", "asiointikieli", "språk"),
    "unit": ("unit", "department", "yksikkö", "osasto", "enhet", "avdelning"),
    # The manager's id before the manager's name: exports often have both, and only ids may
    # travel to the workflows.
    "manager": (
        "manager id", "esihenkilön tunnus", "esihenkilön henkilönumero", "chefens id",
        "chefens anställningsnummer", "manager", "supervisor", "esihenkilö", "esimies", "chef",
        "närmaste chef",
    ),
    "expertise": ("expertise", "competences", "osaaminen", "osaamisalueet", "kompetens"),
    "goals": ("goals", "tavoitteet", "kehittymistavoitteet", "mål", "utvecklingsmål"),
    "capacity": ("capacity", "groups", "kapasiteetti", "ryhmiä", "kapacitet", "grupper"),
    "trained_on": (
        "trained on", "training completed", "mentor training", "koulutettu",
        "mentorikoulutus", "koulutus suoritettu", "utbildad", "mentorsutbildning",
    ),
}  # fmt: skip

VALUE_ALIASES: dict[ParticipantField, dict[str, str]] = {
    "role": {
        "mentor": "mentor", "mentori": "mentor", "ohjaaja": "mentor",
        "mentee": "mentee", "aktori": "mentee", "aktor": "mentee", "actor": "mentee",
        "ohjattava": "mentee", "adept": "mentee",
    },
    "locale": {
        "fi": "fi", "fin": "fi", "suomi": "fi", "finnish": "fi", "finska": "fi",
        "sv": "sv", "swe": "sv", "ruotsi": "sv", "svenska": "sv", "swedish": "sv",
        "en": "en", "eng": "en", "englanti": "en", "english": "en", "engelska": "en",
    },
}  # fmt: skip

REQUIRED: tuple[ParticipantField, ...] = ("id", "email", "role")
FIELD_LABELS: dict[str, str] = {
    "id": "the person's id",
    "name": "the name",
    "email": "the e-mail address",
    "role": "the role (mentor or mentee)",
}


def normal(text: str) -> str:
    """A header or value as compared: no case, accents kept, spaces and punctuation dropped."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFC", text).casefold())


@dataclass
class ColumnMap:
    """The field each header fills (by column index), and the headers not used."""

    fields: dict[int, ParticipantField] = field(default_factory=dict)
    headers: list[str] = field(default_factory=list)
    values: dict[ParticipantField, dict[str, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def header_of(self, name: str) -> str:
        """The export's header for field ``name`` (a name made of two columns: the first)."""
        for wanted in (name, "first_name") if name == "name" else (name,):
            for index, f in self.fields.items():
                if f == wanted:
                    return self.headers[index]
        return name

    def has(self, name: ParticipantField) -> bool:
        return name in self.fields.values()

    def ignored(self) -> list[str]:
        return [h for i, h in enumerate(self.headers) if i not in self.fields and h.strip()]

    def value(self, name: ParticipantField, text: str) -> str:
        """``text`` of field ``name`` in Mentorflow's terms (unchanged when no alias knows it)."""
        return self.values.get(name, {}).get(normal(text), text)


def map_columns(headers: list[str], columns: Mapping[ParticipantField, str | Column]) -> ColumnMap:
    """Find each field's column; problems name what could not be found or is found twice."""
    result = ColumnMap(headers=headers)
    wanted = {f: normal(c if isinstance(c, str) else c.column) for f, c in columns.items()}
    by_header: dict[str, int] = {}
    for position, header in enumerate(headers):
        if normal(header) in by_header and normal(header):
            result.problems.append(f"row 1: the column {header!r} appears twice")
        by_header.setdefault(normal(header), position)
    for name, column in columns.items():  # named columns first, then the built-in names
        index = by_header.get(wanted[name])
        if index is None:
            result.problems.append(_not_found(name, column, headers))
        elif index in result.fields:
            result.problems.append(
                f"columns: the column {headers[index]!r} is given for both"
                f" {result.fields[index]} and {name}"
            )
        else:
            result.fields[index] = name
    for name, aliases in HEADER_ALIASES.items():
        if name in wanted:
            continue
        found = [by_header[normal(a)] for a in aliases if normal(a) in by_header]
        free = [i for i in found if i not in result.fields]
        if free:
            result.fields[free[0]] = name
    _check_required(result)
    result.values = _values(columns)
    return result


def _not_found(name: str, column: str | Column, headers: list[str]) -> str:
    header = column if isinstance(column, str) else column.column
    return (
        f"columns: {name} is to come from the column {header!r}, which the file does not have"
        f" (its columns: {', '.join(map(repr, headers))})"
    )


def _check_required(result: ColumnMap) -> None:
    present = set(result.fields.values())
    missing: list[ParticipantField] = [f for f in REQUIRED if f not in present]
    if "name" not in present and not {"first_name", "last_name"} <= present:
        missing.insert(1, "name")
    for name in missing:
        examples = ", ".join(repr(a) for a in HEADER_ALIASES[name][:5])
        result.problems.append(
            f"row 1: no column for {FIELD_LABELS[name]} (looked for {examples} and others):"
            " name the column in a `columns:` section (in the programme file, or a file given"
            f" with --columns), e.g. `{name}: Your header`"
        )


def _values(
    columns: Mapping[ParticipantField, str | Column],
) -> dict[ParticipantField, dict[str, str]]:
    values = {f: dict(v) for f, v in VALUE_ALIASES.items()}
    for name, column in columns.items():
        if isinstance(column, Column):
            own = {normal(k): v for k, v in column.values.items()}
            values[name] = {**values.get(name, {}), **own}
    return values
