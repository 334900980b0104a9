"""Participants from HR exports as real tools write them: every format gives the same people.

The files are written the way Excel, LibreOffice and HR systems write them (openpyxl for the
workbook; CSVs in each encoding and separator, with Finnish, Swedish or English headers), and
every malformed one is refused naming its row and column.
"""

import csv
import io
import json
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from domain.programme.model import Column
from mentorflow.cli import app
from mentorflow.csv_export import neutralise
from mentorflow.hr_import import MAX_BYTES, read_participants
from mentorflow.programme_files import ProgrammeFileError, load_participants

HEADERS = {
    "en": ["ID", "Name", "Email", "Role", "Language", "Department", "Manager", "Expertise",
           "Goals", "Capacity", "Trained on"],
    "fi": ["Henkilönumero", "Nimi", "Sähköposti", "Rooli", "Kieli", "Yksikkö", "Esihenkilö",
           "Osaaminen", "Tavoitteet", "Kapasiteetti", "Mentorikoulutus"],
    "sv": ["Anställningsnummer", "Namn", "E-post", "Roll", "Språk", "Avdelning", "Chef",
           "Kompetens", "Mål", "Kapacitet", "Utbildad"],
}  # fmt: skip
ROLES = {"en": ("Mentor", "Mentee"), "fi": ("mentori", "aktori"), "sv": ("mentor", "adept")}
LANGUAGES = {"en": ("Finnish", "Swedish"), "fi": ("suomi", "ruotsi"), "sv": ("finska", "svenska")}
PEOPLE = [
    # id, name, e-mail, mentor?, finnish?, unit, manager, expertise, goals, capacity, trained
    ("m1", "Hämäläinen Äijö", "aijo@example.org", True, True, "Talous", "boss1",
     "leadership; payroll", "", 2, date(2026, 5, 30)),
    ("m2", "Öberg Åsa", "asa@example.org", True, False, "Personal", "boss2", "automation", "", 1,
     None),
    ("a1", "Actor Üks", "uks@example.org", False, True, "IT", "boss1", "", "leadership", None,
     None),
    ("a2", "=HYPERLINK(\"http://x\",\"click\")", "a2@example.org", False, False, "IT", "m1", "",
     "payroll", None, None),
]  # fmt: skip


def rows(lang: str) -> list[list[object]]:
    """The export's rows as a spreadsheet holds them (numbers and dates as such)."""
    out: list[list[object]] = [list(HEADERS[lang])]
    for pid, name, email, mentor, finnish, unit, boss, exp, goals, cap, trained in PEOPLE:
        role = ROLES[lang][0 if mentor else 1]
        language = LANGUAGES[lang][0 if finnish else 1]
        out.append([pid, name, email, role, language, unit, boss, exp, goals, cap, trained])
    return out


