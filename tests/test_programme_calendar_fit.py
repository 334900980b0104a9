"""A programme whose groups could not run is refused before it starts, and at approval.

With the default policy a group shorter than about 84 days cannot hold its agreement and
feedback windows; such a group used to be launched (``relationship_launched`` recorded) and then
fail at its start with ``invalid_calendar``. Now ``programme check``, ``programme start`` (and
``simulate``) refuse the programme with the reason, and an approval that comes too late for the
groups to fit is refused, so no group is launched that cannot run.
"""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from domain.calendar import calendar
from domain.errors import RuleViolation
from domain.programme.commands import (
    ApproveMatching,
    decide,
    earliest_launch,
    group_calendar_problem,
)
from domain.programme.model import Matching
from mentorflow.cli import app
from mentorflow.programmes import ProgrammeError, prepare
from tests.test_programme_rules import ProgrammeRun, pilot

EXAMPLE = Path(__file__).parent.parent / "examples" / "palkeet-pilot.yaml"


def short_file(tmp_path: Path, starts: date, ends: date) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text())
    p = data["programme"]
    p.update(starts_on=starts.isoformat(), ends_on=ends.isoformat())
    p["training"]["deadline"] = starts.isoformat()
    p["matching"]["runs_on"] = starts.isoformat()
    p.get("closing", {}).pop("event_on", None)
    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_sixty_day_programme_is_refused_by_check_and_start_with_the_reason(tmp_path):
    """60 days with the default policy: one line naming the conflict; nothing starts."""
    path = short_file(tmp_path, date(2031, 3, 1), date(2031, 4, 30))
    checked = CliRunner().invoke(app, ["programme", "check", str(path)])
    assert checked.exit_code == 1
    assert checked.stderr.count("\n") == 1
    assert "cannot run" in checked.stderr and "too short for its policy" in checked.stderr
    with pytest.raises(ProgrammeError) as refused:
        prepare(path, None, now=datetime(2030, 1, 1, tzinfo=UTC))
    assert "too short for its policy" in str(refused.value)
    # A year fits: the same file with a later end passes both.
    fits = short_file(tmp_path, date(2031, 3, 1), date(2032, 2, 28))
    assert CliRunner().invoke(app, ["programme", "check", str(fits)]).exit_code == 0
    assert prepare(fits, None, now=datetime(2030, 1, 1, tzinfo=UTC)).request


def test_an_approval_too_late_for_the_groups_to_fit_is_refused():
    """Approved three weeks before the end: refused as invalid_calendar, nothing recorded."""
    run = ProgrammeRun(pilot())
    late = datetime(2027, 5, 10, tzinfo=UTC)
    run.run_until(datetime(2026, 9, 2, tzinfo=UTC))
    assert run.state.phase == "approval"
    with pytest.raises(RuleViolation) as refused:
        decide(run.state, ApproveMatching(by="hr1"), run.factory(late, actor="hr1"))
    assert refused.value.code == "invalid_calendar"
    on_time = decide(
        run.state, ApproveMatching(by="hr1"), run.factory(datetime(2026, 9, 3, tzinfo=UTC), "hr1")
    )
    assert [e.type for e in on_time] == ["matching_approved", "programme_phase_entered"]


def test_the_pilot_fits_from_its_earliest_launch():
    """The worked example's groups fit from the day they can first be launched."""
    p = pilot()
    cal = calendar(p)
    assert group_calendar_problem(p, cal, earliest_launch(cal)) is None


def test_automatic_approval_never_launches_groups_that_cannot_run():
    """Matching a month before the end (a file `start` would refuse): not approved by itself."""
    late = pilot(approval="automatic").model_copy(
        update={"matching": Matching(runs_on=date(2027, 5, 1), approval="automatic")}
    )
    run = ProgrammeRun(late)
    run.run_until(datetime(2027, 5, 2, tzinfo=UTC))
    assert run.state.phase == "approval" and run.state.approved is None
    assert [e.type for e in run.events].count("matching_approved") == 0


def test_a_programme_may_start_on_its_first_local_day_but_not_after_it(tmp_path):
    """Starting on 1 March in Helsinki: accepted all that day (its midnight has passed), refused
    once 2 March has begun there, although it is still 1 March in UTC."""
    path = short_file(tmp_path, date(2031, 3, 1), date(2032, 2, 28))
    assert prepare(path, None, now=datetime(2031, 3, 1, 9, 0, tzinfo=UTC)).request
    with pytest.raises(ProgrammeError) as refused:
        prepare(path, None, now=datetime(2031, 3, 1, 22, 30, tzinfo=UTC))
    assert "starts on 2031-03-01, which is in the past" in str(refused.value)
