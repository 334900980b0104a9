"""The questions of the feedback rounds, and the checking of answers against them.

A programme file may give its own questions (``feedback.questions``); without them every group
asks the default midpoint and final surveys below. The questions travel to each relationship in its
policy (ids and the programme file's texts, no personal data), so that the relationship refuses
answers that do not fit them before anything is recorded. Scale and choice answers are codes
(``"1"``..``"5"``, an option's id); only text answers are free text.
"""

from typing import Annotated, Any, Literal, Self

from pydantic import BeforeValidator, Field, StringConstraints, model_validator

from domain.errors import RuleViolation
from domain.model import Frozen
from domain.text import Storable

SCALE = ("1", "2", "3", "4", "5")
"""The values of a ``scale`` answer."""

MAX_QUESTIONS = 20
"""Questions in one round (the answers of a feedback are bounded by the same number)."""

QuestionId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
"""A question's or an option's key: what stored answers are keyed by, so never renamed."""

Label = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), Storable
]


def _same_in_every_language(value: Any) -> Any:
    return {"fi": value, "sv": value, "en": value} if isinstance(value, str) else value


class Texts(Frozen):
    """One text in the three languages of the product (a plain string is used for all three)."""

    fi: Label
    sv: Label
    en: Label

    def get(self, locale: str) -> str:
        text: str = getattr(self, locale, self.en) if locale in ("fi", "sv", "en") else self.en
        return text


Localised = Annotated[Texts, BeforeValidator(_same_in_every_language)]


class Option(Frozen):
    id: QuestionId
    text: Localised


class Question(Frozen):
    """One question: ``scale`` (1-5, optional labels), ``choice`` (options) or ``text``."""

    id: QuestionId
    type: Literal["scale", "choice", "text"]
    text: Localised
    required: bool = True
    hint: Localised | None = None
    labels: dict[Annotated[int, Field(ge=1, le=5)], Localised] = {}
    """Scale only: what some of the numbers mean, e.g. ``{1: Not at all, 5: Very much}``."""
    options: tuple[Option, ...] = Field((), max_length=MAX_QUESTIONS)
    """Choice only: at least two, distinct ids."""

    @model_validator(mode="after")
    def _fits_its_type(self) -> Self:
        if self.labels and self.type != "scale":
            raise ValueError(f"question {self.id!r}: only a scale question has labels")
        if self.type == "choice":
            ids = [o.id for o in self.options]
            if len(ids) < 2:
                raise ValueError(f"question {self.id!r}: a choice needs at least two options")
            if len(set(ids)) != len(ids):
                raise ValueError(f"question {self.id!r}: option ids must be distinct")
        elif self.options:
            raise ValueError(f"question {self.id!r}: only a choice question has options")
        return self

    @property
    def coded(self) -> bool:
        """Answered with a code (a number or an option), not with free text."""
        return self.type != "text"

    def allows(self, value: str) -> bool:
        if self.type == "scale":
            return value in SCALE
        return any(o.id == value for o in self.options)


def _text(fi: str, sv: str, en: str) -> Texts:
    return Texts(fi=fi, sv=sv, en=en)


_USEFUL = {
    1: _text("Ei lainkaan hyödyllinen", "Inte alls nyttig", "Not useful at all"),
    5: _text("Erittäin hyödyllinen", "Mycket nyttig", "Very useful"),
}

DEFAULT_MIDPOINT: tuple[Question, ...] = (
    Question(
        id="usefulness",
        type="scale",
        text=_text(
            "Kuinka hyödyllistä mentorointi on ollut sinulle tähän mennessä?",
            "Hur nyttig har mentorskapet varit för dig hittills?",
            "How useful has the mentoring been for you so far?",
        ),
        labels=_USEFUL,
    ),
    Question(
        id="rhythm",
        type="choice",
        text=_text(
            "Miten tapaamisten tahti on sopinut sinulle?",
            "Hur har mötesrytmen passat dig?",
            "How has the pace of the meetings suited you?",
        ),
        options=(
            Option(id="too_often", text=_text("Liian tiheä", "För tät", "Too frequent")),
            Option(id="right", text=_text("Sopiva", "Lagom", "About right")),
            Option(id="too_rarely", text=_text("Liian harva", "För gles", "Too infrequent")),
        ),
    ),
    Question(
        id="went_well",
        type="text",
        text=_text("Mikä on sujunut hyvin?", "Vad har gått bra?", "What has gone well?"),
    ),
    Question(
        id="to_change",
        type="text",
        required=False,
        text=_text(
            "Mitä haluaisit muuttaa?",
            "Vad skulle du vilja ändra?",
            "What would you like to change?",
        ),
    ),
)
"""The midpoint survey when the programme file gives none."""

