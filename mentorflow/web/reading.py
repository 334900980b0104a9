"""What the pages show, read from the event store and the people directory (never written).

A relationship's state is the domain's ``fold`` of its stored events: exactly what the workflow
holds after its last append, readable even when no worker runs.
"""

from dataclasses import dataclass

import asyncpg

from domain.events import from_record
from domain.fold import fold
from domain.state import RelationshipState
from store import memberships
from store.directory import Contact, Directory, ProgrammeEntry
from store.event_store import EventStore
from workflows.messages import workflow_id


@dataclass(frozen=True)
class Account:
    """A person of one programme, as the sign-in page finds them by address."""

    programme_id: str
    contact: Contact


class Reader:
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool
        self._events = EventStore(pool)
        self.directory = Directory(pool)

    async def relationship(self, relationship_id: str) -> RelationshipState | None:
        records = await self._events.read_stream(workflow_id(relationship_id))
        if not records or records[0].type != "relationship_started":
            return None
        return fold(
            from_record(r.type, r.event_id, r.occurred_at, r.actor, r.payload) for r in records
        )

    async def groups_of(self, programme_id: str, person_id: str) -> list[str]:
        """Ids of the groups ``person_id`` was placed in, oldest first."""
        return await memberships.groups_of(self._pool, programme_id, person_id)

    async def person(self, programme_id: str, person_id: str) -> Contact | None:
        return (await self.directory.people(programme_id, [person_id])).get(person_id)

    async def programme(self, programme_id: str) -> ProgrammeEntry | None:
        return await self.directory.programme(programme_id)

    async def accounts(self, email: str) -> list[Account]:
        """Everyone registered with ``email`` (one person may be in several programmes)."""
        return [Account(*found) for found in await self.directory.registrations(email)]
