"""The programme report names its rounds, questions and escalation kinds as a reader reads them."""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain.feedback import FeedbackQuestions
from domain.policy import RelationshipPolicy
from domain.relationship.events import FeedbackRequested, FeedbackRound, FeedbackSubmitted
from domain.relationship.fold import fold
from mentorflow.web.i18n import Translations
from mentorflow.web.staff.report import Names, report_of
from tests.staff_helpers import relationship_started

HELSINKI = "Europe/Helsinki"


def test_the_report_names_rounds_and_questions_in_the_readers_language():
    """A round asked of five with one answer so far: its scale question is withheld, named by
    its own text in Finnish (not ``midpoint/usefulness``); a round not asked withholds nothing."""
    starts = datetime(2026, 3, 20, 9, tzinfo=ZoneInfo(HELSINKI))
    started = relationship_started("fin:1", "fin", starts).model_copy(
        update={"policy": RelationshipPolicy(feedback_questions=FeedbackQuestions())}
    )
    asked = FeedbackRequested(
        event_id=uuid.uuid4(),
        occurred_at=starts + timedelta(days=150),
        actor="system",
        recipients=started.recipients,
        round=FeedbackRound.MIDPOINT,
        due_at=starts + timedelta(days=164),
    )
    answered = FeedbackSubmitted(
        event_id=uuid.uuid4(),
        occurred_at=starts + timedelta(days=151),
        actor="a1",
        round=FeedbackRound.MIDPOINT,
        answers={},
        choices={"usefulness": "4", "rhythm": "right"},
        late=False,
    )
    report = report_of("fin", HELSINKI, [fold([started, asked, answered])])
    assert report.withheld == ["midpoint/usefulness"]  # the final round was not asked
    finnish = Translations()
    names = Names(report, "fi", lambda message: finnish.gettext("fi", message))
    assert names.withheld("midpoint/usefulness") == (
        "Väliarviointi: Kuinka hyödyllistä mentorointi on ollut sinulle tähän mennessä?"
    )
    assert names.withheld("final") == "Loppuarviointi"
    assert (
        names.kind("inactive")
        == finnish.gettext("fi", "Meetings not held")
        != ("Meetings not held")
    )
