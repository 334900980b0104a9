"""API keys on ``/api/v1``: ``Authorization: Bearer KEY`` acts with the key's role on the key's
programme only (``mentorflow staff key create``; ``store.api_keys`` keeps their hashes).

A key holder is judged like a staff member whose programmes are the key's one programme, with
one difference: an auditor key, too, reads that programme only (staff auditors read every one),
so it reads neither another programme's relationships nor the whole log. Elsewhere (the pages,
the codec server) the header is ignored: a key is for machines and never opens a session.
"""

from dataclasses import dataclass

import asyncpg
from fastapi import Request

from mentorflow.audit.records import relationship_id_of
from mentorflow.web.identity import Refused
from mentorflow.web.pages import web_of
from store.api_keys import ApiKeys
from store.event_store import EventStore
from store.staff import Role, StaffMember
from workflows.messages import workflow_id

__all__ = [
    "API_PATHS",
    "KeyHolder",
    "KeyRefused",
    "bearer",
    "check_relationship",
    "check_whole_record",
]

API_PATHS = "/api/"


class KeyRefused(Exception):
    """A bearer key that is not one, or was revoked: 401, whatever session comes with it."""


@dataclass(frozen=True)
class KeyHolder(StaffMember):
    """A machine client, by its key: ``staff_id`` is ``key:<key id>``, ``email`` empty."""

    def reads(self, programme_id: str) -> bool:
        return programme_id in self.programmes

    def acts_on(self, programme_id: str) -> bool:
        return self.role == Role.COORDINATOR and programme_id in self.programmes


async def bearer(request: Request) -> KeyHolder | None:
    """The key holder of an API request that carries ``Authorization: Bearer``, else None."""
    if not request.url.path.startswith(API_PATHS):
        return None
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    key = await ApiKeys(web_of(request).pool).by_secret(secret.strip())
    if key is None:
        raise KeyRefused
    return KeyHolder(f"key:{key.key_id}", "", key.role, (key.programme_id,))


async def check_relationship(pool: asyncpg.Pool, member: StaffMember, relationship_id: str) -> None:
    """A key reads the relationships of its programme only (the one its record names); one not
    in the record is refused alike, so that a key learns nothing of other programmes."""
    if not isinstance(member, KeyHolder):
        return  # staff auditors and admins read every programme's
    stream = workflow_id(relationship_id_of(relationship_id.strip()))
    first = await EventStore(pool).read_stream(stream) if stream else []
    if not first or first[0].payload.get("programme_id") not in member.programmes:
        raise Refused(403, "An API key reads the relationships of its own programme only.")


def check_whole_record(member: StaffMember) -> None:
    """The whole log spans every programme: staff auditors and admins only, not a key."""
    if isinstance(member, KeyHolder):
        raise Refused(403, "An API key reads its own programme only, not the whole log.")