def as_text(lang: str, separator: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    for row in rows(lang):
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()


def csv_file(tmp_path: Path, lang: str, separator: str, encoding: str) -> Path:
    path = tmp_path / f"people-{lang}-{encoding}.csv"
    path.write_bytes(as_text(lang, separator).encode(encoding))
    return path


def xlsx_file(tmp_path: Path, lang: str, sheet: str = "Henkilöstö") -> Path:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Ohje"
    ws["A1"] = "Instructions sheet: the data is on the next one"
    data = book.create_sheet(sheet)
    for row in rows(lang):
        data.append(row)
    path = tmp_path / f"people-{lang}.xlsx"
    book.save(path)
    return path


def expected() -> list[tuple[object, ...]]:
    return [
        ("m1", "Hämäläinen Äijö", "mentor", "fi", ("leadership", "payroll"), 2, "2026-05-30"),
        ("m2", "Öberg Åsa", "mentor", "sv", ("automation",), 1, None),
        ("a1", "Actor Üks", "mentee", "fi", (), 1, None),
        ("a2", '=HYPERLINK("http://x","click")', "mentee", "sv", (), 1, None),
    ]


def summary(path: Path, sheet: str | None = None) -> list[tuple[object, ...]]:
    found = read_participants(path, sheet=sheet)
    assert found.ok, [str(p) for p in found.problems]
    return [
        (
            p.id,
            p.name,
            p.role.value,
            p.locale.value,
            p.expertise,
            p.capacity,
            p.trained_on.isoformat() if p.trained_on else None,
        )
        for p in found.participants
    ]


@pytest.mark.parametrize(
    ("lang", "separator", "encoding", "described"),
    [
        ("en", ",", "utf-8", "CSV, UTF-8, comma-separated"),
        ("fi", ";", "utf-8-sig", "CSV, UTF-8 with BOM, semicolon-separated"),
        ("sv", "\t", "utf-16", "CSV, UTF-16, tab-separated"),
        ("fi", ";", "cp1252", "CSV, Windows-1252, semicolon-separated"),
        ("sv", ";", "cp1252", "CSV, Windows-1252, semicolon-separated"),
        ("en", "\t", "utf-16-le", "CSV, UTF-16, tab-separated"),
    ],
)
def test_every_csv_encoding_separator_and_language_gives_the_same_people(
    tmp_path, lang, separator, encoding, described
):
    """Excel's and HR systems' CSV variants are read to the same participants, format stated."""
    path = csv_file(tmp_path, lang, separator, encoding)
    assert summary(path) == expected()
    assert read_participants(path).format.describe() == described


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_an_excel_workbook_gives_the_same_people(tmp_path, lang):
    """A workbook made by openpyxl, data on a named sheet; numbers and dates are cells' values."""
    path = xlsx_file(tmp_path, lang)
    assert summary(path, sheet="Henkilöstö") == expected()
    found = read_participants(path, sheet="Henkilöstö")
    assert found.format.describe() == "Excel workbook, sheet 'Henkilöstö'"
    assert found.rows == {"m1": 2, "m2": 3, "a1": 4, "a2": 5}


def test_the_first_sheet_is_read_by_default_and_a_missing_sheet_is_named(tmp_path):
    book = Workbook()
    ws = book.active
    assert ws is not None
    for row in rows("fi"):
        ws.append(row)
    path = tmp_path / "first.xlsx"
    book.save(path)
    assert summary(path) == expected()
    found = read_participants(path, sheet="Data")
    assert [str(p) for p in found.problems] == ["has no sheet 'Data' (sheets: 'Sheet')"]


def test_a_formula_in_a_workbook_stays_text_and_is_neutralised_in_the_export(tmp_path):
    """A formula cell is read as its text, never computed; the CSV export defuses it."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    for row in rows("en"):
        ws.append(row)
    ws["B4"] = "=1+1"  # a real formula cell, as Excel stores one
    path = tmp_path / "formula.xlsx"
    book.save(path)
    names = [p.name for p in read_participants(path).participants]
    assert names[2] == "=1+1"
    result = CliRunner().invoke(
        app,
        ["programme", "check", "--participants", str(path), "--export", str(tmp_path / "o.csv")],
    )
    assert result.exit_code == 0, result.output
    exported = list(csv.reader(io.StringIO((tmp_path / "o.csv").read_text(encoding="utf-8"))))
    assert [r[1] for r in exported[1:]] == [
        "Hämäläinen Äijö",
        "Öberg Åsa",
        "'=1+1",
        '\'=HYPERLINK("http://x","click")',
    ]


@pytest.mark.parametrize("value", ["=1+1", "+358401234567", "-2", "@SUM(A1)", "\tx", "plain"])
def test_neutralise_prefixes_every_formula_start(value):
    assert neutralise(value) == (value if value == "plain" else "'" + value)


def test_a_column_mapping_names_unusual_headers_and_values(tmp_path):
    """`columns:` maps an export's own headers and values; the rest stays built in."""
    text = (
        "Työntekijä;Etunimi;Sukunimi;Työsähköposti;Tehtävä;Kieli;Kapasiteetti\n"
        "p1;Heidi;Mentor;heidi@example.org;Ohjaaja;suomi;1\n"
        "p2;Aku;Aktori;aku@example.org;Oppija;svenska;\n"
    )
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    columns = {
        "id": "Työntekijä",
        "email": "työsähköposti",
        "role": Column(column="Tehtävä", values={"Ohjaaja": "mentor", "Oppija": "mentee"}),
    }
    found = read_participants(path, columns)
    assert found.ok, [str(p) for p in found.problems]
    assert [(p.id, p.name, p.role.value, p.locale.value) for p in found.participants] == [
        ("p1", "Heidi Mentor", "mentor", "fi"),
        ("p2", "Aku Aktori", "mentee", "sv"),
    ]
    assert found.mapping["first_name"] == "Etunimi" and found.mapping["last_name"] == "Sukunimi"


def test_every_problem_is_reported_in_one_pass_by_row_and_column(tmp_path):
    """Duplicates, unknown managers, a mentor without capacity, bad cells: all of them at once."""
    text = (
        "Henkilönumero;Nimi;Sähköposti;Rooli;Kieli;Esihenkilö;Kapasiteetti;Mentorikoulutus\n"
        "m1;Heidi;heidi@example.org;mentori;suomi;boss@example.org;1;2026-05-30\n"
        "m2;Emma;Heidi@Example.org;mentori;svenska;heidi@example.org;;20.11.2026\n"
        "m1;Mikko;mikko@example.org;aktori;suomi;m1;;\n"
        "a2;Aino;aino@example.org;aktori;saksa;a2;;\n"
        "a3;;aino-at-example;esihenkilö;fi;;;\n"
    )
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    problems = [str(p) for p in read_participants(path).problems]
    assert problems == [
        "row 3, column 'Sähköposti': 'Heidi@Example.org' is also on row 2: each person once,"
        " please",
        "row 4, column 'Henkilönumero': 'm1' is also on row 2: each person once, please",
        "row 2, column 'Esihenkilö': 'boss@example.org' is not the e-mail address of anyone in"
        " the file: give the manager's id instead (any label shared by the people with the same"
        " manager will do)",
        "row 3, column 'Kapasiteetti': a mentor needs a capacity: how many groups they can take"
        " (1-5)",
        "row 3, column 'Mentorikoulutus': '20.11.2026' is not a date in the form needed:"
        " use YYYY-MM-DD (2026-11-20)",
        "row 4, column 'Esihenkilö': a person cannot be their own manager",
        "row 5, column 'Esihenkilö': a person cannot be their own manager",
        "row 5, column 'Kieli': 'saksa' is not allowed: use 'fi', 'sv' or 'en'",
        "row 6, column 'Rooli': 'esihenkilö' is not allowed: use 'mentor' or 'mentee'",
        "row 6, column 'Nimi': is empty: it is required",
        "row 6, column 'Sähköposti': 'aino-at-example' is not a valid e-mail address"
        " (An email address must have an @-sign.)",
    ]
    with pytest.raises(ProgrammeFileError, match=r"people.csv: row 3, .* \(and 10 more\)$"):
        load_participants(path)


def _ole(path: Path) -> Path:
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    return path


def _macro_workbook(tmp_path: Path) -> Path:
    path = xlsx_file(tmp_path, "fi")
    macro = tmp_path / "people.xlsm"
    macro.write_bytes(path.read_bytes())
    with zipfile.ZipFile(macro, "a") as z:
        z.writestr("xl/vbaProject.bin", b"\x00macro")
    return macro


def _big(path: Path) -> Path:
    with path.open("wb") as f:
        f.write(b"id,name,email,role\n")
        f.truncate(MAX_BYTES + 1)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda t: _ole(t / "locked.xlsx"), "is a password-protected workbook"),
        (lambda t: _ole(t / "old.xls"), "is an old Excel (.xls) or other Office file"),
        (_macro_workbook, "is a macro-enabled workbook, which is not accepted"),
        (lambda t: _big(t / "big.csv"), "the limit is 20 MB"),
        (
            lambda t: (t / "one.csv").write_text("id name email\n") and t / "one.csv",
            "row 1 has a single column",
        ),
        (lambda t: (t / "e.csv").write_text("") is not None and t / "e.csv", "is empty"),
        (
            lambda t: (t / "bin.csv").write_bytes(bytes(range(256)) * 4) and t / "bin.csv",
            "is not text in an encoding HR tools write",
        ),
        (
            lambda t: (t / "z.xlsx").write_bytes(_zip_without_workbook()) and t / "z.xlsx",
            "is a zip file but not an Excel workbook",
        ),
        (
            lambda t: (t / "w.csv").write_bytes(b"id;name\nx;\x81\x8d\n") and t / "w.csv",
            "is not text in an encoding HR tools write",
        ),
        (
            lambda t: (
                (t / "late.csv").write_bytes(
                    b"id;name;email;role\n" + b"x;y;z;w\n" * 70_000 + b"z;\xff\n"
                )
                and t / "late.csv"
            ),
            "row 70002, column 'name': not readable as UTF-8",
        ),
    ],
)
def test_what_is_not_an_export_is_refused_saying_what_to_do(tmp_path, make, message):
    found = read_participants(make(tmp_path))
    assert not found.ok and message in str(found.problems[0]), [str(p) for p in found.problems]


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("readme.txt", "hello")
    return buffer.getvalue()


