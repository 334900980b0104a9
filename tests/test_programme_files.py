"""Programme files and participant exports: the example loads; every bad file is named precisely."""

import json
from pathlib import Path

import pytest

from domain.model import Role
from mentorflow.programme_files import (
    ProgrammeFile,
    ProgrammeFileError,
    load_participants_csv,
    load_programme,
)

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "palkeet-pilot.yaml"
SCHEMA = ROOT / "docs" / "programme.schema.json"

HEADER = "id,name,email,role,locale,unit,manager,expertise,goals,capacity,trained_on\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def example_with(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text()
    assert old in text
    return write(tmp_path, "programme.yaml", text.replace(old, new, 1))


def test_the_example_programme_loads_with_its_people_and_policy():
    """The worked example is a valid programme: 4 mentors, 5 mentees, a monthly policy."""
    loaded = load_programme(EXAMPLE)
    roles = [p.role for p in loaded.participants]
    assert (roles.count(Role.MENTOR), roles.count(Role.MENTEE)) == (4, 5)
    assert loaded.participants[3].trained_on is None  # m4 is not trained
    policy = loaded.programme.relationship_policy()
    assert (policy.cadence, policy.min_mentees, policy.overdue_after) == ("P1M", 2, "P7D")
    assert loaded.behaviour is not None and loaded.behaviour.seed == 2020


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "cadence: P1M",
            "cadence: monthly",
            "programme.cadence: 'monthly' is not an ISO-8601 duration (e.g. P1M, P14D, PT1H30M)",
        ),
        (
            "email: emma.m@example.org",
            "email: emma-at-example",
            "participants[2] (id m2).email: 'emma-at-example' is not a valid e-mail address",
        ),
        (
            "role: mentee, locale: fi, unit: it",
            "role: mentor-ish, locale: fi, unit: it",
            "participants[7] (id a3).role: 'mentor-ish' is not allowed: use 'mentor' or 'mentee'",
        ),
        (
            "timezone: Europe/Helsinki",
            "timezone: Europe/Hellsinki",
            "programme.timezone: unknown time zone 'Europe/Hellsinki' (e.g. Europe/Helsinki)",
        ),
        ("deadline: 2020-08-31", "deadline: 2020-09-30", "must not be after matching.runs_on"),
        (
            "starts_on: 2020-09-01",
            "starts_on: 1.9.2020",
            "programme.starts_on: '1.9.2020' is not a date in the form needed:"
            " use YYYY-MM-DD (2020-09-01)",
        ),
        (
            "id: pilot-2020",
            "id: pilot 2020",
            "programme.id: 'pilot 2020' is not allowed: use letters a-z, digits, '.', '_' or '-'",
        ),
        (
            "capacity: 1, trained_on: 2020-05-30",
            "capacity: 9, trained_on: 2020-05-30",
            "participants[1] (id m1).capacity: 9 is too large: the most allowed is 5",
        ),
        ("training:", "trainings:", "programme.training: is required"),
        (
            "  cadence: P1M",
            "  rhythm: P1M",
            "programme.rhythm: is not a known field here; allowed: id, name, timezone, starts_on,",
        ),
        ("{id: a5,", "{id: a4,", ".yaml: participant id 'a4' appears more than once"),
        (
            "  cadence: P1M",
            "  cadense: P1M",
            "programme.cadense: is not a known field: did you mean 'cadence'?",
        ),
        (
            "approval: coordinator",
            "approval: sometimes",
            "programme.matching.approval: 'sometimes' is not allowed:"
            " use 'coordinator' or 'automatic'",
        ),
        (
            "feedback_late: 0.15",
            "feedback_late: 1.5",
            "behaviour.feedback_late: 1.5 is too large: the most allowed is 1",
        ),
        (
            "action: withdraw,",
            "action: vanish,",
            "behaviour.script[1].action: 'vanish' is not allowed: use 'record_agreement',"
            " 'record_meeting', 'submit_feedback', 'withdraw', 'pause', 'resume', 'skip_feedback',"
            " 'approve_matching', 'mark_trained', 'remove', 'erase_personal_data',"
            " 'schedule_meeting', 'cancel_meeting' or 'add_agenda_item'",
        ),
        (
            "{date: 2021-02-10, person: a3,",
            "{person: a3,",
            "behaviour.script[1]: a scripted withdraw needs a date",
        ),
        (
            "feedback_on_time: 0.8",
            "feedback_on_time: 0.9",
            "feedback_on_time + feedback_late must not exceed 1",
        ),
    ],
)
def test_a_bad_programme_file_is_refused_naming_the_field(tmp_path, old, new, message):
    """Each mistake is refused with the file, the field (and the person's row) and the problem."""
    path = example_with(tmp_path, old, new)
    with pytest.raises(ProgrammeFileError) as refused:
        load_programme(path)
    assert str(refused.value).startswith(f"{path}: ")
    assert message in str(refused.value)
    for pydantic_phrase in ("Value error", "Input should", "should match pattern", "Extra inputs"):
        assert not any(pydantic_phrase in p for p in refused.value.problems)


