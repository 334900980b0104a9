"""A programme's cohort kept in the store, out of Temporal's payloads (limited to 2 MB).

The steps of ProgrammeWorkflow whose data grows with the cohort do their work here, against the
event store: the start reads the staged cohort into ``programme_started`` (and clears it once
stored); the matching reads the cohort from the programme's own events, computes the groups and
records the proposal. Their inputs and results are a few ids and numbers. The workflow then takes
in its stream by :meth:`CohortKeeping.read_programme_chunk`, in pieces of at most ``CHUNK``
characters, so that its state is still ``fold(events)`` of exactly what the store holds.
"""

import asyncio
from collections import OrderedDict
from uuid import UUID

import asyncpg
from pydantic import AwareDatetime, TypeAdapter
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.record_keeping import AppendEventsResult, RecordKeeping
from domain.codec import PROGRAMME
from domain.factory import EventFactory
from domain.matching import MatchingRules, match
from domain.model import Frozen
from domain.programme import commands
from domain.programme.events import ProgrammeEvent, ProgrammeStarted
from domain.programme.fold import fold
from domain.programme.model import Profile
from store import cohorts
from store.event_store import EventStore

CHUNK = 64 * 1024
"""Characters of a stream's JSON per read: every result stays far below Temporal's limits."""

TEXTS_KEPT = 4
"""Streams' texts kept for the reads of their next pieces (a few programmes resuming at once)."""

_EVENTS = TypeAdapter(list[ProgrammeEvent])


class RecordStartInput(Frozen):
    """``started`` without its participants: the activity adds the cohort staged for it."""

    stream_id: str
    started: ProgrammeStarted


class ProposeInStoreInput(Frozen):
    """Match the cohort of ``stream_id`` at ``expected_version``; the events' ids and time come
    from the workflow, so a retried activity records the same proposal once."""

    stream_id: str
    expected_version: int
    rules: MatchingRules
    now: AwareDatetime
    event_ids: list[UUID]


class ReadChunkInput(Frozen):
    stream_id: str
    after_version: int
    up_to_version: int | None = None
    """None on the first read: the stream's version then, returned for the following reads."""
    offset: int = 0


class EventsChunk(Frozen):
    """Characters ``offset`` to ``offset + len(text)`` of the JSON list of the events after
    ``after_version`` up to ``up_to_version``; ``total`` is the whole list's length."""

    text: str
    total: int
    up_to_version: int


def parse_events(text: str) -> list[ProgrammeEvent]:
    """The events of the chunks' texts joined (what the workflow folds)."""
    return _EVENTS.validate_json(text)


class CohortKeeping:
    def __init__(self, pool: asyncpg.Pool, store: EventStore):
        self._pool, self._store = pool, store
        self._recording = RecordKeeping(store)
        self._texts: OrderedDict[tuple[str, int, int], str] = OrderedDict()

    @activity.defn
    async def record_programme_start(self, request: RecordStartInput) -> AppendEventsResult:
        """Append ``programme_started`` with the cohort staged for the programme, then clear
        the staged cohort (the event holds it now).

        Idempotent: retried after the event was stored (the activity's result lost, or the
        clearing failed), it finds the event by its id and needs no staged rows.
        """
        programme_id = request.started.programme.id
        position = await cohorts.start_recorded(
            self._pool, request.stream_id, request.started.event_id
        )
        if position is not None:
            result = AppendEventsResult(
                version=1, first_position=position, last_position=position, already_recorded=True
            )
        else:
            staged = await cohorts.staged(self._pool, programme_id)
            profiles = tuple(Profile.model_validate(p) for p in staged)
            started = request.started.model_copy(update={"participants": profiles})
            result = await self._recording.append_programme(request.stream_id, 0, [started])
        await cohorts.clear(self._pool, programme_id)
        return result

    @activity.defn
    async def propose_matching_in_store(self, request: ProposeInStoreInput) -> AppendEventsResult:
        """Groups for the programme's cohort as its events hold it, recorded as the proposal."""
        records = await self._store.read_stream(request.stream_id)
        if len(records) != request.expected_version:
            raise ApplicationError(
                f"stream {request.stream_id} is at version {len(records)},"
                f" not {request.expected_version}",
                type="ConcurrencyConflict",
                non_retryable=True,
            )
        state = fold(PROGRAMME.decode(r) for r in records)
        # CPU work of seconds for a large cohort: off the worker's event loop.
        result = await asyncio.to_thread(match, list(state.participants.values()), request.rules)
        ids = iter(request.event_ids)
        events = commands.proposal_events(state, result, EventFactory(request.now, ids.__next__))
        return await self._recording.append_programme(
            request.stream_id, request.expected_version, events
        )

    @activity.defn
    async def read_programme_chunk(self, request: ReadChunkInput) -> EventsChunk:
        """A piece of the programme's stream after a version, as JSON text.

        A text longer than a piece is kept for the reads of the next pieces (stored events never
        change): a stream of 2 MB read in 30 pieces was read from the store and encoded 30 times.
        Another worker, or this one after the text was dropped, encodes the same text again.
        """
        upto = request.up_to_version  # None on a first read: up to the stream's end, now
        key = (request.stream_id, request.after_version, upto or 0)
        text = self._texts.get(key) if upto is not None else None
        if text is None:
            records = await self._store.read_stream(request.stream_id)
            upto = len(records) if upto is None else upto
            events = [
                PROGRAMME.decode(r) for r in records if request.after_version < r.version <= upto
            ]
            text = _EVENTS.dump_json(events).decode()
            if len(text) > CHUNK:
                self._keep((request.stream_id, request.after_version, upto), text)
        else:
            self._texts.move_to_end(key)
        piece = text[request.offset : request.offset + CHUNK]
        return EventsChunk(text=piece, total=len(text), up_to_version=upto)

    def _keep(self, key: tuple[str, int, int], text: str) -> None:
        self._texts[key] = text
        self._texts.move_to_end(key)
        while len(self._texts) > TEXTS_KEPT:
            self._texts.popitem(last=False)
