"""The record's codes that pages show, as words a reader understands (translated where shown).

Phases, outcomes and roles are stored as codes (``first_half``, ``dissolved``); a page prints
``{{ _(code|label) }}``. A code this table does not know is shown as it is.
"""

from domain.envelope import Outcome
from domain.model import Role
from domain.programme.events import ProgrammePhase
from domain.relationship.events import Phase
from mentorflow.web.i18n import N_

LABELS: dict[str, str] = {
    ProgrammePhase.ENROLMENT: N_("enrolment"),
    ProgrammePhase.MATCHING: N_("matching"),
    ProgrammePhase.APPROVAL: N_("waiting for approval"),
    ProgrammePhase.RUNNING: N_("groups running"),
    ProgrammePhase.CLOSED: N_("closed"),
    Phase.KICKOFF: N_("getting started"),
    Phase.FIRST_HALF: N_("first half"),
    Phase.SECOND_HALF: N_("second half"),
    Phase.FINAL_FEEDBACK: N_("final feedback"),
    Outcome.COMPLETED: N_("completed"),
    Outcome.DISSOLVED: N_("dissolved"),
    Role.MENTOR: N_("mentor"),
    Role.MENTEE: N_("mentee"),
}


def label(code: object) -> str:
    """The English words for ``code`` (a phase, outcome or role), to be translated."""
    return LABELS.get(str(code), str(code))
