"""A mentoring programme (cohort) as HR defines it, and the people taking part.

These models are the contract of the programme file (``programme:`` and ``participants:`` of a
YAML file, or participants from a CSV export); their JSON Schema is published for people to
validate their files. Every field has the meaning documented here; unknown fields are refused.
"""

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from domain.durations import IsoDuration
from domain.feedback import FeedbackQuestions
from domain.model import Frozen, Id, Role
from domain.policy import RelationshipPolicy
from domain.text import Storable

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Storable
]
Competence = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=100),
    Storable,
]


class Locale(StrEnum):
    FI = "fi"
    SV = "sv"
    EN = "en"


class Conflict(StrEnum):
    """Conflict-of-interest rules for matching (a mentor is never the mentee's own manager)."""

    SAME_MANAGER = "same_manager"
    """A mentor and a mentee who report to the same manager are never matched."""
    SAME_UNIT = "same_unit"
    """A mentor and a mentee from the same unit are never matched."""


def _contact_required(schema: dict[str, Any]) -> None:
    """A programme file gives the coordinator's name and address (``ProgrammeFile`` checks)."""
    schema["required"] = ["id", "name", "email"]
    for field in ("name", "email"):
        prop = schema["properties"][field]
        prop.update(prop.pop("anyOf")[0])
        prop.pop("default", None)


class Coordinator(Frozen):
    """The programme's coordinator, who gets escalations and replies.

    The name and e-mail address go to the directory only: workflows and events carry the id.
    """

    # Workflow inputs and events hold ``reference()``; inputs recorded before still hold them.
    model_config = ConfigDict(json_schema_extra=_contact_required)
    id: Id
    name: Name | None = None
    email: EmailStr | None = None
    locale: Locale = Locale.EN

    def reference(self) -> "Coordinator":
        """The coordinator without contact details: what travels in workflows and events."""
        return Coordinator(id=self.id, locale=self.locale)


class Profile(Frozen):
    """What the programme needs to know of a participant: no name, no address.

    Workflows carry profiles only, so that contact details never enter Temporal's histories.
    """

    id: Id
    role: Role
    locale: Locale = Locale.EN
    unit: Name | None = None
    manager: Id | None = None
    expertise: tuple[Competence, ...] = Field((), max_length=50)
    """What a mentor can offer (competences, matched against mentees' goals)."""
    goals: tuple[Competence, ...] = Field((), max_length=50)
    """What a mentee wants to develop."""
    capacity: int = Field(1, ge=1, le=5)
    """How many groups a mentor can take part in."""
    trained_on: date | None = None
    """When a mentor completed mentor training (none: not trained yet)."""


class Participant(Profile):
    """One row of the HR export: a profile with a name and an e-mail address."""

    name: Name
    email: EmailStr

    def profile(self) -> Profile:
        return Profile.model_validate(self.model_dump(exclude={"name", "email"}))


class Range(Frozen):
    min: int = Field(ge=1)
    max: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class GroupShape(Frozen):
    mentors: int = Field(2, ge=1, le=2)
    """Mentors per group: 2 (small groups) or 1 (pairs)."""
    mentees: Range = Range(min=2, max=3)


class Training(Frozen):
    required: bool = True
    deadline: date


class Matching(Frozen):
    runs_on: date
    approval: Literal["coordinator", "automatic"] = "coordinator"
    approval_window: IsoDuration = "P7D"
    avoid: tuple[Conflict, ...] = (Conflict.SAME_MANAGER,)


class Agreement(Frozen):
    due: IsoDuration = "P30D"


class MidpointRound(Frozen):
    at: float = Field(0.5, gt=0, lt=1)
    window: IsoDuration = "P14D"


class FinalRound(Frozen):
    window: IsoDuration = "P14D"


