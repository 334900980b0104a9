"""The rules a relationship runs by: cadence, deadlines, reminders, escalation thresholds.

Every duration is ISO-8601 (``P1M``, ``P14D``, ``PT30S``), so the same policy can run for a year in
production and in seconds in a test.
"""

from typing import Self

from pydantic import Field, model_validator

from domain.durations import IsoDuration
from domain.feedback import FeedbackQuestions
from domain.model import Frozen


class RelationshipPolicy(Frozen):
    """How one mentoring group is driven. Defaults follow the palkeet pilot programme."""

    cadence: IsoDuration = "P1M"
    """One group meeting per cadence; meeting n is due at start + n x cadence."""
    meeting_length: IsoDuration = "PT1H30M"
    preparation_reminder: IsoDuration = "P3D"
    """Mentors are reminded to prepare this long before a meeting is due."""
    meeting_record_grace: IsoDuration = "P7D"
    """A meeting may still be recorded this long after its due date; then it counts as missed."""
    agreement_due: IsoDuration = "P30D"
    """The group agreement and goals are due this long after the start."""
    midpoint_at: float = Field(0.5, gt=0, lt=1)
    """The midpoint feedback round opens at this fraction of the relationship's length."""
    midpoint_window: IsoDuration = "P14D"
    final_window: IsoDuration = "P14D"
    reminders: tuple[IsoDuration, ...] = ("P3D", "P1D")
    """Before every deadline, a reminder this long before it, to whoever has not acted."""
    overdue_after: IsoDuration = "P7D"
    """A deadline missed by this long is escalated to the coordinator."""
    inactive_after_missed_meetings: int = Field(2, ge=1)
    """This many missed meetings in a row mark the group at risk and escalate."""
    max_pause: IsoDuration = "P60D"
    """A pause longer than this is escalated to the coordinator (rules 2)."""
    min_mentors: int = Field(1, ge=1)
    min_mentees: int = Field(1, ge=1)
    """Below this shape (after withdrawals) the group is dissolved."""
    max_mentors: int | None = Field(None, ge=1)
    max_mentees: int | None = Field(None, ge=1)
    """At most this many of each role: the coordinator cannot add a member beyond it (none: no
    maximum, as in groups started before the maximum was carried)."""
    feedback_questions: FeedbackQuestions | None = None
    """The questions of the feedback rounds, which answers must fit; none (groups started before
    programmes had questions): answers are recorded as they come."""

    @model_validator(mode="after")
    def _distinct_reminders(self) -> Self:
        if len(set(self.reminders)) != len(self.reminders):
            raise ValueError("reminders must be distinct offsets")
        return self

    @model_validator(mode="after")
    def _maximum_at_least_minimum(self) -> Self:
        for most, least in (
            (self.max_mentors, self.min_mentors),
            (self.max_mentees, self.min_mentees),
        ):
            if most is not None and most < least:
                raise ValueError("a maximum of a role must be at least its minimum")
        return self
