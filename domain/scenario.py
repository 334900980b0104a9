"""How simulated people behave (the ``behaviour:`` section of a scenario file).

Probabilities decide, with a seed, who trains in time, which meetings happen and who attends,
who answers feedback on time, late or never; the ``script`` overrides chance with exact actions.
Simulated people act only through the Updates real people use.
"""

import datetime as dt
from typing import Literal, Self

from pydantic import Field, model_validator

from domain.durations import IsoDuration
from domain.events import FeedbackRound
from domain.model import Frozen, Id

Probability = float


class ScriptedAction(Frozen):
    """An exact action: ``withdraw`` on a date (with a reason), or ``skip_feedback`` of a round."""

    person: Id
    action: Literal["withdraw", "skip_feedback"]
    date: dt.date | None = None
    reason: str | None = None
    round: FeedbackRound | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.action == "withdraw" and self.date is None:
            raise ValueError("a scripted withdraw needs a date")
        if self.action == "skip_feedback" and self.round is None:
            raise ValueError("a scripted skip_feedback needs a round (midpoint or final)")
        return self


class Behaviour(Frozen):
    seed: int = 0
    training_completion: Probability = Field(0.9, ge=0, le=1)
    """Chance an untrained mentor completes training before the deadline."""
    agreement_on_time: Probability = Field(0.9, ge=0, le=1)
    """Chance a group records its agreement before it is due (otherwise never)."""
    meeting_attendance: Probability = Field(0.9, ge=0, le=1)
    meeting_held: Probability = Field(0.95, ge=0, le=1)
    feedback_on_time: Probability = Field(0.8, ge=0, le=1)
    feedback_late: Probability = Field(0.15, ge=0, le=1)
    """Answers after the deadline, before the escalation; the rest never answer."""
    coordinator_approval_delay: IsoDuration = "P2D"
    script: tuple[ScriptedAction, ...] = ()

    @model_validator(mode="after")
    def _shares(self) -> Self:
        if self.feedback_on_time + self.feedback_late > 1:
            raise ValueError("feedback_on_time + feedback_late must not exceed 1")
        return self
