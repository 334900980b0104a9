"""The questions of a feedback round, and the checking of answers before the Update is sent."""

from dataclasses import dataclass

from mentorflow.web.i18n import N_

SCALE = ("1", "2", "3", "4", "5")


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    """``scale`` (1-5) or ``text``."""
    text: str
    required: bool
    hint: str = ""


QUESTIONS = (
    Question(
        "usefulness",
        "scale",
        N_("How useful has the mentoring been for you so far?"),
        True,
        N_("1 = not useful at all, 5 = very useful"),
    ),
    Question("went_well", "text", N_("What has gone well?"), True),
    Question("to_change", "text", N_("What would you like to change?"), False),
)
"""The default survey of both rounds (ids stay stable: they are the keys of stored answers)."""


def check(form: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(answers, errors by question id): answers only when there are no errors."""
    answers, errors = {}, {}
    for q in QUESTIONS:
        value = form.get(q.id, "").strip()
        if not value:
            if q.required:
                errors[q.id] = (
                    N_("Choose a number from 1 to 5.")
                    if q.kind == "scale"
                    else N_("Write an answer.")
                )
            continue
        if q.kind == "scale" and value not in SCALE:
            errors[q.id] = N_("Choose a number from 1 to 5.")
        elif len(value) > 4000:
            errors[q.id] = N_("Keep the answer under 4,000 characters.")
        else:
            answers[q.id] = value
    return (answers, {}) if not errors else ({}, errors)
