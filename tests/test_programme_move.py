"""`mentorflow programme move`: a past programme file, every date moved alike, ready to start."""

from datetime import UTC, date, datetime
from pathlib import Path

from typer.testing import CliRunner

from mentorflow.cli import app
from mentorflow.programme_files import load_programme
from mentorflow.programmes import prepare

EXAMPLE = Path(__file__).parent.parent / "examples" / "palkeet-pilot.yaml"
MOVE = ("programme", "move", str(EXAMPLE))


def test_every_date_of_the_example_moves_by_the_same_days_and_it_can_start(tmp_path):
    out = tmp_path / "pilot-2027.yaml"
    moved = CliRunner().invoke(
        app,
        [*MOVE, "--starts-on", "2027-01-11", "--id", "pilot-2027", "--output", str(out)],
    )
    assert moved.exit_code == 0, moved.output
    before, after = load_programme(EXAMPLE), load_programme(out)
    by = date(2027, 1, 11) - date(2020, 9, 1)
    ends = date(2021, 11, 30) + by  # 2028-04-10: the days between the dates are kept, leap day too
    assert moved.stdout == f"wrote {out}: pilot-2027 from 2027-01-11 to {ends}\n"

    def dates(f):
        p = f.programme
        calendar = [p.starts_on, p.ends_on, p.training.deadline, p.matching.runs_on]
        return [*calendar, p.closing.event_on, *(x.trained_on for x in f.participants)]

    assert [d and d + by for d in dates(before)] == dates(after)
    assert [s.date for s in after.behaviour.script] == [
        s.date and s.date + by for s in before.behaviour.script
    ]
    assert after.programme.id == "pilot-2027" and after.participants == tuple(
        p.model_copy(update={"trained_on": p.trained_on and p.trained_on + by})
        for p in before.participants
    )
    the_day_before = datetime(2027, 1, 10, 12, tzinfo=UTC)
    assert prepare(out, None, now=the_day_before).request.programme.id == "pilot-2027"


def test_a_bad_day_or_id_is_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "moved.yaml"
    example = EXAMPLE.read_bytes()
    runner = CliRunner()
    day = runner.invoke(app, [*MOVE, "--starts-on", "11.1.2027"])
    assert day.exit_code == 1 and day.stdout == ""
    assert (
        day.stderr == "mentorflow: --starts-on '11.1.2027' is not a date in the form YYYY-MM-DD\n"
    )
    bad_id = runner.invoke(
        app,
        [*MOVE, "--starts-on", "2027-01-11", "--id", "pilot 2027", "--output", str(out)],
    )
    assert bad_id.exit_code == 1 and bad_id.stderr.count("\n") == 1
    assert "once moved: programme.id" in bad_id.stderr and not out.exists()
    assert EXAMPLE.read_bytes() == example  # a move writes only its output
