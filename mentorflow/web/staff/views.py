"""The staff's programme and group overviews, from a projection of the event log.

``catch_up`` applies the events recorded since the projection's position to the folded state of
their stream (the domain's ``apply`` of each aggregate, the workflows' own), so a request
costs the events that are new since the last one, never a replay of the log. ``programmes`` and
``groups`` then read summaries from the folded states.
"""

import hashlib
from collections import OrderedDict, defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import asyncpg
import structlog
from pydantic import BaseModel, ConfigDict

from domain.codec import PROGRAMME, RELATIONSHIP
from domain.errors import InvalidHistory
from domain.programme.events import ProgrammePhase
from domain.programme.fold import apply as apply_programme
from domain.programme.fold import fold as fold_programme
from domain.programme.state import ProgrammeState
from domain.relationship.events import EscalationKind
from domain.relationship.fold import apply as apply_relationship
from domain.relationship.fold import fold
from domain.relationship.state import MeetingStatus, RelationshipState
from store import staff_views
from store.directory import Directory

if TYPE_CHECKING:
    from store.pool import AnyConnection

__all__ = [
    "ApprovalOverdue",
    "GroupHealth",
    "OpenEscalation",
    "ProgrammeItems",
    "ProgrammeSummary",
    "UnreachablePerson",
    "attention",
    "catch_up",
    "groups",
    "groups_with_members_added",
    "open_escalations",
    "programme_items",
    "programme_state",
    "programmes",
    "relationship_state",
    "relationship_states",
]

log = structlog.get_logger(__name__)

_BATCH = 5000
_RELATIONSHIP, _PROGRAMME = "relationship:", "programme:"


async def catch_up(pool: asyncpg.Pool) -> int:
    """Apply every event past the projection's position; the position reached."""
    while True:
        async with pool.acquire() as conn, conn.transaction():
            await staff_views.lock(conn)
            position = await staff_views.position(conn)
            rows = await staff_views.events_after(conn, position, _BATCH)
            if not rows:
                return position
            by_stream: dict[str, list[asyncpg.Record]] = defaultdict(list)
            for row in rows:
                if row["stream_id"].startswith((_RELATIONSHIP, _PROGRAMME)):
                    by_stream[row["stream_id"]].append(row)
            for stream_id, new in by_stream.items():
                await _project(conn, stream_id, new)
            await staff_views.set_position(conn, rows[-1]["global_position"])


async def _project(conn: "AnyConnection", stream_id: str, new: list[asyncpg.Record]) -> None:
    held = await staff_views.held(conn, stream_id)
    if held is not None and held["version"] + 1 != new[0]["version"]:
        held = None  # not the next event (the projection was emptied): fold from the start
    if held is None and new[0]["version"] != 1:
        new = await staff_views.stream_events(conn, stream_id, new[-1]["version"])
    try:
        state, programme_id = _folded(stream_id, held, new)
    except (InvalidHistory, ValueError) as e:  # pydantic's ValidationError is a ValueError
        # One stream the domain cannot read must not take the overview of every other down.
        log.warning("staff_view_skipped", stream_id=stream_id, error=type(e).__name__)
        return
    await staff_views.save(
        conn, stream_id, programme_id, new[-1]["version"], state.model_dump_json()
    )


def _folded(
    stream_id: str, held: asyncpg.Record | None, new: list[asyncpg.Record]
) -> tuple[RelationshipState | ProgrammeState, str]:
    """The stream's state after ``new``, from ``held`` (None: from its first event)."""
    state: RelationshipState | ProgrammeState
    if stream_id.startswith(_RELATIONSHIP):
        events = [RELATIONSHIP.decode_row(r) for r in new]
        state = (
            fold(events)
            if held is None
            else apply_relationship(RelationshipState.model_validate_json(held["state"]), events)
        )
        programme_id = state.programme_id
    else:
        programme_events = [PROGRAMME.decode_row(r) for r in new]
        state = (
            fold_programme(programme_events)
            if held is None
            else apply_programme(
                ProgrammeState.model_validate_json(held["state"]), programme_events
            )
        )
        programme_id = state.programme.id
    return state, programme_id


class ProgrammeSummary(BaseModel):
    """One programme at a glance, and what needs the coordinator's attention."""

    model_config = ConfigDict(frozen=True)
    programme_id: str
    timezone: str
    phase: ProgrammePhase | None
    """None: groups are recorded but the programme's own stream is not (started before it was)."""
    participants: int
    groups: int
    groups_open: int
    at_risk: int
    paused: int
    escalations: int
    unreachable: int
    approval_due: datetime | None
    """While the matching waits for the coordinator's approval."""

    @property
    def needs_attention(self) -> bool:
        counts = (self.at_risk, self.escalations, self.unreachable, self.paused)
        return any(counts) or self.approval_due is not None