def test_a_bad_columns_section_names_the_field_not_pydantics_union_members(tmp_path):
    """`columns:` mistakes read as the file is written: no `Column`, `constrained-str`, `[key]`."""
    from mentorflow.programme_files import load_columns

    path = write(tmp_path, "columns.yaml", "columns:\n  role: {colum: X}\n  nimi: Y\n")
    with pytest.raises(ProgrammeFileError) as refused:
        load_columns(path)
    assert refused.value.problems == [
        "columns.role.column: is required",
        "columns.role.colum: is not a known field: did you mean 'column'?",
        "columns.nimi: 'nimi' is not allowed: use 'id', 'name', 'first_name', 'last_name',"
        " 'email', 'role', 'locale', 'unit', 'manager', 'expertise', 'goals', 'capacity' or"
        " 'trained_on'",
    ]


def test_yaml_syntax_errors_name_the_line(tmp_path):
    """Broken YAML is refused with its line and column."""
    path = write(tmp_path, "broken.yaml", "programme:\n  id: x\n  name: [unclosed\n")
    with pytest.raises(ProgrammeFileError, match=r"line \d+, column \d+: not valid YAML"):
        load_programme(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ProgrammeFileError, match="cannot read: No such file"):
        load_programme(tmp_path / "nope.yaml")


def test_participants_from_a_csv_export(tmp_path):
    """The HR export: `;`-separated competences, empty cells as absent values."""
    csv_path = write(
        tmp_path,
        "people.csv",
        HEADER
        + "m9,Mia Mentor,mia@example.org,mentor,sv,finance,boss9,payroll; leadership ,,2,2020-06-01"
        + "\n"
        + "a9,Aku Mentee,aku@example.org,mentee,fi,it,boss8,,automation,,\n",
    )
    mentor, mentee = load_participants_csv(csv_path)
    assert (mentor.expertise, mentor.capacity, mentor.trained_on.isoformat()) == (
        ("payroll", "leadership"),
        2,
        "2020-06-01",
    )
    assert (mentee.goals, mentee.trained_on, mentee.capacity) == (("automation",), None, 1)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            "x1,X,x@example.org,boss,fi,,,,,,\n",
            "row 2, column 'role': 'boss' is not allowed: use 'mentor' or 'mentee'",
        ),
        (
            "x1,X,not-an-address,mentee,fi,,,,,,\n",
            "row 2, column 'email': 'not-an-address' is not a valid e-mail address",
        ),
        (
            "x1,X,x@example.org,mentor,fi,,,,,many,\n",
            "row 2, column 'capacity': 'many' is not a whole number",
        ),
        (
            "x1,X,x@example.org,mentee,fi,,,,,,31.2.2020\n",
            "row 2, column 'trained_on': '31.2.2020' is not a date in the form needed:"
            " use YYYY-MM-DD",
        ),
        (
            "x1,X,x@example.org,mentee,fi,,,,,,20.11.2026\n",
            "row 2, column 'trained_on': '20.11.2026' is not a date in the form needed:"
            " use YYYY-MM-DD (2026-11-20)",
        ),
        (
            "x 1,X,x@example.org,mentee,fi,,,,,,\n",
            "row 2, column 'id': 'x 1' is not allowed: use letters a-z, digits, '.', '_' or '-'",
        ),
    ],
)
def test_a_bad_csv_row_is_refused_naming_row_and_column(tmp_path, rows, message):
    """Each refusal names the row as the spreadsheet counts it, the column, and what is allowed."""
    path = write(tmp_path, "people.csv", HEADER + rows)
    with pytest.raises(ProgrammeFileError) as refused:
        load_participants_csv(path)
    assert message in str(refused.value)
    assert "Value error" not in str(refused.value) and "should match pattern" not in str(
        refused.value
    )


def test_a_csv_without_required_columns_is_refused(tmp_path):
    path = write(tmp_path, "people.csv", "id,name,mejl,role\nx,X,x@example.org,mentor\n")
    with pytest.raises(ProgrammeFileError, match=r"row 1: no column for the e-mail address"):
        load_participants_csv(path)


def test_csv_participants_replace_the_files_own_only_when_it_has_none(tmp_path):
    """A CSV given beside a file that lists participants is refused: which one counts is unclear."""
    people = write(tmp_path, "people.csv", HEADER + "x1,X,x@example.org,mentor,fi,,,,,1,\n")
    with pytest.raises(ProgrammeFileError, match="lists participants and an export was given too"):
        load_programme(EXAMPLE, people)
    text = EXAMPLE.read_text().split("\nparticipants:")[0]
    bare = write(tmp_path, "bare.yaml", text)
    assert [p.id for p in load_programme(bare, people).participants] == ["x1"]


def test_the_published_json_schema_is_the_models_schema():
    """docs/programme.schema.json is generated from the models (`mentorflow programme schema`)."""
    assert json.loads(SCHEMA.read_text()) == ProgrammeFile.model_json_schema()


def test_programme_check_command_reports_ok_or_one_line_and_exit_1(tmp_path):
    """`programme check`: a summary for a good file; one line and exit 1 for a bad one."""
    from typer.testing import CliRunner

    from mentorflow.cli import app

    runner = CliRunner()
    good = runner.invoke(app, ["programme", "check", str(EXAMPLE), "--json"])
    assert good.exit_code == 0, good.output
    assert json.loads(good.stdout) == {
        "programme": "pilot-2020",
        "starts_on": "2020-09-01",
        "ends_on": "2021-11-30",
        "mentors": 4,
        "trained_mentors": 3,
        "mentees": 5,
    }
    bad = runner.invoke(app, ["programme", "check", str(example_with(tmp_path, "P1M", "1M"))])
    assert bad.exit_code == 1
    assert bad.stderr.count("\n") == 1 and "programme.cadence" in bad.stderr
