"""A pause never resumed, or resumed late, cannot keep a group past its programme.

A group paused and never resumed stayed open forever (and its programme with it); a pause moved
the group's end past the programme's; a pause taken inside a meeting's recording grace marked
that meeting missed the moment the group resumed. Under rules 2
(``domain.relationship.events.RULES``): a pause longer than ``max_pause`` (P60D) is escalated,
the group closes at the programme's end, paused or not, and every grace window still open when
the pause began moves with it.
"""

import itertools
import uuid
from datetime import timedelta

from domain.codec import RELATIONSHIP
from domain.envelope import Outcome
from domain.factory import EventFactory
from domain.relationship import schedule
from domain.relationship.commands import Pause, RecordMeeting, Resume, decide, start
from domain.relationship.events import EscalationRaised, RelationshipClosed
from domain.relationship.fold import apply, fold
from mentorflow.verify import replay_all_runs
from store.integrity import verify_log
from tests.builders import COORDINATOR, spec, utc
from tests.temporal_helpers import (
    result_within,
    running_worker,
    sleep_until,
    start_relationship,
    whole_seconds_now,
)
from workflows.messages import workflow_id
from workflows.relationship import RelationshipWorkflow

STARTS, ENDS = utc(2026, 1, 5), utc(2027, 1, 5)


class Group:
    """A relationship driven by its schedule with literal times, as the workflow would."""

    def __init__(self, rules: int = 2):
        self._ids = (uuid.UUID(int=n) for n in itertools.count(1))
        self.s = fold([start(spec("p", STARTS, ENDS), self.f(STARTS), rules)])
        self.events: list = []

    def f(self, now, actor="system"):
        return EventFactory(now, lambda: next(self._ids), actor=actor)

    def run_until(self, until):
        while (wake := schedule.next_wakeup(self.s)) is not None and wake <= until:
            self._record(schedule.due_events(self.s, self.f(wake), skip_stale=True))

    def act(self, now, command):
        self.run_until(now)
        self._record(decide(self.s, command, self.f(now, command.by)))

    def _record(self, events):
        self.events += events
        self.s = apply(self.s, events)


def test_a_pause_inside_a_meetings_grace_does_not_mark_it_missed_on_resume():
    """Meeting 1 is due on 5 February; paused on the 8th (inside its P7D grace), resumed on the
    25th: it is still open, its grace runs on for the days that were left, then it is missed."""
    g = Group()
    g.act(utc(2026, 2, 8), Pause(by="m1", reason="sick leave"))
    g.act(utc(2026, 2, 25), Resume(by="m1"))
    g.run_until(utc(2026, 2, 25, 1))
    assert not [e for e in g.events if e.type == "meeting_missed"]
    [slot] = [m for m in g.s.meetings if m.number == 1]
    assert slot.due_at == utc(2026, 2, 5) + timedelta(days=17)
    g.act(
        utc(2026, 2, 26), RecordMeeting(by="m1", held_on=utc(2026, 2, 4).date(), attendees=("m1",))
    )
    assert g.s.meetings[0].status == "held"
    # Rules 1 (runs recorded before): missed as soon as the group resumed.
    old = Group(rules=1)
    old.act(utc(2026, 2, 8), Pause(by="m1", reason="sick leave"))
    old.act(utc(2026, 2, 25), Resume(by="m1"))
    old.run_until(utc(2026, 2, 25, 1))
    assert [e.type for e in old.events].count("meeting_missed") == 1


def test_a_long_pause_never_moves_the_end_past_the_programmes():
    """Paused for 100 days and resumed: the end stays the programme's, the final feedback with
    it; the pause was escalated at 60 days."""
    g = Group()
    g.act(utc(2026, 3, 1), Pause(by=COORDINATOR, reason="reorganisation"))
    g.act(utc(2026, 6, 9), Resume(by=COORDINATOR))
    assert g.s.ends_at == ENDS
    final = g.s.feedback["final"]
    assert final.due_at <= ENDS - timedelta(days=7) and final.opens_at < final.due_at
    [escalation] = [e for e in g.events if getattr(e, "kind", "") == "paused_too_long"]
    assert (escalation.kind, escalation.scheduled_for) == ("paused_too_long", utc(2026, 4, 30))
    g.run_until(ENDS)
    assert g.s.closed and g.s.closure.closed_at == ENDS


async def test_a_pause_never_resumed_is_escalated_and_the_group_closes_at_the_end(
    mail, env, pool, store
):
    """On the real servers: paused on day 10 and never resumed. Escalated on day 70 (P60D), and
    closed at the programme's end with the reason; nothing else happens meanwhile."""
    rid = f"paused-{uuid.uuid4()}"
    starts = await whole_seconds_now(env)
    ends = starts + timedelta(days=365)
    async with running_worker(env.client, pool, mail) as task_queue:
        handle = await start_relationship(env, task_queue, spec(rid, starts, ends))
        await sleep_until(env, starts + timedelta(days=10))
        await handle.execute_update(RelationshipWorkflow.pause, Pause(by="a1", reason="leave"))
        result = await result_within(handle)
        await replay_all_runs(env.client, handle)

    records = await store.read_stream(workflow_id(rid))
    events = [RELATIONSHIP.decode(r) for r in records]
    assert [r.version for r in records] == list(range(1, len(records) + 1))  # nothing doubled
    assert result.version == len(records)
    async with pool.acquire() as conn:
        verification = await verify_log(conn)
    assert verification.ok, verification.broken
    assert result.outcome == Outcome.COMPLETED
    after_pause = [e for e in events if e.occurred_at > starts + timedelta(days=10, seconds=1)]
    assert [e.type for e in after_pause] == ["escalation_raised", "relationship_closed"]
    escalation, closed = after_pause
    assert isinstance(escalation, EscalationRaised) and isinstance(closed, RelationshipClosed)
    assert escalation.kind == "paused_too_long" and escalation.recipients == (COORDINATOR,)
    paused_at = next(e.occurred_at for e in events if e.type == "paused")
    assert escalation.scheduled_for == paused_at + timedelta(days=60)
    assert closed.occurred_at - ends < timedelta(seconds=1) and closed.occurred_at >= ends
    assert closed.reason == "the programme ended while the group was paused"
