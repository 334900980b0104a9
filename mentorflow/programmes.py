"""Client side of programmes: start one from its file, read its status, approve its matching.

Used by the CLI (and later the API) against a running Temporal server and worker.
"""

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import yaml
from pydantic import BaseModel, ValidationError
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from contracts.messages import RESUMING, ProgrammeInput, programme_workflow_id
from domain.calendar import calendar
from domain.matching import GOAL_MET, OTHER_UNIT, GroupAssignment
from domain.programme.commands import ApproveMatching, earliest_launch, group_calendar_problem
from domain.programme.events import ProgrammeReport
from domain.programme.model import Participant, Programme
from domain.programme.state import ProgrammeState
from mentorflow.errors import MentorflowError
from mentorflow.programme_files import load_programme
from store import cohorts
from store.delivery_report import failed_deliveries
from store.directory import Contact, Directory, ProgrammeEntry
from store.sealing import ERASED, Sealer, erased_people
from workflows import TASK_QUEUE
from workflows.programme import ProgrammeWorkflow


class ProgrammeError(MentorflowError, RuntimeError):
    """A programme request refused; the message is for the person who made it."""


SCORE_MEANING = (
    f"{GOAL_MET} points for each mentee goal that a mentor's expertise meets, {OTHER_UNIT} for"
    " each mentee whose mentors work in other units"
)


class Upcoming(BaseModel):
    what: str
    at: datetime
    """The instant (UTC); ``local`` is how people read it, in the programme's zone."""
    local: str


class Undelivered(BaseModel):
    kind: str
    person_id: str
    smtp_code: int | None
    error: str | None
    at: datetime


class ProgrammeStatus(BaseModel):
    programme_id: str
    phase: str
    participants: int
    excluded: list[str]
    proposal: dict[str, Any] | None
    approval_due: datetime | None
    groups: list[dict[str, Any]]
    report: dict[str, Any] | None
    timezone: str = "UTC"
    names: dict[str, str] = {}
    """People's names from the directory (the event store), by id."""
    score_meaning: str = SCORE_MEANING
    upcoming: list[Upcoming] = []
    failed_deliveries: list[Undelivered] = []

    def local(self, at: datetime) -> str:
        """``at`` as people read it: local time in the programme's zone, labelled."""
        return local_text(at, self.timezone)

    def name(self, person_id: str) -> str:
        name = self.names.get(person_id)
        return f"{name} ({person_id})" if name else person_id


def local_text(at: datetime, zone: str) -> str:
    return f"{at.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M %Z}"


def _upcoming(state: ProgrammeState, now: datetime) -> list[Upcoming]:
    """The programme's dates still ahead, as the coordinator wrote them."""
    cal, p, zone = state.calendar, state.programme, state.programme.timezone

    def day(at: datetime) -> str:
        return f"{at.astimezone(ZoneInfo(zone)).date():%Y-%m-%d}"

    last_second = timedelta(seconds=1)  # an end instant is the start of the next day
    dates = [
        *(
            [
                (
                    "training deadline (end of day)",
                    cal.training_deadline,
                    day(cal.training_deadline - last_second),
                )
            ]
            if p.training.required
            else []
        ),
        ("matching", cal.matching_at, local_text(cal.matching_at, zone)),
        ("programme starts", cal.starts_at, day(cal.starts_at)),
        ("midpoint survey", cal.midpoint_survey_at, local_text(cal.midpoint_survey_at, zone)),
        *(
            [("closing event", cal.closing_event_at, local_text(cal.closing_event_at, zone))]
            if cal.closing_event_at
            else []
        ),
        ("programme ends (last day)", cal.ends_at, day(cal.ends_at - last_second)),
    ]
    if state.approval_due and state.approved is None:
        dates.append(("approval due", state.approval_due, local_text(state.approval_due, zone)))
    ahead = sorted((at, what, text) for what, at, text in dates if at > now)
    return [Upcoming(what=what, at=at, local=text) for at, what, text in ahead]


@dataclass(frozen=True)
class Prepared:
    """A programme ready to start: the workflow's input, and the contacts kept out of it."""

    request: ProgrammeInput
    contacts: tuple[Participant, ...]
    programme: Programme
    """As the file gives it: with the coordinator's contact, which the request does not carry."""


