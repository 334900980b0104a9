"""The questions of a feedback round as a form, and the checking of answers before the Update.

The questions are the relationship's own (from the programme file, in its policy); a group started
before programmes had questions is asked the default survey. The form is checked with the same
domain function the workflow runs, so what this page accepts the relationship accepts.
"""

from domain.feedback import SCALE, FeedbackQuestions, Question, problems
from domain.relationship.state import RelationshipState
from domain.text import MAX_TEXT, storable
from mentorflow.web.i18n import N_

__all__ = ["SCALE", "check", "questions_of"]

_CHOOSE_NUMBER = N_("Choose a number from 1 to 5.")
_CHOOSE_OPTION = N_("Choose one of the options.")
_WRITE = N_("Write an answer.")
_TOO_LONG = N_("Keep the answer under 4,000 characters.")
_UNSTORABLE = N_("The answer contains a character that cannot be recorded.")
_NOTHING = N_("Answer at least one question.")


def questions_of(state: RelationshipState, feedback_round: str) -> tuple[Question, ...]:
    return (state.policy.feedback_questions or FeedbackQuestions()).of(feedback_round)


def _message(q: Question, code: str) -> str:
    if code == "out_of_scale" or (code == "missing_answer" and q.type == "scale"):
        return _CHOOSE_NUMBER
    if code == "unknown_option" or (code == "missing_answer" and q.type == "choice"):
        return _CHOOSE_OPTION
    return _WRITE


def check(
    questions: tuple[Question, ...], form: dict[str, str]
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(text answers, scale and choice answers, errors by question id); answers only if no error."""
    answers: dict[str, str] = {}
    choices: dict[str, str] = {}
    errors: dict[str, str] = {}
    for q in questions:
        value = form.get(q.id, "").strip()
        if not value:
            continue
        if len(value) > MAX_TEXT:
            errors[q.id] = _TOO_LONG
            continue
        try:
            storable(value)
        except ValueError:
            errors[q.id] = _UNSTORABLE
            continue
        (choices if q.coded else answers)[q.id] = value
    by_id = {q.id: q for q in questions}
    for key, problem in problems(questions, answers, choices).items():
        errors.setdefault(key, _message(by_id[key], problem.code))
    if not errors and not answers and not choices and questions:
        errors[questions[0].id] = _NOTHING  # every question optional, none answered
    # In the order of the questions, so that the error summary reads like the form.
    errors = {q.id: errors[q.id] for q in questions if q.id in errors}
    return (answers, choices, {}) if not errors else ({}, {}, errors)
