"""Every phase, outcome and role a page shows has words, in Finnish and Swedish too."""

import pytest

from domain.envelope import Outcome
from domain.model import Role
from domain.programme.events import ProgrammePhase
from domain.relationship.events import Phase
from mentorflow.web.i18n import Translations
from mentorflow.web.labels import label


@pytest.mark.parametrize("code", [*ProgrammePhase, *Phase, *Outcome, *Role])
def test_every_code_a_page_shows_reads_as_words_in_each_language(code):
    words = label(code)
    assert "_" not in words  # first_half is "first half"
    catalogues = Translations()
    for locale in ("fi", "sv"):
        assert words in catalogues.known(locale), f"{locale} lacks {words!r}"
    assert catalogues.gettext("fi", label(ProgrammePhase.RUNNING)) == "ryhmät käynnissä"


def test_a_recorded_reason_reads_in_the_readers_language_or_as_recorded():
    from mentorflow.web.pages import reason_in

    assert reason_in("not trained by 2026-12-01", "fi").startswith("mentorikoulutus ei ollut")
    for odd in ("not trained by 2020-02-30", "group agreement not recorded P1X after it was due"):
        assert reason_in(odd, "fi") == odd  # a parameter that does not read: the page still shows
    assert reason_in("moved to another agency", "sv") == "moved to another agency"  # own words