def prepare(
    file: Path,
    participants: Path | None,
    now: datetime | None = None,
    columns: Path | None = None,
    sheet: str | None = None,
) -> Prepared:
    """The programme in ``file``, ready to start; refuses a start date in the past."""
    loaded = load_programme(file, participants, columns, sheet)
    programme = loaded.programme
    cal = calendar(programme)
    # Today is the programme's own date: one starting today may start (its first day has begun).
    today = (now or datetime.now(UTC)).astimezone(ZoneInfo(programme.timezone)).date()
    if programme.starts_on < today:
        raise ProgrammeError(
            f"programme {programme.id} starts on {programme.starts_on}, which is in the past:"
            " move its dates, or try it with `mentorflow simulate`"
        )
    problem = group_calendar_problem(programme, cal, earliest_launch(cal))
    if problem is not None:
        raise ProgrammeError(f"programme {programme.id}: {problem}")
    # The cohort goes to the store (``start`` stages it), never into Temporal's payloads.
    request = ProgrammeInput(programme=programme, calendar=cal, participants=[], cohort_staged=True)
    return Prepared(request, loaded.participants, programme)


async def register(
    pool: asyncpg.Pool, programme: Programme, participants: Sequence[Participant]
) -> None:
    """Put the programme's people in the directory notifications use; the coordinator too when
    ``programme`` comes from a file (a running programme's state names the coordinator by id).
    Refuses (:class:`ProgrammeError`) people whose personal data was erased.
    """
    coordinator = programme.coordinator
    people = [Contact(p.id, p.name, str(p.email), p.locale.value) for p in participants]
    if coordinator.name is not None and coordinator.email is not None:
        people.insert(
            0, Contact(coordinator.id, coordinator.name, str(coordinator.email), coordinator.locale)
        )
    # An erased person's directory row and data key are gone for good: registering the id again
    # would put their name back beside texts that read "[erased]", and nothing new of theirs
    # could be sealed. Refused before anything is written.
    erased = await erased_people(pool, [c.person_id for c in people])
    if erased:
        raise ProgrammeError(
            f"programme {programme.id}: the personal data of {', '.join(sorted(erased))} was"
            " erased (mentorflow privacy erase); a person erased cannot be enrolled again under"
            " the same id: give them a new one"
        )
    await Directory(pool).register(entry(programme), people)


def entry(programme: Programme) -> ProgrammeEntry:
    """The programme as the directory keeps it."""
    return ProgrammeEntry(
        programme.id,
        programme.name,
        programme.timezone,
        programme.coordinator.id,
        programme.retention.personal_data,
    )


async def stage_cohort(
    pool: asyncpg.Pool, programme: Programme, participants: Sequence[Participant]
) -> None:
    """Stage the participants' profiles for the programme's start (``cohort_staged``)."""
    profiles = [p.profile().model_dump(mode="json") for p in participants]
    await cohorts.stage(pool, programme.id, profiles)


async def start(client: Client, pool: asyncpg.Pool, prepared: Prepared) -> str:
    """Register the contacts, then start the programme; return its workflow id.

    Contacts go first, so the first notification finds them; a programme already running is
    refused before anything is written.
    """
    programme = prepared.programme
    wid = programme_workflow_id(programme.id)
    if await _exists(client, wid):
        raise ProgrammeError(f"programme {programme.id} is already running")
    await register(pool, programme, prepared.contacts)
    await stage_cohort(pool, programme, prepared.contacts)
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


async def status(
    client: Client, programme_id: str, pool: asyncpg.Pool | None = None, now: datetime | None = None
) -> ProgrammeStatus:
    """The programme's state; with ``pool`` (the worker's event store) also people's names and
    the deliveries that failed."""
    state = await programme_state(client, programme_id)
    proposal = None
    if state.proposal is not None:
        proposal = {
            "groups": [g.model_dump(mode="json") for g in state.proposal.groups],
            "unmatched": [u.model_dump(mode="json") for u in state.proposal.unmatched],
            "score": state.proposal.score,
        }
    names: dict[str, str] = {}
    failed: list[Undelivered] = []
    if pool is not None:
        contacts = await Directory(pool).people(programme_id, state.everyone())
        names = {pid: c.name for pid, c in contacts.items()}
        names |= dict.fromkeys(await erased_people(pool, state.everyone()), ERASED)
        failed = [Undelivered(**vars(f)) for f in await failed_deliveries(pool, programme_id)]
    return ProgrammeStatus(
        timezone=state.programme.timezone,
        names=names,
        upcoming=_upcoming(state, now or datetime.now(UTC)),
        failed_deliveries=failed,
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
    sealer: Sealer | None = None,
) -> int:
    """Approve the proposal (or ``groups`` instead), as the coordinator; return the group count.

    A ``reason`` is sealed with the coordinator's data key by ``sealer`` (needed with one).
    """
    state = await programme_state(client, programme_id)
    wid = programme_workflow_id(programme_id)
    handle: WorkflowHandle[ProgrammeWorkflow, ProgrammeReport] = client.get_workflow_handle(wid)
    command = ApproveMatching(by=state.programme.coordinator.id, reason=reason, groups=groups)
    if reason is not None:
        if sealer is None:
            raise ValueError("a reason is free text: it needs a sealer")
        command = await sealer.seal_command(command, command.by)
    try:
        await handle.execute_update(ProgrammeWorkflow.approve_matching, command)
    except WorkflowUpdateFailedError as e:
        raise ProgrammeError(str(e.cause)) from e
    if groups is not None:
        return len(groups)
    return len(state.proposal.groups) if state.proposal else 0


