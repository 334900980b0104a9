"""Personal links: signed, expiring, bound to one person and one purpose.

The worker writes them into e-mails and the web app reads them back, so both live here, beside
the letters. A link carries ids only (programme, person, group, purpose, expiry), never a name or
an address, and is signed with the deployment's secret (itsdangerous, HMAC-SHA1 over the JSON):
changing any character makes it a forgery. A link opens exactly one page, the one of its purpose.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeSerializer

from domain import durations
from domain.envelope import Event
from domain.model import Role
from domain.relationship.events import FeedbackRequested, FeedbackRound, ReminderIssued
from domain.relationship.state import RelationshipState

LINK_GRACE = timedelta(days=14)
"""A link still works this long after the deadline of the action it asks for."""
SIGN_IN_LIFETIME = timedelta(minutes=15)

GROUP = "group"
AGREEMENT = "agreement"
MEETING = "meeting"
SCHEDULE = "schedule"
AGENDA = "agenda"
ME = "me"
SIGN_IN = "signin"
STAFF_SIGN_IN = "staff-signin"
"""A staff member's sign-in link: the claim's person is the staff id, its programme empty."""
FEEDBACK_PREFIX = "feedback:"


class LinkError(Exception):
    """A link that opens nothing.

    LinkError
    ├── ForgedLink    not signed by us, or altered
    ├── ExpiredLink   past its expiry
    └── ForeignLink   signed by us, but for another page or group
    """


class ForgedLink(LinkError):
    pass


class ExpiredLink(LinkError):
    pass


class ForeignLink(LinkError):
    pass


@dataclass(frozen=True)
class Claim:
    """What a link says: who may do what, until when."""

    programme_id: str
    person_id: str
    purpose: str
    relationship_id: str | None
    expires_at: datetime
    token_id: str | None = None
    """Sign-in links only: the id recorded when the link is used (single use)."""


def path_of(purpose: str, relationship_id: str | None) -> str:
    """The page a purpose opens (without the token)."""
    if purpose == SIGN_IN:
        return "/signin/link"
    if purpose == STAFF_SIGN_IN:
        return "/staff/signin/link"
    if purpose == ME or relationship_id is None:
        return "/me"
    group = f"/g/{quote(relationship_id, safe='')}"
    if purpose == GROUP:
        return group
    if purpose.startswith(FEEDBACK_PREFIX):
        return f"{group}/feedback/{purpose.removeprefix(FEEDBACK_PREFIX)}"
    return f"{group}/{purpose}"


GUIDE = "/guide"
"""Where the web app serves the participant guide."""


class Links:
    def __init__(self, secret: str, public_url: str):
        self._serializer = URLSafeSerializer(secret, salt="mentorflow-personal-link")
        self.public_url = public_url.rstrip("/")

    def token(self, claim: Claim) -> str:
        data = [
            claim.programme_id,
            claim.person_id,
            claim.purpose,
            claim.relationship_id,
            int(claim.expires_at.timestamp()),
            claim.token_id,
        ]
        return str(self._serializer.dumps(data))

    def guide_url(self) -> str:
        """The participant guide's page (``mentorflow/web/guide.py``), named in every footer."""
        return f"{self.public_url}{GUIDE}"

    def url(self, claim: Claim) -> str:
        page = path_of(claim.purpose, claim.relationship_id)
        return f"{self.public_url}{page}?t={self.token(claim)}"

    def read(self, token: str, now: datetime) -> Claim:
        """The claim of a genuine, unexpired ``token``; :class:`LinkError` otherwise."""
        try:
            data = self._serializer.loads(token)
            programme, person, purpose, group, expires, token_id = data
            claim = Claim(
                str(programme),
                str(person),
                str(purpose),
                None if group is None else str(group),
                datetime.fromtimestamp(int(expires), UTC),
                None if token_id is None else str(token_id),
            )
        except (BadSignature, ValueError, TypeError) as e:
            raise ForgedLink("this link is not one of ours, or it was altered") from e
        if now >= claim.expires_at:
            raise ExpiredLink("this link has expired")
        return claim

    def read_for(
        self, token: str, purpose: str, relationship_id: str | None, now: datetime
    ) -> Claim:
        """The claim of ``token``, which must be for ``purpose`` (of ``relationship_id``)."""
        claim = self.read(token, now)
        if claim.purpose != purpose or claim.relationship_id != relationship_id:
            raise ForeignLink("this link is for another page")
        return claim


_ACTION_OF_KIND = {
    "relationship_started": AGREEMENT,
    "agreement_reminder": AGREEMENT,
    "meeting_scheduled": AGENDA,
    "meeting_planned": AGENDA,
    "meeting_preparation_reminder": MEETING,
}
"""Kinds that ask a member for one action; feedback kinds name their round; the rest: My group."""

_MENTORS_ACTION_OF_KIND = {
    "relationship_started": SCHEDULE,
    "meeting_scheduled": SCHEDULE,
    "meeting_unscheduled_reminder": SCHEDULE,
}
"""Where these kinds lead a mentor instead: the mentors plan the meetings."""

_PROGRAMME_LINK_LIFETIME = timedelta(days=60)


def claim_for(
    kind: str,
    event: Event,
    relationship: RelationshipState | None,
    programme_id: str,
    person_id: str,
) -> Claim:
    """The link a notification of ``kind`` gives ``person_id``: the page of what it asks for."""
    r = relationship
    if r is None or person_id not in r.members:
        # Programme notices and the coordinator's copies: the reader's own groups.
        expires = event.occurred_at + _PROGRAMME_LINK_LIFETIME
        return Claim(programme_id, person_id, ME, None, expires)
    if r.members[person_id].role == Role.MENTOR and kind in _MENTORS_ACTION_OF_KIND:
        return Claim(
            programme_id, person_id, _MENTORS_ACTION_OF_KIND[kind], r.relationship_id, r.ends_at
        )
    purpose, deadline = _action(kind, event, r)
    return Claim(programme_id, person_id, purpose, r.relationship_id, deadline + LINK_GRACE)


def _round_of(event: Event) -> FeedbackRound | None:
    """The feedback round a request or a reminder is about."""
    if isinstance(event, FeedbackRequested):
        return event.round
    if isinstance(event, ReminderIssued) and event.subject.startswith("feedback:"):
        return FeedbackRound(event.subject.removeprefix("feedback:"))
    return None


def _action(kind: str, event: Event, r: RelationshipState) -> tuple[str, datetime]:
    feedback_round = _round_of(event)
    if feedback_round is not None:
        due = durations.add(r.feedback[feedback_round].due_at, r.policy.overdue_after)
        return f"{FEEDBACK_PREFIX}{feedback_round}", due
    if _ACTION_OF_KIND.get(kind) == AGREEMENT:
        return AGREEMENT, durations.add(r.agreement.due_at, r.policy.overdue_after)
    if (action := _ACTION_OF_KIND.get(kind)) in (MEETING, AGENDA):
        return str(action), r.ends_at
    return GROUP, r.ends_at
