"""Bring a running programme in line with a new HR export, through the programme's own Updates.

:func:`plan` compares the export with the programme's participants (and the directory's contact
details) and says what is new, gone and changed; :func:`apply` carries it out as the coordinator,
each change with the reason "HR import". What the rules do not let a file decide is listed for
the coordinator instead: people in a group who are gone from the export are never removed here,
and after the matching nobody joins or leaves through an import. Applying a plan and then
planning again from the same export finds nothing to do.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import asyncpg
from temporalio.client import Client, WorkflowUpdateFailedError

from domain.model import PersonId
from domain.programme.commands import Enrol, Remove, UpdateProfile
from domain.programme.events import ProgrammePhase
from domain.programme.model import Participant, Profile
from domain.programme.state import ProgrammeState
from store.directory import Contact, Directory
from store.sealing import erased_people
from workflows.messages import programme_workflow_id

REASON = "HR import"
PROFILE_FIELDS = (
    "role", "locale", "unit", "manager", "expertise", "goals", "capacity", "trained_on",
)  # fmt: skip
CONTACT_FIELDS = ("name", "email", "locale")
_OPEN = (ProgrammePhase.ENROLMENT, ProgrammePhase.MATCHING)


@dataclass
class SyncPlan:
    """What an export changes in a programme, and what is left to the coordinator."""

    programme_id: str
    phase: str
    enrol: list[Participant] = field(default_factory=list)
    remove: list[PersonId] = field(default_factory=list)
    update: list[tuple[Participant, list[str]]] = field(default_factory=list)
    """Profiles that changed, with the names of the fields that did."""
    contacts: list[tuple[Participant, list[str]]] = field(default_factory=list)
    """Contact details (directory only) that changed, with the fields that did."""
    decide: list[tuple[PersonId, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.enrol or self.remove or self.update or self.contacts)

    def as_json(self) -> dict[str, Any]:
        return {
            "programme_id": self.programme_id,
            "phase": self.phase,
            "new": [p.id for p in self.enrol],
            "gone": self.remove,
            "changed": {p.id: f for p, f in self.update},
            "contacts_changed": {p.id: f for p, f in self.contacts},
            "to_decide": [{"person_id": pid, "why": why} for pid, why in self.decide],
        }

    def lines(self) -> list[str]:
        out = [f"{self.programme_id}: {self.phase}"]
        if self.enrol:
            out.append(f"new ({len(self.enrol)}): " + ", ".join(self._named(self.enrol)))
        if self.remove:
            out.append(f"gone ({len(self.remove)}): " + ", ".join(self.remove))
        for title, changes in (("changed", self.update), ("contact details", self.contacts)):
            if changes:
                shown = [f"{p.id} ({', '.join(f)})" for p, f in changes]
                out.append(f"{title} ({len(changes)}): " + ", ".join(shown))
        if self.decide:
            out.append(f"for you to decide ({len(self.decide)}):")
            out += [f"  {pid}: {why}" for pid, why in self.decide]
        if self.empty and self.decide:
            out.append("nothing to change by import: the people above are for you to decide")
        elif self.empty:
            out.append("nothing to change: the programme matches the export")
        return out

    @staticmethod
    def _named(people: Sequence[Participant]) -> list[str]:
        return [f"{p.id} {p.name}" for p in people]


def plan(
    state: ProgrammeState,
    contacts: dict[PersonId, Contact],
    people: Sequence[Participant],
    erased: Collection[PersonId] = (),
) -> SyncPlan:
    """What the export ``people`` changes in the programme ``state`` (pure: no I/O).

    People whose personal data was ``erased`` are left as they are, whatever the export says
    (listed under ``decide``): an export that still lists them syncs everyone else, every time.
    """
    result = SyncPlan(state.programme.id, state.phase.value)
    is_open = state.phase in _OPEN
    groups = _groups(state)
    exported = {p.id for p in people}
    for p in people:
        if p.id == state.programme.coordinator.id:
            result.decide.append((p.id, "is the programme's coordinator: not enrolled"))
            continue
        if p.id in erased:
            result.decide.append((p.id, "personal data erased: not synced (a new id enrols them)"))
            continue
        current = state.participants.get(p.id)
        if current is None:
            _new(result, p, is_open)
            continue
        changed = _profile_changes(current, p.profile())
        if changed and is_open:
            result.update.append((p, changed))
        elif changed and [f for f in changed if f != "locale"]:
            result.decide.append(
                (p.id, f"details changed ({', '.join(changed)}) after the matching: not applied")
            )
        contact = _contact_changes(contacts.get(p.id), p)
        if contact:
            result.contacts.append((p, contact))
    for pid in state.participants:
        if pid in exported:
            continue
        if pid in groups:
            result.decide.append(
                (pid, f"is in {groups[pid]} and gone from the export: not removed")
            )
        elif is_open:
            result.remove.append(pid)
        else:
            result.decide.append((pid, "gone from the export; the matching is done: not removed"))
    return result


def _new(result: SyncPlan, p: Participant, is_open: bool) -> None:
    if is_open:
        result.enrol.append(p)
    else:
        result.decide.append((p.id, "new in the export; the matching is done: not enrolled"))


def _groups(state: ProgrammeState) -> dict[PersonId, str]:
    """Where each person in a group is: launched groups, or the approved or proposed ones."""
    found: dict[PersonId, str] = {}
    for rid, g in state.launched.items():
        if g.outcome is None:
            found |= {m: f"group {g.number} ({rid})" for m in (*g.mentors, *g.mentees)}
    for proposed in state.approved or (state.proposal.groups if state.proposal else ()):
        for m in (*proposed.mentors, *proposed.mentees):
            found.setdefault(m, f"group {proposed.number}")
    return found


def _profile_changes(current: Profile, new: Profile) -> list[str]:
    return [f for f in PROFILE_FIELDS if getattr(current, f) != getattr(new, f)]


def _contact_changes(current: Contact | None, p: Participant) -> list[str]:
    if current is None:
        return list(CONTACT_FIELDS)
    now = {"name": p.name, "email": str(p.email), "locale": p.locale.value}
    return [f for f in CONTACT_FIELDS if getattr(current, f) != now[f]]


@dataclass
class Applied:
    enrolled: list[PersonId] = field(default_factory=list)
    removed: list[PersonId] = field(default_factory=list)
    updated: list[PersonId] = field(default_factory=list)
    contacts: list[PersonId] = field(default_factory=list)
    refused: list[tuple[PersonId, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "enrolled": self.enrolled,
            "removed": self.removed,
            "updated": self.updated,
            "contacts_updated": self.contacts,
            "refused": [{"person_id": pid, "why": why} for pid, why in self.refused],
        }


async def load(
    client: Client, pool: asyncpg.Pool, programme_id: str
) -> tuple[ProgrammeState, dict[PersonId, Contact]]:
    """The programme's state (from its workflow) and its people's contacts (the directory)."""
    from mentorflow.programmes import programme_state

    state = await programme_state(client, programme_id)
    contacts = await Directory(pool).people(programme_id, state.participants)
    return state, contacts


async def apply(
    client: Client, pool: asyncpg.Pool, state: ProgrammeState, sync: SyncPlan
) -> Applied:
    """Carry out ``sync`` as the coordinator: contacts first, so the first letter finds them."""
    from mentorflow.programmes import register

    done = Applied()
    sync = await _without_erased(pool, sync, done)
    people = [*sync.enrol, *(p for p, _ in sync.contacts)]
    if people:
        await register(pool, state.programme, people)
        done.contacts = [p.id for p, _ in sync.contacts]
    by = state.programme.coordinator.id
    handle = client.get_workflow_handle(programme_workflow_id(state.programme.id))
    steps: list[tuple[str, PersonId, Any, list[PersonId]]] = [
        *(("enrol", p.id, Enrol(by=by, profile=p.profile(), reason=REASON), done.enrolled)
          for p in sync.enrol),
        *(("update_participant", p.id, UpdateProfile(by=by, profile=p.profile(), reason=REASON),
           done.updated) for p, _ in sync.update),
        *(("remove", pid, Remove(by=by, person_id=pid, reason=REASON), done.removed)
          for pid in sync.remove),
    ]  # fmt: skip
    for update, pid, command, into in steps:
        try:
            await handle.execute_update(update, command)
        except WorkflowUpdateFailedError as e:
            done.refused.append((pid, str(e.cause)))
            continue
        into.append(pid)
    return done


ERASED_WHY = "their personal data was erased (mentorflow privacy erase): enrol them under a new id"


async def _without_erased(pool: asyncpg.Pool, sync: SyncPlan, done: Applied) -> SyncPlan:
    """``sync`` without enrolments, profile or contact updates of people whose personal data was
    erased (an export still listing them must not bring their name back); those go to
    ``done.refused``. Removals stay: they carry an id only."""
    wanted = [p.id for p in sync.enrol] + [p.id for p, _ in (*sync.update, *sync.contacts)]
    erased = await erased_people(pool, wanted)
    if not erased:
        return sync
    done.refused.extend((pid, ERASED_WHY) for pid in sorted(erased))
    return replace(
        sync,
        enrol=[p for p in sync.enrol if p.id not in erased],
        update=[(p, f) for p, f in sync.update if p.id not in erased],
        contacts=[(p, f) for p, f in sync.contacts if p.id not in erased],
    )