async def programme_state(client: Client, programme_id: str) -> ProgrammeState:
    """The running programme's state (its workflow's query); a one-line refusal if none."""
    # (typed by hand: mypy cannot always infer the handle from ProgrammeWorkflow.run here)
    handle: WorkflowHandle[ProgrammeWorkflow, ProgrammeReport] = client.get_workflow_handle(
        programme_workflow_id(programme_id)
    )
    for _ in range(RESUMING_TRIES):
        try:
            state: ProgrammeState = await handle.query(ProgrammeWorkflow.state)
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                raise ProgrammeError(f"no programme {programme_id!r}") from e
            raise
        except WorkflowQueryFailedError as e:
            if str(e) != RESUMING:
                raise ProgrammeError(f"programme {programme_id}: {e}") from e
            await asyncio.sleep(0.2)  # a new run is reading its state from the store
            continue
        return state
    raise ProgrammeError(f"programme {programme_id}: {RESUMING}")


RESUMING_TRIES = 150
"""Half a minute: a new run of a programme of thousands reads its state in a few seconds."""


def status_lines(s: ProgrammeStatus) -> list[str]:
    """``programme status`` for people: names, local times labelled with the zone, reasons."""
    lines = [f"{s.programme_id}: {s.phase}, {s.participants} participants (times in {s.timezone})"]
    if s.upcoming:
        lines.append("  ahead:")
        lines += [f"    {u.local}  {u.what}" for u in s.upcoming]
    if s.excluded:
        names = ", ".join(s.name(p) for p in s.excluded)
        lines.append(f"  not trained in time (not matched): {names}")
    if s.proposal:
        groups = s.proposal["groups"]
        lines.append(f"  proposal: {len(groups)} groups, score {s.proposal['score']}")
        lines.append(f"    (score: {s.score_meaning})")
        for g in groups:
            mentors = ", ".join(s.name(p) for p in g["mentors"])
            mentees = ", ".join(s.name(p) for p in g["mentees"])
            lines.append(f"    group {g['number']} (score {g['score']}): mentors {mentors}")
            lines.append(f"      mentees {mentees}")
            for why in g["explanation"]:
                met = "; ".join(
                    f"{goal} ({', '.join(s.names.get(m, m) for m in mentors_)})"
                    for goal, mentors_ in why["goals_met"].items()
                )
                other = ", mentors from other units" if why["other_unit"] else ""
                lines.append(
                    f"      {s.names.get(why['mentee'], why['mentee'])}: "
                    f"{'goals met: ' + met if met else 'no goal met'}{other}"
                )
        for u in s.proposal["unmatched"]:
            lines.append(f"    not placed {s.name(u['person_id'])}: {u['reason']}")
    if s.approval_due and s.phase == "approval":
        lines.append(
            f"  waiting for approval, due {s.local(s.approval_due)}: approve with"
            f" `mentorflow programme approve-matching {s.programme_id}`"
        )
    for g in s.groups:
        lines.append(f"  group {g['number']} ({g['relationship_id']}): {g['outcome'] or 'running'}")
    if s.failed_deliveries:
        lines.append(f"  mail NOT delivered: {len(s.failed_deliveries)}")
        for f in s.failed_deliveries:
            why = f"{f.smtp_code} {f.error}" if f.smtp_code else f.error
            lines.append(f"    {s.local(f.at)}  {f.kind} to {s.name(f.person_id)}: {why}")
    if s.report:
        lines.append(f"  report: {json.dumps(s.report)}")
    return lines
