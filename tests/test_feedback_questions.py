"""Feedback questions from the programme file, and answers checked against them in the domain."""

import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from domain.errors import RuleViolation
from domain.feedback import DEFAULT_FINAL, DEFAULT_MIDPOINT, FeedbackQuestions
from domain.policy import RelationshipPolicy
from domain.programme.model import Feedback, Programme
from domain.relationship.commands import SubmitFeedback
from domain.relationship.events import FeedbackRound
from domain.summary import add_up, summarise
from mentorflow.programme_files import ProgrammeFile
from mentorflow.web import feedback as web_feedback
from tests.test_domain import Clock

EXAMPLE = Path(__file__).parent.parent / "examples" / "palkeet-pilot.yaml"

QUESTIONS = """
midpoint:
  - {id: useful, type: scale, text: {fi: Hyödyllinen, sv: Nyttig, en: Useful},
     labels: {1: {fi: Ei lainkaan, sv: Inte alls, en: Not at all},
              5: {fi: Paljon, sv: Mycket, en: Much}}}
  - id: pace
    type: choice
    text: Pace
    options: [{id: slow, text: Slow}, {id: fast, text: Fast}]
  - {id: note, type: text, text: Anything else, required: false}
"""


def _programme(questions: str | None) -> Programme:
    data = yaml.safe_load(EXAMPLE.read_text())
    if questions is not None:
        data["programme"]["feedback"]["questions"] = yaml.safe_load(questions)
    return ProgrammeFile.model_validate(data).programme


def test_a_programme_without_questions_asks_the_default_surveys():
    """The example file says nothing about questions: every group gets the default surveys."""
    questions = _programme(None).relationship_policy().feedback_questions
    assert questions is not None
    assert (questions.midpoint, questions.final) == (DEFAULT_MIDPOINT, DEFAULT_FINAL)
    types = {q.type for q in (*DEFAULT_MIDPOINT, *DEFAULT_FINAL)}
    assert types == {"scale", "choice", "text"}
    for q in (*DEFAULT_MIDPOINT, *DEFAULT_FINAL):
        assert len({q.text.fi, q.text.sv, q.text.en}) == 3, q.id  # really translated


def test_the_file_questions_reach_the_relationship_policy():
    """A plain string is the same text in every language; a round not given keeps the default."""
    questions = _programme(QUESTIONS).relationship_policy().feedback_questions
    assert questions is not None
    assert [q.id for q in questions.midpoint] == ["useful", "pace", "note"]
    assert questions.midpoint[1].text.sv == "Pace"
    assert questions.midpoint[0].labels[5].fi == "Paljon"
    assert questions.final == DEFAULT_FINAL


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        ("midpoint: [{id: a, type: choice, text: A, options: [{id: x, text: X}]}]", "two options"),
        ("midpoint: [{id: a, type: text, text: A, labels: {1: L}}]", "only a scale"),
        ("midpoint: [{id: a, type: scale, text: A, labels: {6: L}}]", "less than or equal to 5"),
        ("midpoint: [{id: a, type: text, text: A}, {id: a, type: text, text: B}]", "distinct"),
        ("midpoint: [{id: A B, type: text, text: A}]", "pattern"),
        ("midpoint: [{id: a, type: stars, text: A}]", "'scale', 'choice' or 'text'"),
        ("midpoint: []", "at least 1"),
        ("midpoint: [{id: a, type: text, text: {fi: A, sv: B}}]", "en"),
    ],
)
def test_questions_that_cannot_be_asked_are_refused_with_the_reason(questions, message):
    """A question file error names what is wrong; nothing starts."""
    with pytest.raises(ValidationError, match=message):
        _programme(questions)


DEFAULTS = FeedbackQuestions()


def _opened(questions: FeedbackQuestions | None = DEFAULTS) -> Clock:
    clock = Clock(RelationshipPolicy(feedback_questions=questions))
    clock.run_until(clock.state.feedback[FeedbackRound.MIDPOINT].opens_at)
    return clock


TEXT = {"went_well": "much"}
GOOD = {"choices": {"usefulness": "4", "rhythm": "right"}, "answers": {"went_well": "much"}}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"choices": {"rhythm": "right"}}, "missing_answer"),
        ({"answers": {}}, "missing_answer"),
        ({"choices": {"usefulness": "6", "rhythm": "right"}}, "out_of_scale"),
        ({"choices": {"usefulness": "0", "rhythm": "right"}}, "out_of_scale"),
        ({"choices": {"usefulness": "4", "rhythm": "sometimes"}}, "unknown_option"),
        ({"answers": {"went_well": "much", "colour": "blue"}}, "unknown_question"),
        ({"answers": {"went_well": "much", "rhythm": "right"}}, "wrong_answer_type"),
    ],
)
def test_answers_that_do_not_fit_the_questions_are_refused(change, code):
    """The relationship refuses a feedback that does not fit its questions, and says why."""
    clock = _opened()
    command = SubmitFeedback(by="a1", round="midpoint", **(GOOD | change))
    with pytest.raises(RuleViolation) as refused:
        clock.act(clock.state.feedback[FeedbackRound.MIDPOINT].opens_at, command)
    assert refused.value.code == code
    assert "a1" not in clock.state.feedback[FeedbackRound.MIDPOINT].answers


