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


def test_the_kept_states_are_bounded_by_the_size_of_their_texts(monkeypatch):
    """The least recently used states go first once their texts pass TEXT_KEPT; a state whose
    text alone passes it is validated but not kept."""
    texts = [
        ProgrammeRun(pilot().model_copy(update={"id": f"p{n}"})).state.model_dump_json()
        for n in range(3)
    ]
    monkeypatch.setattr(views, "TEXT_KEPT", len(texts[0]) + len(texts[1]) + 10)
    monkeypatch.setattr(views, "_kept", views._Kept())
    kept = [views._validated(ProgrammeState, t) for t in texts[:2]]
    assert views._validated(ProgrammeState, texts[0]) is kept[0]  # p0 used since: p1 is oldest
    third = views._validated(ProgrammeState, texts[2])
    assert len(views._kept.states) == 2 and views._kept.size <= views.TEXT_KEPT
    assert views._validated(ProgrammeState, texts[0]) is kept[0]
    assert views._validated(ProgrammeState, texts[2]) is third
    assert views._validated(ProgrammeState, texts[1]) is not kept[1]  # dropped, validated anew
    assert date(2026, 9, 1) == kept[0].programme.starts_on

    monkeypatch.setattr(views, "TEXT_KEPT", len(texts[0]) - 1)
    monkeypatch.setattr(views, "_kept", views._Kept())
    big = views._validated(ProgrammeState, texts[0])
    assert big.programme.id == "p0" and views._kept.size == 0 and not views._kept.states