class GroupHealth(BaseModel):
    """One group at a glance (counts only: what was said stays in the group)."""

    model_config = ConfigDict(frozen=True)
    relationship_id: str
    phase: str
    members: int
    meetings_held: int
    meetings_missed: int
    meetings_planned: int
    feedback_answered: int
    feedback_asked: int
    at_risk: bool
    paused_since: datetime | None
    escalations: int
    """Open ones (not resolved yet)."""
    closed: str | None


async def _states(
    pool: asyncpg.Pool, programme_ids: list[str] | None
) -> tuple[dict[str, ProgrammeState], dict[str, list[RelationshipState]]]:
    await catch_up(pool)
    rows = await staff_views.states(pool, programme_ids)
    programme_states: dict[str, ProgrammeState] = {}
    relationships: dict[str, list[RelationshipState]] = defaultdict(list)
    for row in rows:
        if row["stream_id"].startswith(_PROGRAMME):
            programme_states[row["programme_id"]] = _validated(ProgrammeState, row["state"])
        else:
            state = _validated(RelationshipState, row["state"])
            relationships[row["programme_id"]].append(state)
    return programme_states, relationships


_S = TypeVar("_S", ProgrammeState, RelationshipState)

TEXT_KEPT = 32 * 1024 * 1024
"""Characters of JSON text whose validated states a web process keeps, the least recently used
dropped first. Bounded by size, not count, since states differ a hundredfold: measured with
bench/staff.py's programme, the 1,000-person programme's state is 300 KB of text and 2.5 MB
validated, a group's 8 KB and 63 KB (about 8 times the text). So 32 MB of text is some 260 MB
of memory at most, and holds about 15 such programmes with their 200 groups each (4,000 groups):
what a process's staff read at once. A count alone (2,000 states) let it reach gigabytes."""


class _Kept:
    """Validated states by (kind, digest of their text), least recently used first, with the
    total length of their texts."""

    def __init__(self) -> None:
        self.states: OrderedDict[tuple[type, bytes], tuple[ProgrammeState | RelationshipState, int]]
        self.states = OrderedDict()
        self.size = 0

    def get(self, key: tuple[type, bytes]) -> ProgrammeState | RelationshipState | None:
        found = self.states.get(key)
        if found is None:
            return None
        self.states.move_to_end(key)
        return found[0]

    def keep(
        self, key: tuple[type, bytes], state: ProgrammeState | RelationshipState, size: int
    ) -> None:
        """Keep ``state`` (of a text of ``size`` characters), dropping the least recently used
        until the texts fit in ``TEXT_KEPT``; a state bigger than that alone is not kept."""
        if size > TEXT_KEPT:
            return
        self.states[key] = (state, size)
        self.size += size
        while self.size > TEXT_KEPT:
            _, (_, dropped) = self.states.popitem(last=False)
            self.size -= dropped


_kept = _Kept()


def _validated(kind: type[_S], text: str) -> _S:
    """The state of a projection row's JSON, validated once per distinct text.

    Validating 200 groups' states took two thirds of a report's time, at every request. The
    same text always gives the same state, whichever database or row it came from, so the cache
    is keyed by a digest of the text: a row folded further, rebuilt or erased is new text. The
    states are shared between requests: the views only read them.
    """
    key = (kind, hashlib.blake2b(text.encode(), digest_size=32).digest())
    kept = _kept.get(key)
    if kept is None:
        kept = kind.model_validate_json(text)
        _kept.keep(key, kept, len(text))
    assert isinstance(kept, kind)
    return kept


async def programmes(pool: asyncpg.Pool, programme_ids: list[str] | None) -> list[ProgrammeSummary]:
    """Every programme of ``programme_ids`` (None: all) with a record."""
    programme_states, relationships = await _states(pool, programme_ids)
    zones = await Directory(pool).timezones()
    found = sorted(set(programme_states) | set(relationships))
    return [
        _summary(pid, programme_states.get(pid), relationships.get(pid, []), zones) for pid in found
    ]


