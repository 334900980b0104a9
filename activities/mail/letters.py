"""From a recorded event to the letter each recipient reads: templates, language, invitations.

Every notification kind has one template per locale under ``templates/<locale>/<kind>.txt``, with
a ``subject`` and a ``body`` block, all fed the same facts. Dates are written in the programme's
time zone and the reader's language (babel); invitations come from the relationship's history.
"""

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, format_timedelta
from jinja2 import Environment, PackageLoader, StrictUndefined

from activities.links import Links, claim_for
from activities.mail import reasons
from activities.mail.invites import Attendee, MeetingInvite, Method, meeting_uid
from domain.calendar import ProgrammeCalendar
from domain.envelope import Event
from domain.programme.events import MatchingProposed, ProgrammeStarted
from domain.relationship.events import (
    MeetingCancelled,
    MeetingPlanned,
    MemberAdded,
    MemberWithdrew,
    RelationshipClosed,
    RelationshipEvent,
    RelationshipStarted,
)
from domain.relationship.fold import fold, replay
from domain.relationship.state import MeetingStatus, RelationshipState
from store.directory import Contact, ProgrammeEntry

LOCALES = ("fi", "sv", "en")

KINDS = (
    # relationship
    "relationship_started",
    "meeting_scheduled",
    "meeting_planned",
    "meeting_cancelled",
    "agreement_reminder",
    "meeting_preparation_reminder",
    "meeting_unscheduled_reminder",
    "feedback_requested",
    "feedback_reminder",
    "escalation_raised",
    "member_withdrew",
    "member_added",
    "resumed",
    "relationship_closed",
    # programme
    "programme_started",
    "programme_start",
    "programme_reminder_issued",
    "untrained_mentors_excluded",
    "matching_proposed",
    "approval_escalated",
    "midpoint_survey",
    "closing_invitation",
    "groups_checked",
    "programme_closed",
    # both
    "delivery_failed",
)
"""Every notification kind the workflows decide; a template exists for each in every locale."""


KIND_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "relationship_started": "the group's start",
        "meeting_scheduled": "a meeting due",
        "meeting_planned": "a meeting invitation",
        "meeting_cancelled": "a cancelled meeting time",
        "meeting_unscheduled_reminder": "a reminder to schedule a meeting",
        "agreement_reminder": "an agreement reminder",
        "meeting_preparation_reminder": "a meeting reminder",
        "feedback_requested": "a feedback request",
        "feedback_reminder": "a feedback reminder",
        "escalation_raised": "an escalation",
        "member_withdrew": "a member's leaving",
        "member_added": "a new member",
        "resumed": "the group's resumption",
        "relationship_closed": "the group's closing",
        "programme_started": "the programme's set-up",
        "programme_start": "the programme's first day",
        "programme_reminder_issued": "a reminder",
        "untrained_mentors_excluded": "untrained mentors left out",
        "matching_proposed": "the proposed groups",
        "approval_escalated": "the overdue approval",
        "midpoint_survey": "the midpoint",
        "closing_invitation": "the closing invitation",
        "programme_closed": "the programme's report",
        "delivery_failed": "an undelivered message",
    },
    "fi": {
        "relationship_started": "ryhmän alkaminen",
        "meeting_scheduled": "tuleva tapaaminen",
        "meeting_planned": "tapaamiskutsu",
        "meeting_cancelled": "peruttu tapaamisaika",
        "meeting_unscheduled_reminder": "muistutus sopia tapaamisaika",
        "agreement_reminder": "sopimusmuistutus",
        "meeting_preparation_reminder": "tapaamismuistutus",
        "feedback_requested": "arviointipyyntö",
        "feedback_reminder": "arviointimuistutus",
        "escalation_raised": "huomautus koordinaattorille",
        "member_withdrew": "jäsenen lähtö",
        "member_added": "uusi jäsen",
        "resumed": "ryhmän jatkuminen",
        "relationship_closed": "ryhmän päättyminen",
        "programme_started": "ohjelman perustaminen",
        "programme_start": "ohjelman ensimmäinen päivä",
        "programme_reminder_issued": "muistutus",
        "untrained_mentors_excluded": "kouluttamattomat mentorit",
        "matching_proposed": "ryhmäehdotus",
        "approval_escalated": "myöhässä oleva hyväksyntä",
        "midpoint_survey": "puoliväli",
        "closing_invitation": "kutsu päätöstilaisuuteen",
        "programme_closed": "ohjelman raportti",
        "delivery_failed": "toimittamaton viesti",
    },
    "sv": {
        "relationship_started": "gruppens start",
        "meeting_scheduled": "ett kommande möte",
        "meeting_planned": "en mötesinbjudan",
        "meeting_cancelled": "en inställd mötestid",
        "meeting_unscheduled_reminder": "en påminnelse om att boka ett möte",
        "agreement_reminder": "en påminnelse om överenskommelsen",
        "meeting_preparation_reminder": "en mötespåminnelse",
        "feedback_requested": "en begäran om utvärdering",
        "feedback_reminder": "en påminnelse om utvärdering",
        "escalation_raised": "en eskalering",
        "member_withdrew": "en medlems avgång",
        "member_added": "en ny medlem",
        "resumed": "gruppens fortsättning",
        "relationship_closed": "gruppens avslutning",
        "programme_started": "programmets inrättande",
        "programme_start": "programmets första dag",
        "programme_reminder_issued": "en påminnelse",
        "untrained_mentors_excluded": "outbildade mentorer",
        "matching_proposed": "de föreslagna grupperna",
        "approval_escalated": "det försenade godkännandet",
        "midpoint_survey": "halvtiden",
        "closing_invitation": "inbjudan till avslutningen",
        "programme_closed": "programmets rapport",
        "delivery_failed": "ett olevererat meddelande",
    },
}
"""What each kind of message is about, as a reader names it."""


