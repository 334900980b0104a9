"""Client side of programmes: start one from its file, read its status, approve its matching.

Used by the CLI (and later the API) against a running Temporal server and worker.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import yaml
from pydantic import BaseModel, ValidationError
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.calendar import calendar
from domain.matching import GroupAssignment
from domain.programme import Participant, Programme
from domain.programme_rules import ApproveMatching, earliest_launch, group_calendar_problem
from domain.programme_state import ProgrammeState
from mentorflow.programme_files import load_programme
from store.directory import Contact, Directory, ProgrammeEntry
from workflows import TASK_QUEUE
from workflows.messages import ProgrammeInput, programme_workflow_id
from workflows.programme import ProgrammeWorkflow


class ProgrammeError(RuntimeError):
    """A programme request refused; the message is for the person who made it."""


class ProgrammeStatus(BaseModel):
    programme_id: str
    phase: str
    participants: int
    excluded: list[str]
    proposal: dict[str, Any] | None
    approval_due: datetime | None
    groups: list[dict[str, Any]]
    report: dict[str, Any] | None


@dataclass(frozen=True)
class Prepared:
    """A programme ready to start: the workflow's input, and the contacts kept out of it."""

    request: ProgrammeInput
    contacts: tuple[Participant, ...]


def prepare(file: Path, participants: Path | None, now: datetime | None = None) -> Prepared:
    """The programme in ``file``, ready to start; refuses a start date in the past."""
    loaded = load_programme(file, participants)
    programme = loaded.programme
    cal = calendar(programme)
    if cal.starts_at <= (now or datetime.now(UTC)):
        raise ProgrammeError(
            f"programme {programme.id} starts on {programme.starts_on}, which is in the past:"
            " move its dates, or try it with `mentorflow simulate`"
        )
    problem = group_calendar_problem(programme, cal, earliest_launch(cal))
    if problem is not None:
        raise ProgrammeError(f"programme {programme.id}: {problem}")
    profiles = [p.profile() for p in loaded.participants]
    request = ProgrammeInput(programme=programme, calendar=cal, participants=profiles)
    return Prepared(request, loaded.participants)


async def register(
    pool: asyncpg.Pool, programme: Programme, participants: Sequence[Participant]
) -> None:
    """Put the programme's people (the coordinator too) in the directory notifications use."""
    coordinator = programme.coordinator
    people = [
        Contact(coordinator.id, coordinator.name, str(coordinator.email), coordinator.locale),
        *(Contact(p.id, p.name, str(p.email), p.locale.value) for p in participants),
    ]
    entry = ProgrammeEntry(programme.id, programme.name, programme.timezone, coordinator.id)
    await Directory(pool).register(entry, people)


async def start(client: Client, pool: asyncpg.Pool, prepared: Prepared) -> str:
    """Register the contacts, then start the programme; return its workflow id.

    Contacts go first, so the first notification finds them; a programme already running is
    refused before anything is written.
    """
    programme = prepared.request.programme
    wid = programme_workflow_id(programme.id)
    if await _exists(client, wid):
        raise ProgrammeError(f"programme {programme.id} is already running")
    await register(pool, programme, prepared.contacts)
    try:
        await client.start_workflow(
            ProgrammeWorkflow.run, prepared.request, id=wid, task_queue=TASK_QUEUE
        )
    except WorkflowAlreadyStartedError as e:
        raise ProgrammeError(f"programme {programme.id} is already running") from e
    return wid


async def _exists(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def status(client: Client, programme_id: str) -> ProgrammeStatus:
    state = await _state(client, programme_id)
    proposal = None
    if state.proposal is not None:
        proposal = {
            "groups": [g.model_dump(mode="json") for g in state.proposal.groups],
            "unmatched": [u.model_dump(mode="json") for u in state.proposal.unmatched],
            "score": state.proposal.score,
        }
    return ProgrammeStatus(
        programme_id=programme_id,
        phase=state.phase,
        participants=len(state.participants),
        excluded=state.excluded,
        proposal=proposal,
        approval_due=state.approval_due,
        groups=[
            {"relationship_id": rid, **g.model_dump(mode="json")}
            for rid, g in state.launched.items()
        ],
        report=state.report.model_dump(mode="json") if state.report else None,
    )


def load_groups(path: Path) -> tuple[GroupAssignment, ...]:
    """An edited assignment: a YAML list of ``{mentors: [...], mentees: [...]}``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return tuple(GroupAssignment.model_validate(g) for g in data)
    except OSError as e:
        raise ProgrammeError(f"{path}: cannot read: {e.strerror}") from e
    except (yaml.YAMLError, ValidationError, TypeError) as e:
        raise ProgrammeError(
            f"{path}: must be a YAML list of groups such as"
            " `- {mentors: [m1, m2], mentees: [a1, a2]}`"
        ) from e


async def approve_matching(
    client: Client,
    programme_id: str,
    reason: str | None = None,
    groups: tuple[GroupAssignment, ...] | None = None,
) -> int:
    """Approve the proposal (or ``groups`` instead), as the coordinator; return the group count."""
    state = await _state(client, programme_id)
    wid = programme_workflow_id(programme_id)
    handle = client.get_workflow_handle_for(ProgrammeWorkflow.run, wid)
    command = ApproveMatching(by=state.programme.coordinator.id, reason=reason, groups=groups)
    try:
        await handle.execute_update(ProgrammeWorkflow.approve_matching, command)
    except WorkflowUpdateFailedError as e:
        raise ProgrammeError(str(e.cause)) from e
    if groups is not None:
        return len(groups)
    return len(state.proposal.groups) if state.proposal else 0


async def _state(client: Client, programme_id: str) -> ProgrammeState:
    handle = client.get_workflow_handle_for(
        ProgrammeWorkflow.run, programme_workflow_id(programme_id)
    )
    try:
        state: ProgrammeState = await handle.query(ProgrammeWorkflow.state)
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise ProgrammeError(f"no programme {programme_id!r}") from e
        raise
    except WorkflowQueryFailedError as e:
        raise ProgrammeError(f"programme {programme_id}: {e}") from e
    return state
