"""Programme files and participant exports: the example loads; every bad file is named precisely."""

import json
from pathlib import Path

import pytest

from domain.model import Role
from domain.programme import ProgrammeFile
from mentorflow.programme_files import ProgrammeFileError, load_participants_csv, load_programme

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
            "programme.cadence: Value error, 'monthly' is not an ISO-8601 duration",
        ),
        (
            "email: emma.m@example.org",
            "email: emma-at-example",
            "participants[2] (id m2).email: value is not a valid email address",
        ),
        (
            "role: mentee, locale: fi, unit: it",
            "role: mentor-ish, locale: fi, unit: it",
            "participants[7] (id a3).role: Input should be 'mentor' or 'mentee'",
        ),
        (
            "timezone: Europe/Helsinki",
            "timezone: Europe/Hellsinki",
            "programme.timezone: Value error, unknown time zone 'Europe/Hellsinki'",
        ),
        ("deadline: 2020-08-31", "deadline: 2020-09-30", "must not be after matching.runs_on"),
        ("{id: a5,", "{id: a4,", "participant id 'a4' appears more than once"),
        ("  cadence: P1M", "  cadense: P1M", "programme.cadense: Extra inputs are not permitted"),
        (
            "approval: coordinator",
            "approval: sometimes",
            "programme.matching.approval: Input should be 'coordinator' or 'automatic'",
        ),
        (
            "feedback_late: 0.15",
            "feedback_late: 1.5",
            "behaviour.feedback_late: Input should be less than or equal to 1",
        ),
        (
            "action: withdraw,",
            "action: vanish,",
            "behaviour.script[1].action: Input should be 'record_agreement', 'record_meeting'",
        ),
        (
            "{date: 2021-02-10, person: a3,",
            "{person: a3,",
            "behaviour.script[1]: Value error, a scripted withdraw needs a date",
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
            "row 2, column role: Input should be 'mentor' or 'mentee'",
        ),
        (
            "x1,X,not-an-address,mentor,fi,,,,,,\n",
            "row 2, column email: value is not a valid email address",
        ),
        (
            "x1,X,x@example.org,mentor,fi,,,,,many,\n",
            "row 2, column capacity: Input should be a valid integer",
        ),
        ("x1,X,x@example.org,mentor,fi,,,,,,31.2.2020\n", "row 2, column trained_on"),
    ],
)
def test_a_bad_csv_row_is_refused_naming_row_and_column(tmp_path, rows, message):
    path = write(tmp_path, "people.csv", HEADER + rows)
    with pytest.raises(ProgrammeFileError) as refused:
        load_participants_csv(path)
    assert message in str(refused.value)


def test_a_csv_without_required_columns_is_refused(tmp_path):
    path = write(tmp_path, "people.csv", "id,name,mail,role\nx,X,x@example.org,mentor\n")
    with pytest.raises(ProgrammeFileError, match=r"missing column 'email' \(and 1 more\)"):
        load_participants_csv(path)


def test_csv_participants_replace_the_files_own_only_when_it_has_none(tmp_path):
    """A CSV given beside a file that lists participants is refused: which one counts is unclear."""
    people = write(tmp_path, "people.csv", HEADER + "x1,X,x@example.org,mentor,fi,,,,,,\n")
    with pytest.raises(ProgrammeFileError, match="lists participants and a CSV was given too"):
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