class Feedback(Frozen):
    midpoint: MidpointRound = MidpointRound()
    final: FinalRound = FinalRound()
    questions: FeedbackQuestions = FeedbackQuestions()
    """The questions of each round (``midpoint:``, ``final:``); a round not given asks the
    default survey (``domain.feedback``)."""


class Escalation(Frozen):
    overdue_after: IsoDuration = "P7D"
    inactive_after_missed_meetings: int = Field(2, ge=1)


class Closing(Frozen):
    event_on: date | None = None


class Retention(Frozen):
    personal_data: IsoDuration = "P2Y"
    """How long after the programme closes its people's personal data is kept: then the
    retention schedule erases it (as ``mentorflow privacy erase``), unless the person is in a
    programme still open or still within its own retention."""


class Programme(Frozen):
    id: Id
    name: Name
    timezone: str = "Europe/Helsinki"
    starts_on: date
    ends_on: date
    coordinator: Coordinator
    group_shape: GroupShape = GroupShape()
    cadence: IsoDuration = "P1M"
    meeting_length: IsoDuration = "PT1H30M"
    preparation_reminder: IsoDuration = "P3D"
    training: Training
    matching: Matching
    agreement: Agreement = Agreement()
    feedback: Feedback = Feedback()
    reminders: tuple[IsoDuration, ...] = ("P3D", "P1D")
    max_pause: IsoDuration = "P60D"
    """A group paused for longer than this is escalated to the coordinator."""
    escalation: Escalation = Escalation()
    closing: Closing = Closing()
    retention: Retention = Retention()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Helsinki)") from e
        return value

    @model_validator(mode="after")
    def _calendar(self) -> Self:
        if self.ends_on <= self.starts_on:
            raise ValueError(f"ends_on ({self.ends_on}) must be after starts_on ({self.starts_on})")
        if self.matching.runs_on >= self.ends_on:
            raise ValueError(f"matching.runs_on ({self.matching.runs_on}) must be before ends_on")
        if self.training.deadline > self.matching.runs_on:
            raise ValueError(
                f"training.deadline ({self.training.deadline}) must not be after"
                f" matching.runs_on ({self.matching.runs_on}): untrained mentors are excluded then"
            )
        if (
            self.closing.event_on is not None
            and not self.starts_on <= self.closing.event_on <= self.ends_on
        ):
            raise ValueError(
                f"closing.event_on ({self.closing.event_on}) must fall within the programme"
            )
        return self

    def relationship_policy(self) -> RelationshipPolicy:
        """The rules every group of this programme runs by."""
        return RelationshipPolicy(
            cadence=self.cadence,
            meeting_length=self.meeting_length,
            preparation_reminder=self.preparation_reminder,
            agreement_due=self.agreement.due,
            midpoint_at=self.feedback.midpoint.at,
            midpoint_window=self.feedback.midpoint.window,
            final_window=self.feedback.final.window,
            reminders=self.reminders,
            overdue_after=self.escalation.overdue_after,
            inactive_after_missed_meetings=self.escalation.inactive_after_missed_meetings,
            max_pause=self.max_pause,
            # A group goes on with one mentor, but not with fewer mentees than its shape's minimum.
            min_mentors=1,
            min_mentees=self.group_shape.mentees.min,
            max_mentors=self.group_shape.mentors,
            max_mentees=self.group_shape.mentees.max,
            feedback_questions=self.feedback.questions,
        )


ParticipantField = Literal[
    "id", "name", "first_name", "last_name", "email", "role", "locale", "unit", "manager",
    "expertise", "goals", "capacity", "trained_on",
]  # fmt: skip
"""The fields an HR export's columns can fill (``first_name`` + ``last_name`` make ``name``)."""


class Column(Frozen):
    """One column of an HR export, and what its values mean in Mentorflow's terms."""

    column: Name
    """The column's header in the export, as written there."""
    values: dict[str, str] = {}
    """The export's values and what they are here, e.g. ``{Ohjaaja: mentor, Oppija: mentee}``."""