def test_check_previews_what_it_understood(tmp_path):
    """`programme check --participants`: format, columns, counts, first rows; JSON the same."""
    path = csv_file(tmp_path, "fi", ";", "cp1252")
    runner = CliRunner()
    shown = runner.invoke(app, ["programme", "check", "--participants", str(path)])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0] == f"{path}: CSV, Windows-1252, semicolon-separated"
    assert lines[1].startswith("columns: id <- 'Henkilönumero', name <- 'Nimi'")
    assert lines[2] == "4 participants: 2 mentors, 2 mentees; languages: fi 2, sv 2"
    assert lines[4] == "  row 2  m1  Hämäläinen Äijö  mentor  fi  Talous  boss1"
    machine = runner.invoke(app, ["programme", "check", "--participants", str(path), "--json"])
    data = json.loads(machine.stdout)
    assert data["format"] == {
        "kind": "csv",
        "encoding": "Windows-1252",
        "separator": "semicolon",
        "sheet": None,
    }
    assert data["counts"] == {"role": {"mentor": 2, "mentee": 2}, "locale": {"fi": 2, "sv": 2}}
    assert data["problems"] == [] and data["participants"] == 4


def test_the_managers_id_column_wins_over_the_managers_name(tmp_path):
    """Both columns exported: the id is used; a name in the manager column is refused."""
    path = tmp_path / "people.csv"
    path.write_text(
        "ID;Nimi;Sähköposti;Rooli;Esihenkilö;Esihenkilön tunnus\n"
        "a1;Aku;aku@example.org;aktori;Virtanen Matti;e100\n",
        encoding="utf-8",
    )
    found = read_participants(path)
    assert found.mapping["manager"] == "Esihenkilön tunnus" and found.ignored == ["Esihenkilö"]
    assert found.participants[0].manager == "e100"
    path.write_text(
        "ID;Nimi;Sähköposti;Rooli;Esihenkilö\na1;Aku;aku@example.org;aktori;Virtanen Matti\n",
        encoding="utf-8",
    )
    assert [str(p) for p in read_participants(path).problems] == [
        "row 2, column 'Esihenkilö': 'Virtanen Matti' is not an id: give the manager's id"
        " (letters, digits, '.', '_', '-'), not a name, which must not reach the workflows"
    ]


