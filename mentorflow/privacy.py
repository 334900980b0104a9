"""``mentorflow privacy``: erase a person (crypto-shredding) and export what is held about them.

Erasure deletes the person's data key (their sealed texts can no longer be opened by anyone),
their directory rows (names, addresses, languages) and the error texts of their deliveries, and
records a ``personal_data_erased`` event (who erased, when, why; never what) in the stream
:data:`ERASURES`, all in one transaction. The events and Temporal's histories are not touched:
their hash chains still verify and their runs still replay.

Why a stream of its own: a group's or programme's stream is written only by its workflow, which
knows its own version and reads back what it did not write as someone else's decision; and a
person may be in several programmes, or in none any more. One stream for the deployment's
erasures lists them all in order, covered by the global hash chain like every other event.
"""

from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from contracts.messages import programme_workflow_id
from domain.text import PlainText, sealed
from store import cohorts
from store import privacy as store_privacy
from store.event_store import EventStore
from store.sealing import SEALED, Sealer, author_of

ERASURES, ERASED_EVENT = store_privacy.ERASURES, store_privacy.ERASED_EVENT
PrivacyError = store_privacy.PrivacyError
PROGRAMME_STREAM = programme_workflow_id("")
"""What a programme's stream id starts with (before the programme's id)."""


class Erasure(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    person_id: str
    erased_by: str
    erased_at: datetime
    reason: str
    directory_rows: int
    """Directory rows deleted (one per programme the person was in)."""
    event_position: int
    """The erasure event's position in the stream :data:`ERASURES`."""


class PersonExport(BaseModel):
    """Everything held about one person (GDPR art. 15), texts opened."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    person_id: str
    directory: list[dict[str, Any]]
    """Name, address and language, per programme."""
    data_key: dict[str, Any] | None
    """When the person's data key was made, and erased (never the key)."""
    profiles: list[dict[str, Any]]
    """Their profile (role, unit, manager's id, competences, capacity, training date, locale) as
    each programme holds it: ``programme_id``, ``source`` (the event type, or ``staged`` for a
    programme not started yet), ``at`` (the event's time; None when staged) and ``profile`` (a
    training date recorded later: ``mentor_trained``, ``{"id", "trained_on"}``)."""
    events: list[dict[str, Any]]
    """Every event the person did or is named in; their own texts opened, others' texts
    ``[sealed]``; of the profiles in programme events, their own, and of another participant's
    only that the person is their manager (never the rest of the cohort's)."""
    deliveries: list[dict[str, Any]]
    """Every message addressed to them and what became of it."""


_REASON: TypeAdapter[str] = TypeAdapter(PlainText)


async def erase(
    pool: asyncpg.Pool, sealer: Sealer, person_id: str, by: str, reason: str
) -> Erasure:
    """Erase ``person_id``'s personal data and record who did it and why."""
    try:
        reason = _REASON.validate_python(reason)
    except ValidationError as e:
        raise PrivacyError(f"--reason: {e.errors()[0]['msg']}") from None
    erased_at, rows, position = await store_privacy.erase(pool, person_id, by, reason, sealer.erase)
    return Erasure(
        person_id=person_id,
        erased_by=by,
        erased_at=erased_at,
        reason=reason,
        directory_rows=rows,
        event_position=position,
    )


async def erasures(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """Every erasure recorded: person, who, when, why."""
    records = await EventStore(pool).read_stream(ERASURES)
    return [
        {"at": r.occurred_at, "by": r.actor, **r.payload} for r in records if r.type == ERASED_EVENT
    ]


async def export(pool: asyncpg.Pool, sealer: Sealer, person_id: str) -> PersonExport:
    """Everything held about ``person_id`` across programmes."""
    async with pool.acquire() as conn:
        if not await store_privacy.known(conn, person_id):
            raise PrivacyError(
                f"unknown person {person_id!r}: not in the directory, the data keys or the record"
            )
        people, key, events, deliveries = await store_privacy.held_about(conn, person_id)
        staged = await cohorts.staged_of(conn, person_id)
    own_events = [{**dict(r), "payload": _own_profile(r["payload"], person_id)} for r in events]
    return PersonExport(
        person_id=person_id,
        directory=[dict(r) for r in people],
        data_key=None if key is None else dict(key),
        profiles=[
            *(p for e in own_events for p in _profiles_in(e, person_id)),
            *(
                {"programme_id": r["programme_id"], "source": "staged", "at": None}
                | {"profile": r["profile"]}
                for r in staged
            ),
        ],
        events=[
            {**e, "payload": await _own_texts(sealer, e["payload"], person_id)} for e in own_events
        ],
        deliveries=[{**dict(r), "event_id": str(r["event_id"])} for r in deliveries],
    )


PROFILE_EVENTS = ("participant_enrolled", "participant_updated")
"""Programme events holding one participant's profile (``programme_started`` holds the cohort's)."""


def _about(profile: Any, person_id: str) -> dict[str, Any] | None:
    """What of a profile is about ``person_id``: all of their own; of someone else's, only that
    the person is their manager (ids only); None when it does not name them."""
    if not isinstance(profile, dict):
        return None
    if profile.get("id") == person_id:
        return profile
    if profile.get("manager") == person_id:
        return {"id": profile.get("id"), "manager": person_id}
    return None


def _own_profile(payload: Any, person_id: str) -> Any:
    """A programme event's payload with only what its profiles say about ``person_id``: their
    own profile, and whom they manage; never the rest of another participant's profile."""
    if not isinstance(payload, dict):
        return payload
    if isinstance(payload.get("participants"), list):
        about = (_about(p, person_id) for p in payload["participants"])
        return {**payload, "participants": [p for p in about if p is not None]}
    if isinstance(payload.get("profile"), dict):
        return {**payload, "profile": _about(payload["profile"], person_id)}
    return payload


def _profiles_in(event: dict[str, Any], person_id: str) -> list[dict[str, Any]]:
    """The person's profiles an event holds, as :attr:`PersonExport.profiles` lists them (a
    training date recorded later as ``{"id", "trained_on"}``)."""
    payload, kind = event["payload"], event["type"]
    if kind == "programme_started":
        found = [p for p in payload.get("participants", []) if p.get("id") == person_id]
    elif kind in PROFILE_EVENTS and (payload.get("profile") or {}).get("id") == person_id:
        found = [payload["profile"]]
    elif kind == "mentor_trained" and payload.get("person_id") == person_id:
        found = [{"id": person_id, "trained_on": payload.get("trained_on")}]
    else:
        return []
    programme_id = str(event["stream_id"]).removeprefix(PROGRAMME_STREAM)
    return [
        {"programme_id": programme_id, "source": kind, "at": event["occurred_at"]} | {"profile": p}
        for p in found
    ]


async def _own_texts(sealer: Sealer, value: Any, person_id: str) -> Any:
    """``value`` with ``person_id``'s texts opened and everyone else's left ``[sealed]``."""
    if isinstance(value, str) and sealed(value):
        return await sealer.open(value) if author_of(value) == person_id else SEALED
    if isinstance(value, dict):
        return {k: await _own_texts(sealer, v, person_id) for k, v in value.items()}
    if isinstance(value, list):
        return [await _own_texts(sealer, v, person_id) for v in value]
    return value