DEFAULT_FINAL: tuple[Question, ...] = (
    Question(
        id="usefulness",
        type="scale",
        text=_text(
            "Kuinka hyödyllistä mentorointi oli sinulle kaiken kaikkiaan?",
            "Hur nyttigt var mentorskapet för dig som helhet?",
            "How useful was the mentoring for you overall?",
        ),
        labels=_USEFUL,
    ),
    Question(
        id="goals_met",
        type="scale",
        text=_text(
            "Miten hyvin ryhmän sopimuksen tavoitteet saavutettiin?",
            "Hur väl nåddes målen i gruppens överenskommelse?",
            "How well were the goals of your group agreement reached?",
        ),
        labels={
            1: _text("Ei lainkaan", "Inte alls", "Not at all"),
            5: _text("Täysin", "Helt och hållet", "Fully"),
        },
    ),
    Question(
        id="recommend",
        type="choice",
        text=_text(
            "Suosittelisitko ohjelmaa kollegallesi?",
            "Skulle du rekommendera programmet till en kollega?",
            "Would you recommend the programme to a colleague?",
        ),
        options=(
            Option(id="yes", text=_text("Kyllä", "Ja", "Yes")),
            Option(id="maybe", text=_text("Ehkä", "Kanske", "Maybe")),
            Option(id="no", text=_text("En", "Nej", "No")),
        ),
    ),
    Question(
        id="learned",
        type="text",
        text=_text(
            "Mikä oli tärkein asia, jonka opit tai sait?",
            "Vad var det viktigaste du lärde dig eller fick?",
            "What was the most important thing you learned or gained?",
        ),
    ),
    Question(
        id="to_change",
        type="text",
        required=False,
        text=_text(
            "Mitä seuraavan ohjelman pitäisi tehdä toisin?",
            "Vad borde nästa program göra annorlunda?",
            "What should the next programme do differently?",
        ),
    ),
)
"""The final survey when the programme file gives none."""

Round = Annotated[tuple[Question, ...], Field(min_length=1, max_length=MAX_QUESTIONS)]


class FeedbackQuestions(Frozen):
    """The questions of each round (``feedback.questions`` of a programme file)."""

    midpoint: Round = DEFAULT_MIDPOINT
    final: Round = DEFAULT_FINAL

    @model_validator(mode="after")
    def _distinct_ids(self) -> Self:
        for name, questions in (("midpoint", self.midpoint), ("final", self.final)):
            ids = [q.id for q in questions]
            if len(set(ids)) != len(ids):
                raise ValueError(f"{name}: question ids must be distinct")
        return self

    def of(self, feedback_round: str) -> tuple[Question, ...]:
        return self.midpoint if feedback_round == "midpoint" else self.final


def problems(
    questions: tuple[Question, ...], answers: dict[str, str], choices: dict[str, str]
) -> dict[str, RuleViolation]:
    """What is wrong with a feedback, by question id (empty: it fits the questions).

    ``answers`` holds the text answers, ``choices`` the scale and choice answers.
    """
    found: dict[str, RuleViolation] = {}
    by_id = {q.id: q for q in questions}
    for key in (*answers, *choices):
        if key not in by_id:
            found[key] = RuleViolation("unknown_question", f"there is no question {key!r}")
    for q in questions:
        given, wrong_place = (choices, answers) if q.coded else (answers, choices)
        if q.id in wrong_place:
            found[q.id] = RuleViolation(
                "wrong_answer_type", f"question {q.id!r} is answered with a {q.type}"
            )
        elif q.id not in given:
            if q.required:
                found[q.id] = RuleViolation("missing_answer", f"question {q.id!r} needs an answer")
        elif q.coded and not q.allows(given[q.id]):
            found[q.id] = (
                RuleViolation("out_of_scale", f"question {q.id!r} takes a number from 1 to 5")
                if q.type == "scale"
                else RuleViolation("unknown_option", f"question {q.id!r} has no such option")
            )
    return found


def check(
    questions: tuple[Question, ...], answers: dict[str, str], choices: dict[str, str]
) -> None:
    """Raise the first problem of a feedback as a :class:`RuleViolation`."""
    for problem in problems(questions, answers, choices).values():
        raise problem
