"""Why, in the reader's language: the recorded reasons of decisions, as codes with parameters.

The domain records its reasons as English sentences, the audit record's language (and events
already stored keep them). A letter must not quote English inside Finnish or Swedish, so every
form the domain writes is recognised here as a code with its parameters (``FORMS``) and written
again in the reader's language (``TEXTS``). A reason a person wrote themselves (leaving a group,
a pause) is their own words and is quoted as written.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_date, format_timedelta

from domain.durations import parse_duration

__all__ = ["FORMS", "TEXTS", "Reason", "parse", "render"]

_DURATION = r"(?P<{}>P[0-9A-Z.]+)"

FORMS: dict[str, re.Pattern[str]] = {
    code: re.compile(pattern.format(d=_DURATION.format("after"), g=_DURATION.format("grace")))
    for code, pattern in {
        "agreement_overdue": r"group agreement not recorded {d} after it was due",
        "feedback_overdue": (
            r"(?P<round>midpoint|final) feedback missing from (?P<count>\d+) member\(s\) {d}"
            r" after it was due"
        ),
        "meeting_not_recorded": r"not recorded within {g} of its due date",
        "meetings_not_held": r"(?P<count>\d+) meetings in a row not held",
        "end_reached": r"end date reached",
        "paused_too_long": r"paused for longer than {d} and not resumed",
        "ended_while_paused": r"the programme ended while the group was paused",
        "approval_overdue": r"the matching proposal is not approved {d} after it was due",
        "below_minimum": (
            r"(?P<count>\d+) (?P<role>mentor|mentee)\(s\) left, below the minimum of"
            r" (?P<minimum>\d+), after (?P<person>\S+) withdrew"
        ),
        "not_trained": r"not trained(?: by (?P<deadline>\d{{4}}-\d{{2}}-\d{{2}}))?",
        "no_group": r"no group: too few compatible mentees to fill another group",
        "no_co_mentor": r"no co-mentor: too few mentors or mentees for another group",
        "conflict_of_interest": r"no group without a conflict of interest",
        "no_room": r"no room: every compatible group is full \(too few trained mentors\)",
        "automatic_approval": r"automatic approval",
        "no_contact": r"no contact details in the directory",
        "letter_failed": r"the letter could not be written \((?P<error>\w+)\)",
        "dissolved_by_coordinator": r"dissolved by the coordinator",
    }.items()
}
"""The reasons the domain records (domain/relationship/schedule.py and commands.py,
domain/programme/commands.py, matching.py), as patterns: a code and its parameters."""

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "agreement_overdue": "the group agreement is still not recorded {after} after its due date",
        "feedback_overdue": "{round} feedback is missing from {count} member(s) {after} after"
        " its due date",
        "meeting_not_recorded": "the meeting was not recorded within {grace} of its due date",
        "meetings_not_held": "{count} meetings in a row were not held",
        "end_reached": "the programme's end date was reached",
        "paused_too_long": "the group has been paused for longer than {after} and has not resumed",
        "ended_while_paused": "the programme ended while the group was paused",
        "approval_overdue": "the proposed groups are still not approved {after} after the due date",
        "below_minimum": "{person} left, and the group has {count} {role}(s), fewer than the"
        " minimum of {minimum}",
        "not_trained": "mentor training not completed{by}",
        "no_group": "no group: too few suitable mentees for another group",
        "no_co_mentor": "no co-mentor: too few mentors or mentees for another group",
        "conflict_of_interest": "no group without a conflict of interest",
        "no_room": "no room: every suitable group is full (too few trained mentors)",
        "automatic_approval": "approved automatically",
        "no_contact": "no contact details for the person in Mentorflow",
        "letter_failed": "the message could not be written (a fault in Mentorflow: {error})",
        "dissolved_by_coordinator": "the coordinator dissolved the group",
        "midpoint": "midpoint",
        "final": "final",
        "mentor": "mentor",
        "mentee": "mentee",
        "by": " by {deadline}",
    },
    "fi": {
        "agreement_overdue": "ryhmän sopimusta ei ole vieläkään kirjattu, vaikka määräajasta on"
        " kulunut {after}",
        "feedback_overdue": "{round} puuttuu {count} jäseneltä, vaikka määräajasta on kulunut"
        " {after}",
        "meeting_not_recorded": "tapaamista ei kirjattu {grace} kuluessa sen määräpäivästä",
        "meetings_not_held": "{count} tapaamista peräkkäin jäi pitämättä",
        "end_reached": "ohjelman päättymispäivä on tullut",
        "paused_too_long": "ryhmän tauko on kestänyt yli {after}, eikä ryhmä ole jatkanut",
        "ended_while_paused": "ohjelma päättyi ryhmän ollessa tauolla",
        "approval_overdue": "ehdotettuja ryhmiä ei ole vieläkään hyväksytty, vaikka määräajasta"
        " on kulunut {after}",
        "below_minimum": "{person} lähti, ja ryhmään jäi {role}: {count}, vähemmän kuin"
        " vähimmäismäärä {minimum}",
        "not_trained": "mentorikoulutus ei ollut suoritettu{by}",
        "no_group": "ei ryhmää: liian vähän sopivia aktoreita uuteen ryhmään",
        "no_co_mentor": "ei työparia: liian vähän mentoreita tai aktoreita uuteen ryhmään",
        "conflict_of_interest": "ei ryhmää ilman eturistiriitaa",
        "no_room": "ei tilaa: kaikki sopivat ryhmät ovat täynnä (liian vähän koulutettuja"
        " mentoreita)",
        "automatic_approval": "hyväksytty automaattisesti",
        "no_contact": "henkilön yhteystietoja ei ole Mentorflow'ssa",
        "letter_failed": "viestiä ei voitu kirjoittaa (vika Mentorflow'ssa: {error})",
        "dissolved_by_coordinator": "koordinaattori lakkautti ryhmän",
        "midpoint": "väliarvio",
        "final": "loppuarvio",
        "mentor": "mentoreita",
        "mentee": "aktoreita",
        "by": " {deadline} mennessä",
    },
    "sv": {
        "agreement_overdue": "gruppens överenskommelse är fortfarande inte registrerad {after}"
        " efter sista dagen",
        "feedback_overdue": "{round} saknas från {count} medlem(mar) {after} efter sista dagen",
        "meeting_not_recorded": "mötet registrerades inte inom {grace} från sista dagen",
        "meetings_not_held": "{count} möten i rad hölls inte",
        "end_reached": "programmets slutdatum har nåtts",
        "paused_too_long": "gruppen har haft paus i mer än {after} och har inte återupptagits",
        "ended_while_paused": "programmet tog slut medan gruppen hade paus",
        "approval_overdue": "de föreslagna grupperna är fortfarande inte godkända {after} efter"
        " sista dagen",
        "below_minimum": "{person} lämnade gruppen, som nu har {count} {role}, färre än det"
        " minsta antalet ({minimum})",
        "not_trained": "mentorutbildningen inte genomförd{by}",
        "no_group": "ingen grupp: för få lämpliga adepter för en grupp till",
        "no_co_mentor": "ingen medmentor: för få mentorer eller adepter för en grupp till",
        "conflict_of_interest": "ingen grupp utan jäv",
        "no_room": "ingen plats: alla lämpliga grupper är fulla (för få utbildade mentorer)",
        "automatic_approval": "godkänt automatiskt",
        "no_contact": "personens kontaktuppgifter saknas i Mentorflow",
        "letter_failed": "meddelandet kunde inte skrivas (ett fel i Mentorflow: {error})",
        "dissolved_by_coordinator": "koordinatorn upplöste gruppen",
        "midpoint": "halvtidsutvärderingen",
        "final": "slututvärderingen",
        "mentor": "mentor(er)",
        "mentee": "adept(er)",
        "by": " senast {deadline}",
    },
}


@dataclass(frozen=True)
class Reason:
    code: str
    params: dict[str, str]


def parse(text: str) -> Reason | None:
    """The code and parameters of a reason the domain wrote; None for a person's own words."""
    for code, pattern in FORMS.items():
        if m := pattern.fullmatch(text.strip()):
            return Reason(code, {k: v for k, v in m.groupdict().items() if v is not None})
    return None


def render(text: str, locale: str, name: Callable[[str], str]) -> str:
    """``text`` (a recorded reason) in ``locale``; ``name`` turns a person's id into a name."""
    reason = parse(text)
    if reason is None:
        return text
    words = TEXTS[locale]
    p = dict(reason.params)
    for key in ("after", "grace"):
        if key in p:
            p[key] = _duration(p[key], locale)
    if "round" in p:
        p["round"] = words[p["round"]]
    if "role" in p:
        p["role"] = words[p["role"]]
    if "person" in p:
        p["person"] = name(p["person"])
    if reason.code == "not_trained":
        deadline = p.get("deadline")
        day = format_date(date.fromisoformat(deadline), "long", locale=locale) if deadline else ""
        p = {"by": words["by"].format(deadline=day) if deadline else ""}
    return words[reason.code].format(**p)


def _duration(iso: str, locale: str) -> str:
    value = parse_duration(iso)
    if not isinstance(value, timedelta):  # months or years: their length where they start
        start = datetime(2000, 1, 1)  # noqa: DTZ001 - only the difference is used
        value = (start + value) - start
    return format_timedelta(value, locale=locale, threshold=1.5, format="long")
