"""Counting what happened in relationships, from their events: for reports and the demo.

Counts come from the events (via the fold), never from a workflow's memory, so a report states
exactly what the record holds.
"""

from collections import Counter
from collections.abc import Iterable, Sequence

from pydantic import BaseModel

from domain.feedback import SCALE
from domain.model import PersonId
from domain.relationship.events import FeedbackRequested, RelationshipEvent
from domain.relationship.fold import fold
from domain.relationship.state import MeetingStatus, RelationshipState


class FeedbackCount(BaseModel):
    answered: int = 0
    late: int = 0
    missing: list[PersonId] = []


class RelationshipSummary(BaseModel):
    relationship_id: str
    outcome: str | None
    reason: str | None
    meetings_held: int
    meetings_missed: int
    feedback: dict[str, FeedbackCount]
    escalations: dict[str, int]
    scales: dict[str, dict[str, dict[str, int]]] = {}
    """Per round and scale question: how many answered each number."""


MIN_AGGREGATE = 3
"""A distribution of answers is reported only over at least this many people (one person's or
two people's answers could be told apart)."""


def _scales(state: RelationshipState) -> dict[str, dict[str, dict[str, int]]]:
    questions = state.policy.feedback_questions
    if questions is None:
        return {}
    found: dict[str, dict[str, dict[str, int]]] = {}
    for r in state.feedback.values():
        for q in questions.of(r.round):
            if q.type != "scale":
                continue
            values = Counter(a.choices[q.id] for a in r.answers.values() if q.id in a.choices)
            if values:
                found.setdefault(str(r.round), {})[q.id] = dict(values)
    return found


def summarise(events: Sequence[RelationshipEvent]) -> tuple[RelationshipState, RelationshipSummary]:
    """The state and the counts of one relationship's stream."""
    state = fold(events)
    # Who was asked, not who is still a member: someone who withdrew later still did not answer.
    asked = {e.round: e.recipients for e in events if isinstance(e, FeedbackRequested)}
    feedback = {
        str(r.round): FeedbackCount(
            answered=len(r.answers),
            late=sum(a.late for a in r.answers.values()),
            missing=[p for p in asked.get(r.round, ()) if p not in r.answers],
        )
        for r in state.feedback.values()
    }
    return state, RelationshipSummary(
        relationship_id=state.relationship_id,
        outcome=state.closure.outcome if state.closure else None,
        reason=state.closure.reason if state.closure else None,
        meetings_held=sum(m.status == MeetingStatus.HELD for m in state.meetings),
        meetings_missed=sum(
            m.status in (MeetingStatus.MISSED, MeetingStatus.NOT_HELD) for m in state.meetings
        ),
        feedback=feedback,
        escalations=dict(Counter(str(e.kind) for e in state.escalations)),
        scales=_scales(state),
    )


def _distributions(
    scales: dict[str, dict[str, Counter[str]]],
) -> dict[str, dict[str, dict[str, int]]]:
    found: dict[str, dict[str, dict[str, int]]] = {}
    for name, questions in sorted(scales.items()):
        for question, values in questions.items():
            if values.total() >= MIN_AGGREGATE:
                found.setdefault(name, {})[question] = {n: values[n] for n in SCALE}
    return found


def add_up(summaries: Iterable[RelationshipSummary]) -> dict[str, object]:
    """Totals over many relationships (the programme report's numbers)."""
    items = list(summaries)
    feedback: dict[str, dict[str, int]] = {}
    for s in items:
        for name, count in s.feedback.items():
            total = feedback.setdefault(name, {"answered": 0, "late": 0, "missing": 0})
            total["answered"] += count.answered
            total["late"] += count.late
            total["missing"] += len(count.missing)
    escalations: Counter[str] = Counter()
    for s in items:
        escalations.update(s.escalations)
    scales: dict[str, dict[str, Counter[str]]] = {}
    for s in items:
        for name, questions in s.scales.items():
            for question, values in questions.items():
                scales.setdefault(name, {}).setdefault(question, Counter()).update(values)
    return {
        "groups": len(items),
        "meetings_held": sum(s.meetings_held for s in items),
        "meetings_missed": sum(s.meetings_missed for s in items),
        "feedback": feedback,
        "escalations": dict(sorted(escalations.items())),
        "closures": dict(sorted(Counter(s.outcome or "open" for s in items).items())),
        "closure_reasons": {s.relationship_id: s.reason or "" for s in items},
        "scales": _distributions(scales),
    }
