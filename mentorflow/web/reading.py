"""What the pages show, read from the event store and the people directory (never written).

A relationship's state is the domain's ``fold`` of its stored events: exactly what the workflow
holds after its last append, readable even when no worker runs. The process keeps the states it
has folded and reads only the events recorded since (one short query per view, no fold); the
directory's programme entries and names, which change with a programme file or an HR sync, are
kept for ``DIRECTORY_TTL`` seconds.
"""

import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

from domain.codec import RELATIONSHIP
from domain.relationship.fold import apply, fold
from domain.relationship.state import RelationshipState
from store import memberships
from store.directory import Contact, Directory, ProgrammeEntry
from store.event_store import EventStore
from store.sealing import ERASED, Sealer
from workflows.messages import workflow_id


@dataclass(frozen=True)
class Account:
    """A person of one programme, as the sign-in page finds them by address."""

    programme_id: str
    contact: Contact


STATES_KEPT = 2000
"""Relationships whose folded state the process keeps (least recently viewed go first)."""

DIRECTORY_TTL = 30.0
"""Seconds a programme entry or a group's names are shown from memory before being read again."""


class Reader:
    def __init__(self, pool: asyncpg.Pool, sealer: Sealer):
        self._pool = pool
        self._events = EventStore(pool)
        self.directory = Directory(pool)
        self.sealer = sealer
        self._states: OrderedDict[str, RelationshipState] = OrderedDict()
        self._programmes: dict[str, tuple[float, ProgrammeEntry | None]] = {}
        self._names: dict[tuple[str, frozenset[str]], tuple[float, dict[str, Contact]]] = {}

    async def relationship(self, relationship_id: str) -> RelationshipState | None:
        """The group's state with its texts opened (an erased person's read ``[erased]``).

        The kept state holds the texts sealed, as stored; they are opened at every view after
        asking which members were erased, so an erasure shows at once in every web process.
        """
        state = await self._sealed_state(relationship_id)
        if state is None:
            return None
        self.sealer.forget(await self.sealer.erased(state.members))
        opened = await self.sealer.open_tree(state.model_dump(mode="json"))
        return RelationshipState.model_validate(opened)

    async def _sealed_state(self, relationship_id: str) -> RelationshipState | None:
        """The state as the store holds it now: the kept one, with the events recorded since."""
        kept = self._states.get(relationship_id)
        records = await self._events.read_stream(
            workflow_id(relationship_id), kept.version if kept is not None else 0
        )
        events = [RELATIONSHIP.decode(r) for r in records]
        if kept is not None:
            state = apply(kept, events) if events else kept  # apply returns a new state
        elif not events or events[0].type != "relationship_started":
            return None
        else:
            state = fold(events)
        self._states[relationship_id] = state
        self._states.move_to_end(relationship_id)
        while len(self._states) > STATES_KEPT:
            self._states.popitem(last=False)
        return state

    async def people(self, programme_id: str, person_ids: Iterable[str]) -> dict[str, Contact]:
        """The directory's contacts of ``person_ids`` (kept for ``DIRECTORY_TTL`` seconds)."""
        key = (programme_id, frozenset(person_ids))
        kept = self._names.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        if len(self._names) > STATES_KEPT:
            self._names.clear()
        contacts = await self.directory.people(programme_id, key[1])
        self._names[key] = (time.monotonic() + DIRECTORY_TTL, contacts)
        return contacts

    async def names(self, programme_id: str, person_ids: Iterable[str]) -> dict[str, str]:
        """Each person's name: from the directory, ``[erased]`` once erased, else the id."""
        ids = set(person_ids)
        contacts = await self.people(programme_id, ids)
        erased = await self.sealer.erased(ids)
        return {
            p: ERASED if p in erased else (contacts[p].name if p in contacts else p) for p in ids
        }

    async def groups_of(self, programme_id: str, person_id: str) -> list[str]:
        """Ids of the groups ``person_id`` was placed in, oldest first."""
        return await memberships.groups_of(self._pool, programme_id, person_id)

    async def person(self, programme_id: str, person_id: str) -> Contact | None:
        return (await self.directory.people(programme_id, [person_id])).get(person_id)

    async def programme(self, programme_id: str) -> ProgrammeEntry | None:
        """The programme's entry (kept for ``DIRECTORY_TTL`` seconds)."""
        kept = self._programmes.get(programme_id)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        entry = await self.directory.programme(programme_id)
        self._programmes[programme_id] = (time.monotonic() + DIRECTORY_TTL, entry)
        return entry

    async def accounts(self, email: str) -> list[Account]:
        """Everyone registered with ``email`` (one person may be in several programmes)."""
        return [Account(*found) for found in await self.directory.registrations(email)]
