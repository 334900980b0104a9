"""How simulated people behave (the ``behaviour:`` section of a scenario file).

Probabilities decide, with a seed, who trains in time, which meetings happen and who attends,
who answers feedback on time, late or never; the ``script`` overrides chance with exact actions.
Simulated people act only through the Updates real people use.
"""

import datetime as dt
from typing import Literal, Self

from pydantic import Field, model_validator

from domain.durations import IsoDuration
from domain.model import Frozen, Id
from domain.relationship.commands import MAX_MINUTES, MIN_MINUTES
from domain.relationship.events import FeedbackRound

Probability = float


class ScriptedAction(Frozen):
    """One exact action of a person, on a date, with its data: handled exactly as the real one.

    A member acts in their own group; the coordinator acts in the group of ``member``. An action
    the rules refuse (a person no longer in a group, a duplicate, a closed round) is refused with
    its reason and counted in the report's ``actions`` by that reason, as a person would see it.
    ``skip_feedback`` (no date) means the person never answers that round.
    """

    person: Id
    """Who acts: a participant, or the programme's coordinator."""
    action: Literal[
        "record_agreement",
        "record_meeting",
        "submit_feedback",
        "withdraw",
        "pause",
        "resume",
        "skip_feedback",
        "approve_matching",
        "mark_trained",
        "remove",
        "erase_personal_data",
        "schedule_meeting",
        "cancel_meeting",
        "add_agenda_item",
    ]
    date: dt.date | None = Field(None, description="The day the person acts (the scenario's date).")
    member: Id | None = Field(
        None,
        description="The coordinator's actions: the member withdrawn, removed or marked trained,"
        " or whose group is paused, resumed or recorded for; erase_personal_data: the person"
        " erased (`mentorflow privacy erase`, by `person`). Default: the person.",
    )
    reason: str | None = Field(
        None,
        description="withdraw, pause, remove, approve_matching, erase_personal_data;"
        " record_meeting not held.",
    )
    round: FeedbackRound | None = Field(None, description="submit_feedback, skip_feedback.")
    text: str | None = Field(
        None, description="record_agreement: the agreement; add_agenda_item: the item."
    )
    goals: tuple[str, ...] = Field((), description="record_agreement: the group's goals.")
    held_on: dt.date | None = Field(
        None, description="record_meeting: the day it was held (default: the action's date)."
    )
    held: bool = Field(True, description="record_meeting: false when it did not take place.")
    attendees: tuple[Id, ...] = Field(
        (), description="record_meeting: who attended (default: the person)."
    )
    answers: dict[str, str] = Field(
        default_factory=dict, description="submit_feedback: answers by question."
    )
    trained_on: dt.date | None = Field(
        None, description="mark_trained: the day training was completed (default: the date)."
    )
    meeting_on: dt.date | None = Field(
        None, description="schedule_meeting: the meeting's day (default: a week after the date)."
    )
    starts: dt.time | None = Field(
        None,
        description="schedule_meeting: its local start time in the programme's zone"
        " (default 17:00).",
    )
    minutes: int | None = Field(
        None,
        ge=MIN_MINUTES,
        le=MAX_MINUTES,
        description="schedule_meeting: its length (default: the policy's).",
    )
    place: str | None = Field(
        None, description="schedule_meeting: where, or a video link (default: scripted)."
    )
    number: int | None = Field(
        None,
        description="schedule_meeting, cancel_meeting: which meeting (default: the next open).",
    )

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.action == "skip_feedback":
            if self.round is None:
                raise ValueError("a scripted skip_feedback needs a round (midpoint or final)")
            return self
        if self.date is None:
            raise ValueError(f"a scripted {self.action} needs a date")
        if self.action in ("submit_feedback",) and self.round is None:
            raise ValueError("a scripted submit_feedback needs a round (midpoint or final)")
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
