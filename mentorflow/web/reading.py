"""What the pages show, read from the event store and the people directory (never written).

A relationship's state is the domain's ``fold`` of its stored events: exactly what the workflow
holds after its last append, readable even when no worker runs.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

from domain.events import from_record
from domain.fold import fold
from domain.state import RelationshipState
from store.directory import Contact, Directory, ProgrammeEntry
from store.event_store import EventStore
from store.sealing import ERASED, Sealer
from workflows.messages import workflow_id


@dataclass(frozen=True)
class Account:
    """A person of one programme, as the sign-in page finds them by address."""

    programme_id: str
    contact: Contact


class Reader:
    def __init__(self, pool: asyncpg.Pool, sealer: Sealer):
        self._pool = pool
        self._events = EventStore(pool)
        self.directory = Directory(pool)
        self.sealer = sealer

    async def relationship(self, relationship_id: str) -> RelationshipState | None:
        """The group's state with its texts opened (an erased person's read ``[erased]``)."""
        records = await self._events.read_stream(workflow_id(relationship_id))
        if not records or records[0].type != "relationship_started":
            return None
        return fold(
            [
                from_record(
                    r.type,
                    r.event_id,
                    r.occurred_at,
                    r.actor,
                    await self.sealer.open_tree(r.payload),
                )
                for r in records
            ]
        )

    async def names(self, programme_id: str, person_ids: Iterable[str]) -> dict[str, str]:
        """Each person's name: from the directory, ``[erased]`` once erased, else the id."""
        ids = set(person_ids)
        contacts = await self.directory.people(programme_id, ids)
        erased = await self.sealer.erased(ids)
        return {
            p: ERASED if p in erased else (contacts[p].name if p in contacts else p) for p in ids
        }

    async def groups_of(self, programme_id: str, person_id: str) -> list[str]:
        """Ids of the groups ``person_id`` was placed in, oldest first."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT payload->>'relationship_id' AS id FROM events"
                " WHERE type = 'relationship_started' AND payload->>'programme_id' = $1"
                " AND payload->'members'"
                " @> jsonb_build_array(jsonb_build_object('person_id', $2::text))"
                " ORDER BY global_position",
                programme_id,
                person_id,
            )
        return [str(r["id"]) for r in rows]

    async def person(self, programme_id: str, person_id: str) -> Contact | None:
        return (await self.directory.people(programme_id, [person_id])).get(person_id)

    async def programme(self, programme_id: str) -> ProgrammeEntry | None:
        return await self.directory.programme(programme_id)

    async def accounts(self, email: str) -> list[Account]:
        """Everyone registered with ``email`` (one person may be in several programmes)."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT programme_id, person_id, name, email, locale FROM people"
                " WHERE lower(email) = lower($1) ORDER BY programme_id",
                email,
            )
        return [
            Account(r["programme_id"], Contact(r["person_id"], r["name"], r["email"], r["locale"]))
            for r in rows
        ]