def test_what_the_export_leaves_out_is_said(tmp_path):
    """Without capacity or language columns the defaults are stated; --sheet on a CSV refused."""
    path = tmp_path / "people.csv"
    path.write_text("id,name,email,role\nx1,X,x@example.org,mentor\n")
    found = read_participants(path)
    assert found.ok and found.notes == [
        "no capacity column: every mentor takes one group",
        "no language column: everyone gets letters in English",
    ]
    refused = read_participants(path, sheet="Sheet1")
    assert [str(p) for p in refused.problems] == [
        "is a CSV file, which has no sheets: leave out --sheet"
    ]


def test_check_lists_every_problem_and_exits_1(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("id,name,email,role\nx1,X,x@example.org,boss\nx1,Y,y@example.org,mentee\n")
    runner = CliRunner()
    shown = runner.invoke(app, ["programme", "check", "--participants", str(path)])
    assert shown.exit_code == 1
    assert shown.stdout.splitlines()[-3:] == [
        "problems (2):",
        "  row 3, column 'id': 'x1' is also on row 2: each person once, please",
        "  row 2, column 'role': 'boss' is not allowed: use 'mentor' or 'mentee'",
    ]
    assert shown.stderr == (
        f"mentorflow: {path}: row 3, column 'id': 'x1' is also on row 2: each person once,"
        " please (and 1 more)\n"
    )
    machine = runner.invoke(app, ["programme", "check", "--participants", str(path), "--json"])
    assert machine.exit_code == 1
    assert json.loads(machine.stdout)["problems"][1] == {
        "row": 2,
        "column": "role",
        "message": "'boss' is not allowed: use 'mentor' or 'mentee'",
    }


def test_the_programme_files_columns_section_is_used(tmp_path):
    """`programme check FILE --participants X`: the file's `columns:` maps the export."""
    example = Path(__file__).parent.parent / "examples" / "palkeet-pilot.yaml"
    text = example.read_text().split("\nparticipants:")[0]
    text += "\ncolumns:\n  email: Työposti\n"
    programme = tmp_path / "programme.yaml"
    programme.write_text(text, encoding="utf-8")
    people = tmp_path / "people.csv"
    people.write_text("ID;Nimi;Työposti;Rooli\nx1;X;x@example.org;aktori\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["programme", "check", str(programme), "--participants", str(people), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["programme"], data["mentees"], data["mapping"]["email"]) == (
        "pilot-2020",
        1,
        "Työposti",
    )


def test_datetime_cells_and_whole_numbers_read_as_people_see_them(tmp_path):
    """A date-time cell at midnight is a date; 2.0 is 2 (what a spreadsheet shows)."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["id", "name", "email", "role", "capacity", "trained_on"])
    ws.append([1001, "X", "x@example.org", "mentor", 2.0, datetime(2026, 5, 30)])
    path = tmp_path / "n.xlsx"
    book.save(path)
    (p,) = read_participants(path).participants
    assert (p.id, p.capacity, p.trained_on) == ("1001", 2, date(2026, 5, 30))


ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
IMPORTING = README.split("### Importing participants")[1].split("\n## ")[0]


def test_the_example_exports_import_to_the_pilots_participants():
    """examples/henkilosto.csv and deltagare.xlsx are the people of palkeet-pilot.yaml."""
    from mentorflow.programme_files import load_columns, load_programme

    pilot = list(load_programme(ROOT / "examples" / "palkeet-pilot.yaml").participants)
    raw = (ROOT / "examples" / "henkilosto.csv").read_bytes()
    assert b"\r\n" in raw and raw.decode("cp1252").startswith("Henkilönumero;Nimi;")
    assert load_participants(ROOT / "examples" / "henkilosto.csv") == pilot
    columns = load_columns(ROOT / "examples" / "deltagare-columns.yaml")
    workbook = ROOT / "examples" / "deltagare.xlsx"
    assert load_participants(workbook, columns, sheet="Deltagare") == pilot


def test_the_example_exports_are_what_the_generator_writes(tmp_path):
    """The committed files are the script's output (the workbook compared by content)."""
    import runpy

    from openpyxl import load_workbook

    script = runpy.run_path(str(ROOT / "examples" / "make_hr_exports.py"))
    assert script["finnish_csv"]() == (ROOT / "examples" / "henkilosto.csv").read_bytes()
    script["swedish_workbook"](tmp_path / "new.xlsx")
    committed, new = (
        [list(ws.iter_rows(values_only=True)) for ws in load_workbook(p).worksheets]
        for p in (ROOT / "examples" / "deltagare.xlsx", tmp_path / "new.xlsx")
    )
    assert committed == new


def test_the_readme_walk_through_runs_as_shown(tmp_path):
    """The README's import commands run from the project root and print what it shows."""
    import subprocess
    import sys

    block = IMPORTING.split("```sh\n")[1].split("```")[0]
    commands = [line.split() for line in block.splitlines() if line.startswith("mentorflow ")]
    assert len(commands) == 2
    mentorflow = str(Path(sys.executable).parent / "mentorflow")
    outputs = []
    for command in commands:
        done = subprocess.run(
            [mentorflow, *command[1:]], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    shown = IMPORTING.split("```text\n")[1].split("```")[0].splitlines()
    assert outputs[0].splitlines()[: len(shown) - 1] == shown[:-1] and shown[-1] == "  ..."
    assert "9 participants: 4 mentors, 5 mentees" in outputs[1]

    broken = tmp_path / "henkilosto.csv"
    extra = "a6;Actor Six;a1@example.org;Aktori;suomi;it;boss4;;;;;vakituinen\r\n"
    broken.write_bytes((ROOT / "examples" / "henkilosto.csv").read_bytes() + extra.encode("cp1252"))
    done = subprocess.run(
        [mentorflow, "programme", "check", "--participants", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    quoted = " ".join(IMPORTING.split("Actor One's address: `")[1].split("`")[0].split())
    assert done.returncode == 1 and f"  {quoted}" in done.stdout.splitlines()