def test_answers_that_fit_are_recorded_codes_apart_from_text():
    """Scale and choice answers are recorded as codes, text answers as text; optional ones may
    be left out."""
    clock = _opened()
    at = clock.state.feedback[FeedbackRound.MIDPOINT].opens_at
    clock.act(at, SubmitFeedback(by="a1", round="midpoint", **GOOD))
    [submitted] = [e for e in clock.events if e.type == "feedback_submitted"]
    assert (submitted.choices, submitted.answers) == (GOOD["choices"], GOOD["answers"])
    recorded = clock.state.feedback[FeedbackRound.MIDPOINT].answers["a1"]
    assert recorded.choices == GOOD["choices"]


def test_groups_started_before_questions_record_answers_as_they_come():
    """A relationship whose start holds no questions (recorded before them) checks none."""
    clock = _opened(None)
    at = clock.state.feedback[FeedbackRound.MIDPOINT].opens_at
    clock.act(at, SubmitFeedback(by="a1", round="midpoint", answers={"useful": "yes"}))
    assert clock.state.feedback[FeedbackRound.MIDPOINT].answers["a1"].answers == {"useful": "yes"}


def test_a_feedback_without_any_answer_is_refused_at_the_door():
    """No answers and no choices is not a feedback."""
    with pytest.raises(ValidationError, match="at least one answer"):
        SubmitFeedback(by="a1", round="midpoint")


def test_the_report_shows_how_many_answered_each_number_over_three_people_or_more():
    """Scale answers are counted per round and question; fewer than three answers are not shown
    (they could be told apart)."""
    clock = _opened()
    at = clock.state.feedback[FeedbackRound.MIDPOINT].opens_at
    for person, value in (("a1", "4"), ("a2", "4"), ("m1", "2")):
        choices = {"usefulness": value, "rhythm": "right"}
        clock.act(at, SubmitFeedback(by=person, round="midpoint", choices=choices, answers=TEXT))
    three = add_up([summarise(clock.events)[1]])["scales"]
    assert three == {"midpoint": {"usefulness": {"1": 0, "2": 1, "3": 0, "4": 2, "5": 0}}}
    two = add_up([summarise(clock.events[:-1])[1]])["scales"]
    assert two == {}


def test_the_readme_example_of_questions_is_a_valid_programme_file_part():
    """The README's `feedback.questions` example is what a programme file may say."""
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = re.search(r"```yaml\n(  feedback:\n.*?)```", readme, re.S)
    assert block is not None
    feedback = Feedback.model_validate(yaml.safe_load(block.group(1))["feedback"])
    assert [q.type for q in feedback.questions.midpoint] == ["scale", "choice", "text"]
    assert feedback.questions.final == DEFAULT_FINAL


def test_scale_and_choice_answers_are_bounded_codes_not_free_text():
    """At most 20 coded answers, each a short code: a long text is refused at the door."""
    with pytest.raises(ValidationError, match="at most 20"):
        SubmitFeedback(by="a1", round="midpoint", choices={f"q{i}": "1" for i in range(21)})
    with pytest.raises(ValidationError, match="at most 40 characters"):
        SubmitFeedback(by="a1", round="midpoint", choices={"usefulness": "x" * 41})


def test_the_page_checks_a_form_as_the_group_would_and_never_sends_an_empty_feedback():
    """The web form's check: codes apart from text, errors by question, and a survey of optional
    questions left blank is an error at its first question (not an empty command)."""
    answers, choices, errors = web_feedback.check(
        DEFAULT_MIDPOINT, {"usefulness": "5", "rhythm": "right", "went_well": " ok ", "x": "y"}
    )
    assert (answers, choices, errors) == (
        {"went_well": "ok"},
        GOOD["choices"] | {"usefulness": "5"},
        {},
    )
    _, _, errors = web_feedback.check(DEFAULT_MIDPOINT, {"usefulness": "0", "went_well": "\x00"})
    assert list(errors) == ["usefulness", "rhythm", "went_well"]
    optional = tuple(q.model_copy(update={"required": False}) for q in DEFAULT_MIDPOINT)
    assert web_feedback.check(optional, {}) == (
        {},
        {},
        {"usefulness": "Answer at least one question."},
    )
