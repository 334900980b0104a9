"""The staff overviews validate each projected state once per distinct JSON text (no database)."""

from datetime import date

from domain.programme.state import ProgrammeState
from mentorflow.web.staff import views
from tests.test_programme_rules import ProgrammeRun, pilot


def test_a_state_is_validated_once_per_text_and_anew_when_its_text_changes():
    run = ProgrammeRun(pilot())
    before = run.state.model_dump_json()
    first = views._validated(ProgrammeState, before)
    assert views._validated(ProgrammeState, before) is first  # kept: not validated again
    assert first == run.state

    run.run_until(run.state.calendar.matching_at)  # the programme moves on: new text
    after = run.state.model_dump_json()
    assert after != before
    moved = views._validated(ProgrammeState, after)
    assert moved is not first and moved == run.state and moved.phase != first.phase
    assert views._validated(ProgrammeState, before) is first


def test_the_kept_states_are_bounded(monkeypatch):
    monkeypatch.setattr(views, "STATES_KEPT", 2)
    monkeypatch.setattr(views, "_kept", type(views._kept)())
    texts = [
        ProgrammeRun(pilot().model_copy(update={"id": f"p{n}"})).state.model_dump_json()
        for n in range(3)
    ]
    kept = [views._validated(ProgrammeState, t) for t in texts]
    assert len(views._kept) == 2
    assert views._validated(ProgrammeState, texts[0]) is not kept[0]  # the oldest was dropped
    assert date(2026, 9, 1) == kept[0].programme.starts_on