_ABOUT_MEETINGS = {
    "meeting_planned",
    "member_added",
    "meeting_cancelled",
    "member_withdrew",
    "relationship_closed",
}
"""Kinds that may carry an invitation (its SEQUENCE needs the history of invitations)."""


@dataclass(frozen=True)
class Letter:
    subject: str
    body: str
    invite: MeetingInvite | None


@dataclass(frozen=True)
class Occasion:
    """Everything a letter about one event may say, whoever reads it."""

    kind: str
    event: Event
    programme: ProgrammeEntry
    contacts: dict[str, Contact]
    relationship: RelationshipState | None
    """The relationship just after the event (None for a programme's events)."""
    invite_sequence: dict[int, int]
    """Per meeting number: how many invitations about it went out before this event."""
    calendar: ProgrammeCalendar | None = None
    """The programme's dates (for a programme's events: its first event carries them)."""
    planned_before: dict[int, tuple[datetime, int | None]] = dataclasses.field(default_factory=dict)
    """Per meeting number: its last planned start and minutes before this event."""


def occasion(
    kind: str,
    event: Event,
    history: Sequence[Event],
    programme: ProgrammeEntry,
    contacts: dict[str, Contact],
) -> Occasion:
    """``history`` is the stream up to and including ``event``."""
    relationship: RelationshipState | None = None
    sequence: dict[int, int] = {}
    planned: dict[int, tuple[datetime, int | None]] = {}
    if history and isinstance(history[0], RelationshipStarted):
        events: list[RelationshipEvent] = list(history)  # type: ignore[arg-type]
        if kind in _ABOUT_MEETINGS:
            relationship, sequence = _replay_invitations(events)
            planned = {
                e.number: (e.starts_at, e.minutes)
                for e in events[:-1]
                if isinstance(e, MeetingPlanned)
            }
        else:
            relationship = fold(events)
    cal = history[0].calendar if history and isinstance(history[0], ProgrammeStarted) else None
    return Occasion(kind, event, programme, contacts, relationship, sequence, cal, planned)


def people_named(event: Event, history: Sequence[Event]) -> set[str]:
    """Ids a letter about ``event`` may name: its people, and the group's members."""
    ids = set(getattr(event, "recipients", ())) | set(getattr(event, "persons", ()))
    for field in ("person_id", "coordinator_id"):
        if isinstance(value := getattr(event, field, None), str):
            ids.add(value)
    if history and isinstance(first := history[0], RelationshipStarted):
        ids |= {m.person_id for m in first.members} | {first.coordinator_id}
        # Members added since the start are named in the group's later letters too.
        ids |= {e.person_id for e in history if isinstance(e, MemberAdded)}
    if isinstance(event, MatchingProposed):  # the approval request lists the groups
        for g in event.result.groups:
            ids |= {*g.mentors, *g.mentees}
        ids |= {u.person_id for u in event.result.unmatched}
    return ids