def _summary(
    pid: str, p: ProgrammeState | None, groups_: list[RelationshipState], zones: dict[str, str]
) -> ProgrammeSummary:
    waiting = p is not None and p.phase == ProgrammePhase.APPROVAL and p.approved is None
    return ProgrammeSummary(
        programme_id=pid,
        timezone=p.programme.timezone if p else zones.get(pid, "UTC"),
        phase=p.phase if p else None,
        participants=len(p.participants) if p else len({m for g in groups_ for m in g.members}),
        groups=len(groups_),
        groups_open=sum(1 for g in groups_ if g.closure is None),
        at_risk=sum(1 for g in groups_ if g.at_risk and g.closure is None),
        paused=sum(1 for g in groups_ if g.paused_since and g.closure is None),
        escalations=sum(len(g.open_escalations()) for g in groups_ if g.closure is None)
        + (1 if p is not None and p.approval_escalated and waiting else 0),
        unreachable=len(
            set(p.unreachable if p else []) | {u for g in groups_ for u in g.unreachable}
        ),
        approval_due=p.approval_due if waiting and p is not None else None,
    )


async def groups(pool: asyncpg.Pool, programme_id: str) -> list[GroupHealth]:
    _, relationships = await _states(pool, [programme_id])
    return [_health(g) for g in relationships.get(programme_id, [])]


def _health(g: RelationshipState) -> GroupHealth:
    statuses = [m.status for m in g.meetings]
    asked = [r for r in g.feedback.values() if r.requested_at is not None]
    active = sum(1 for m in g.members.values() if m.active)
    return GroupHealth(
        relationship_id=g.relationship_id,
        phase=str(g.phase),
        members=active,
        meetings_held=statuses.count(MeetingStatus.HELD),
        meetings_missed=sum(
            1 for s in statuses if s in (MeetingStatus.NOT_HELD, MeetingStatus.MISSED)
        ),
        meetings_planned=len(statuses),
        feedback_answered=sum(len(r.answers) for r in asked),
        feedback_asked=active * len(asked),
        at_risk=g.at_risk,
        paused_since=g.paused_since,
        escalations=len(g.open_escalations()),
        closed=str(g.closure.outcome) if g.closure else None,
    )


async def programme_state(pool: asyncpg.Pool, programme_id: str) -> ProgrammeState | None:
    """The programme's folded state from the projection (None: its stream is not recorded)."""
    await catch_up(pool)
    state = await staff_views.state_of(pool, f"{_PROGRAMME}{programme_id}")
    return None if state is None else _validated(ProgrammeState, state)


async def relationship_states(pool: asyncpg.Pool, programme_id: str) -> list[RelationshipState]:
    """The folded states of the programme's groups, from the projection."""
    _, relationships = await _states(pool, [programme_id])
    return relationships.get(programme_id, [])


async def groups_with_members_added(
    pool: asyncpg.Pool, programme_id: str
) -> list[RelationshipState]:
    """The folded states of the programme's groups that took a member since they started (the
    attention inbox's *Replace or add a member*; whether they are still in it is in the state),
    from the projection: only those groups are read."""
    await catch_up(pool)
    texts = await staff_views.with_members_added(pool, programme_id)
    return [_validated(RelationshipState, text) for text in texts]


async def relationship_state(pool: asyncpg.Pool, relationship_id: str) -> RelationshipState | None:
    """One group's folded state from the projection (None: its stream is not recorded)."""
    await catch_up(pool)
    state = await staff_views.state_of(pool, f"{_RELATIONSHIP}{relationship_id}")
    return None if state is None else _validated(RelationshipState, state)


class OpenEscalation(BaseModel):
    """An escalation of an open group that the coordinator has not resolved yet (ids only)."""

    model_config = ConfigDict(frozen=True)
    programme_id: str
    timezone: str
    """The programme's zone: ``since`` is shown as a local date in it."""
    relationship_id: str
    number: int
    """Which of the group's escalations (from 1): what a resolution names."""
    kind: EscalationKind
    subject: str
    since: datetime
    reason: str | None
    """Why it was raised, in the domain's words with ids (none: folded before it was kept)."""
    persons: list[str]
    """Whom it is about, by id."""
    members: list[str] = []
    """The group's active members, by id (whom a replacement may replace)."""
    deadlines: dict[str, datetime] = {}
    """The deadlines that may be extended (``agreement``, ``feedback:<round>``), each due when."""


async def open_escalations(
    pool: asyncpg.Pool, programme_ids: list[str] | None
) -> list[OpenEscalation]:
    """The open escalations of the open groups of ``programme_ids`` (None: all), oldest first."""
    return (await attention(pool, programme_ids))[0]


