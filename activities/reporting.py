"""The programme report, counted from the stored events of its relationships."""

from temporalio import activity

from contracts.messages import workflow_id
from domain.codec import RELATIONSHIP
from domain.envelope import Outcome
from domain.model import Frozen
from domain.programme.events import ProgrammeReport
from domain.relationship.events import RelationshipClosed
from domain.summary import add_up, summarise
from store.event_store import EventStore


class ReportInput(Frozen):
    relationship_ids: list[str]
    unmatched: int


class ClosureInput(Frozen):
    relationship_id: str


class RecordedClosure(Frozen):
    outcome: Outcome
    reason: str


class Reporting:
    def __init__(self, store: EventStore):
        self._store = store

    @activity.defn
    async def programme_report(self, request: ReportInput) -> ProgrammeReport:
        summaries = []
        for rid in request.relationship_ids:
            records = await self._store.read_stream(workflow_id(rid))
            events = [RELATIONSHIP.decode(r) for r in records]
            summaries.append(summarise(events)[1])
        return ProgrammeReport.model_validate({**add_up(summaries), "unmatched": request.unmatched})

    @activity.defn
    async def recorded_closure(self, request: ClosureInput) -> RecordedClosure | None:
        """How a group closed, as its own workflow recorded it; none if it has not closed.

        A ``relationship_ended`` signal is believed only when this confirms it: anyone who can
        reach Temporal can send a signal, but only the group's workflow appends to its stream.
        """
        records = await self._store.read_stream(workflow_id(request.relationship_id))
        for r in reversed(records):
            if r.type == "relationship_closed":
                closed = RELATIONSHIP.decode(r)
                assert isinstance(closed, RelationshipClosed)
                return RecordedClosure(outcome=closed.outcome, reason=closed.reason)
        return None