FOOTERS = {
    "en": ("Questions about these e-mails? Ask your coordinator, {coordinator}.", "Guide: {url}"),
    "fi": ("Kysyttävää näistä viesteistä? Kysy koordinaattorilta: {coordinator}.", "Opas: {url}"),
    "sv": ("Frågor om dessa meddelanden? Fråga koordinatorn, {coordinator}.", "Guide: {url}"),
}
"""The footer of every participant's letter; the guide is docs/participant.md."""


class Stationery:
    """The templates, loaded once.

    ``guide_url``: where people read the participant guide (docs/participant.md), once it is
    served (e.g. MENTORFLOW_PUBLIC_URL + "/guide"); without it the footer names the coordinator.
    """

    def __init__(self, links: Links | None = None, guide_url: str | None = None) -> None:
        # Without a link maker (tests of wording), letters point at the default address's pages.
        self._links = links or Links("unsigned", "http://127.0.0.1:8000")
        self._guide_url = guide_url
        self._env = Environment(
            loader=PackageLoader("activities.mail", "templates"),
            undefined=StrictUndefined,  # a missing fact is an error, not an empty sentence
            autoescape=False,  # plain-text mail
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def template_names(self) -> list[str]:
        return self._env.list_templates(extensions=["txt"])

    def write(self, occasion: Occasion, to: Contact) -> Letter:
        invite = _invite(occasion, to)
        template = self._env.get_template(f"{to.locale}/{occasion.kind}.txt")
        facts = _facts(occasion, to, invite)
        facts["link"] = self._link(occasion, to)
        context = template.new_context(facts)
        subject = "".join(template.blocks["subject"](context)).strip()
        body = "".join(template.blocks["body"](context)).strip() + "\n"
        if to.person_id != occasion.programme.coordinator_id:
            body += self._footer(occasion, to)
        return Letter(subject=" ".join(subject.split()), body=body, invite=invite)

    def _link(self, o: Occasion, to: Contact) -> str:
        """The reader's personal link to the page of what this letter asks of them."""
        claim = claim_for(o.kind, o.event, o.relationship, o.programme.programme_id, to.person_id)
        return self._links.url(claim)

    def _footer(self, o: Occasion, to: Contact) -> str:
        ask, guide = FOOTERS[to.locale]
        coordinator = o.contacts.get(o.programme.coordinator_id)
        lines = [ask.format(coordinator=coordinator.name if coordinator else o.programme.name)]
        if self._guide_url:
            lines.append(guide.format(url=self._guide_url))
        return "\n-- \n" + "\n".join(lines) + "\n"


def _facts(o: Occasion, to: Contact, invite: MeetingInvite | None) -> dict[str, Any]:
    zone = ZoneInfo(o.programme.timezone)

    def name(person_id: str) -> str:
        contact = o.contacts.get(person_id)
        return contact.name if contact else person_id

    def when(moment: datetime) -> str:
        local, lang = moment.astimezone(zone), to.locale
        return (
            f"{format_date(local, 'long', locale=lang)} {format_time(local, 'short', locale=lang)}"
        )

    def day(moment: date | datetime) -> str:
        value = moment.astimezone(zone).date() if isinstance(moment, datetime) else moment
        return format_date(value, "long", locale=to.locale)

    def last_day(end: datetime) -> str:
        """The last day of a period whose end instant is the start of the next day."""
        return day(end - timedelta(microseconds=1))

    def span(length: timedelta) -> str:
        return format_timedelta(length, locale=to.locale, threshold=1.5)

    def group_no(relationship_id: str) -> str:
        """Groups are numbered per programme (``pilot:3`` is group 3): people read the number."""
        return relationship_id.rpartition(":")[2] or relationship_id

    r = o.relationship
    coordinator_id = o.programme.coordinator_id
    return {
        "e": o.event,
        "to": to,
        "programme": o.programme,
        "coordinator": name(o.programme.coordinator_id),
        "relationship": r,
        "group": [] if r is None else [(name(p), m.role.value) for p, m in r.members.items()],
        "invite": invite,
        "name": name,
        "names": lambda ids: ", ".join(name(i) for i in ids),
        "when": when,
        "day": day,
        "last_day": last_day,
        "span": span,
        "group_no": group_no,
        "kind_name": lambda kind: KIND_NAMES[to.locale].get(kind, kind),
        "reason": lambda text: reasons.render(text, to.locale, name),
        "calendar": o.calendar,
        "as_coordinator": to.person_id == coordinator_id
        and (r is None or to.person_id not in r.members),
        "approve_command": f"mentorflow programme approve-matching {o.programme.programme_id}",
        "approve_link": None,  # the web app's approval page, once it exists
    }


def _replay_invitations(
    history: list[RelationshipEvent],
) -> tuple[RelationshipState, dict[int, int]]:
    """The state after the last event, and the invitation count per meeting before it."""
    sent: dict[int, int] = {}
    last = len(history) - 1
    state: RelationshipState | None = None
    for n, (event, state) in enumerate(replay(history)):
        # Neither the start nor the event being announced counts as an earlier invitation.
        if 0 < n < last and (number := _meeting_invited(event, state)) is not None:
            sent[number] = sent.get(number, 0) + 1
    assert state is not None
    return state, sent


def _meeting_invited(event: Event, state: RelationshipState) -> int | None:
    """The meeting an event sends (or cancels) an invitation for, given the state after it.

    Only a time a mentor planned is an invitation: the cycle's due date is not a meeting time
    (events recorded before meetings were planned have no invitation any more).
    """
    if isinstance(event, MeetingPlanned | MeetingCancelled):
        return event.number
    if isinstance(event, RelationshipClosed | MemberWithdrew | MemberAdded):
        return _planned_meeting(state)
    return None


def _planned_meeting(state: RelationshipState) -> int | None:
    """The latest planned meeting nobody has recorded yet, if any."""
    open_ = [
        m.number
        for m in state.meetings
        if m.status == MeetingStatus.OPEN and m.starts_at is not None
    ]
    return max(open_) if open_ else None


def _invite(o: Occasion, to: Contact) -> MeetingInvite | None:
    r = o.relationship
    if r is None or to.person_id not in r.members:
        return None  # the coordinator organises; only members are attendees
    e = o.event
    number = _meeting_invited(e, r)
    if number is None:
        return None
    if isinstance(e, MemberWithdrew | MemberAdded) and to.person_id != e.person_id:
        return None  # the others' meeting stands: only the one leaving or joining is told
    cancels = RelationshipClosed | MemberWithdrew | MeetingCancelled
    method = Method.CANCEL if isinstance(e, cancels) else Method.REQUEST
    slot = next(m for m in r.meetings if m.number == number)
    # A cancelled time is gone from the state: the cancellation names the time it cancels.
    starts_at, minutes = (
        _planned_time(o, number)
        if slot.starts_at is None
        else (
            slot.starts_at,
            slot.minutes,
        )
    )
    coordinator = o.contacts.get(o.programme.coordinator_id)
    attendees = [o.contacts[p] for p in r.active_members() if p in o.contacts]
    if method is Method.CANCEL and isinstance(e, MemberWithdrew):
        attendees = [to]
    return MeetingInvite(
        method=method,
        uid=meeting_uid(r.relationship_id, number),
        sequence=o.invite_sequence.get(number, 0),
        summary=f"{o.programme.name}: {number}",
        starts_at=starts_at,
        length=timedelta(minutes=minutes or 0),
        timezone=o.programme.timezone,
        stamp=e.occurred_at,
        organizer=Attendee(
            coordinator.name if coordinator else o.programme.name,
            coordinator.email if coordinator else "mentorflow@localhost",
        ),
        attendees=tuple(Attendee(c.name, c.email) for c in attendees),
    )


def _planned_time(o: Occasion, number: int) -> tuple[datetime, int | None]:
    """The time meeting ``number`` had before ``o.event`` cancelled it."""
    assert o.relationship is not None
    return o.planned_before.get(number, (o.event.occurred_at, None))
