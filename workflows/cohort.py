"""ProgrammeWorkflow's cohort through the store: every payload stays small at any cohort size.

Temporal refuses a payload over 2 MB; a programme's cohort (its people's profiles, the proposal,
the approved groups) grows with its size. So the steps whose data grows with it run against the
event store (``activities.cohort``), and the workflow takes its own stream in by pieces of
``activities.cohort.CHUNK`` characters: its state is ``fold(events)`` of what the store holds,
and a new run (continue-as-new) starts from the store rather than from a carried snapshot.
"""

from datetime import timedelta

from temporalio import workflow

from workflows import plumbing

with workflow.unsafe.imports_passed_through():
    from activities.cohort import (
        CohortKeeping,
        EventsChunk,
        ProposeInStoreInput,
        ReadChunkInput,
        RecordStartInput,
        parse_events,
    )
    from domain.matching import MatchingRules
    from domain.programme.events import ProgrammeEvent, ProgrammeStarted

BOUNDED_PATCH = "bounded-payloads"
"""Runs recorded before it match with the cohort in the activity's input and carry their whole
state into the next run."""

MATCHING_EVENTS = 3
"""Ids drawn for the proposal's events (proposed, approved, phase entered: at most three)."""


async def read_stream(stream_id: str, after_version: int) -> list[ProgrammeEvent]:
    """The programme's stored events after ``after_version``, read in bounded pieces."""
    request = ReadChunkInput(stream_id=stream_id, after_version=after_version)
    chunk = await _read(request)
    text = [chunk.text]
    offset = len(chunk.text)
    while offset < chunk.total:
        request = request.model_copy(
            update={"up_to_version": chunk.up_to_version, "offset": offset}
        )
        piece = await _read(request)
        text.append(piece.text)
        offset += len(piece.text)
    return parse_events("".join(text))


async def _read(request: ReadChunkInput) -> EventsChunk:
    return await workflow.execute_activity_method(
        CohortKeeping.read_programme_chunk,
        request,
        start_to_close_timeout=plumbing.ACTIVITY_TIMEOUT,
        retry_policy=plumbing.RECORD_RETRY,
    )


async def record_start(stream_id: str, started: ProgrammeStarted) -> None:
    """Append ``started`` with the cohort its starter staged in the store."""
    await workflow.execute_activity_method(
        CohortKeeping.record_programme_start,
        RecordStartInput(stream_id=stream_id, started=started),
        start_to_close_timeout=timedelta(minutes=2),
        retry_policy=plumbing.RECORD_RETRY,
    )


async def propose_matching(stream_id: str, version: int, rules: MatchingRules) -> None:
    """Match the cohort as the stream holds it at ``version`` and record the proposal."""
    await workflow.execute_activity_method(
        CohortKeeping.propose_matching_in_store,
        ProposeInStoreInput(
            stream_id=stream_id,
            expected_version=version,
            rules=rules,
            now=workflow.now(),
            event_ids=[workflow.uuid4() for _ in range(MATCHING_EVENTS)],
        ),
        start_to_close_timeout=timedelta(minutes=10),
        retry_policy=plumbing.RECORD_RETRY,
    )