async def programme_items(pool: asyncpg.Pool, programme_ids: list[str] | None) -> "ProgrammeItems":
    """What needs the coordinator in ``programme_ids`` (None: all) beyond the groups'."""
    return (await attention(pool, programme_ids))[1]


async def attention(
    pool: asyncpg.Pool, programme_ids: list[str] | None
) -> tuple[list[OpenEscalation], "ProgrammeItems"]:
    """The attention inbox of ``programme_ids`` (None: all), from one read of the projection: the
    groups' open escalations, oldest first, and the programme-level items."""
    programme_states, relationships = await _states(pool, programme_ids)
    zones = await Directory(pool).timezones()
    found: list[OpenEscalation] = []
    items = ProgrammeItems()
    for pid in sorted(set(programme_states) | set(relationships)):
        p = programme_states.get(pid)
        zone = p.programme.timezone if p else zones.get(pid, "UTC")
        groups_ = relationships.get(pid, [])
        escalations = _escalations(pid, zone, groups_)
        found += escalations
        due = _approval_overdue(p)
        if due is not None:
            items.approvals_overdue.append(
                ApprovalOverdue(programme_id=pid, timezone=zone, due=due)
            )
        items.unreachable += _unreachable(pid, zone, p, groups_, escalations)
    found.sort(key=lambda e: (e.since, e.relationship_id, e.number))
    items.approvals_overdue.sort(key=lambda a: (a.due, a.programme_id))
    return found, items


def _approval_overdue(p: ProgrammeState | None) -> datetime | None:
    """When the approval was due, if the matching still waits for it and it was escalated."""
    if p is None or p.phase != ProgrammePhase.APPROVAL or p.approved is not None:
        return None
    return p.approval_due if p.approval_escalated else None


def _escalations(pid: str, zone: str, groups_: list[RelationshipState]) -> list[OpenEscalation]:
    return [
        OpenEscalation(
            programme_id=pid,
            timezone=zone,
            relationship_id=g.relationship_id,
            number=number,
            kind=e.kind,
            subject=e.subject,
            since=e.at,
            reason=e.reason,
            persons=list(e.persons),
            members=g.active_members(),
            deadlines=g.extendable(),
        )
        for g in groups_
        if g.closure is None
        for number, e in g.open_escalations()
    ]


def _unreachable(
    pid: str,
    zone: str,
    p: ProgrammeState | None,
    groups_: list[RelationshipState],
    escalations: list[OpenEscalation],
) -> "list[UnreachablePerson]":
    """The people of the programme a message could not be delivered to, while that holds: the
    record has no event for a corrected address, so each is listed while they are still in the
    programme (a participant, its coordinator, or an active member of one of its open groups)."""
    if p is not None and p.closed:
        return []
    open_groups = [g for g in groups_ if g.closure is None]
    failed = list(p.unreachable) if p is not None else []
    for g in groups_:
        failed += [u for u in g.unreachable if u not in failed]
    found = []
    for person in failed:
        member_of = [g.relationship_id for g in open_groups if person in g.active_members()]
        in_programme = p is not None and (
            person in p.participants or person == p.programme.coordinator.id
        )
        if not (member_of or in_programme):
            continue
        found.append(
            UnreachablePerson(
                programme_id=pid,
                timezone=zone,
                person_id=person,
                groups=member_of,
                escalations=[
                    f"{e.relationship_id}/{e.number}"
                    for e in escalations
                    if e.relationship_id in member_of
                ],
            )
        )
    return found


class ApprovalOverdue(BaseModel):
    """A programme whose matching proposal waits for the coordinator's approval past its approval
    window and was escalated (``approval_escalated``): open until the matching is approved."""

    model_config = ConfigDict(frozen=True)
    programme_id: str
    timezone: str
    """The programme's zone: ``due`` is shown as a local date in it."""
    due: datetime
    """When the approval was due (the end of the approval window)."""


class UnreachablePerson(BaseModel):
    """A person of the programme a message could not be delivered to (``delivery_failed``), by
    id. Listed while they are still in the programme: no event records a corrected address."""

    model_config = ConfigDict(frozen=True)
    programme_id: str
    timezone: str
    person_id: str
    groups: list[str] = []
    """The open groups they are an active member of (where they can be replaced)."""
    escalations: list[str] = []
    """Those groups' open escalations (``<relationship_id>/<number>``), whose resolution can
    replace them."""


class ProgrammeItems(BaseModel):
    """The programme-level items of the attention inbox."""

    approvals_overdue: list[ApprovalOverdue] = []
    unreachable: list[UnreachablePerson] = []
