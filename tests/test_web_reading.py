"""The web app's reader: a group's state as the store holds it at each view, folded once."""

from domain.codec import RELATIONSHIP
from domain.relationship.commands import RecordAgreement
from domain.relationship.fold import fold
from mentorflow.web.reading import Reader
from store.event_store import EventStore
from store.sealing import Sealer
from tests.temporal_helpers import whole_seconds_now
from tests.web_helpers import MASTER, app_for, started_group, worker_with_links
from workflows.messages import workflow_id
from workflows.relationship import RelationshipWorkflow


async def _folded(pool, rid: str, version: int):
    """A fresh fold of the stream's first ``version`` events (the workflow may record more)."""
    records = await EventStore(pool).read_stream(workflow_id(rid))
    return fold(RELATIONSHIP.decode(r) for r in records[:version])


async def test_a_kept_state_takes_in_what_was_recorded_since_and_equals_a_fresh_fold(
    env, pool, mail
):
    """After an Update, the next view shows it: the kept state plus the new events is exactly
    the fold of the whole stream; an unknown group is still none."""
    _, links = app_for(env.client, pool, mail)
    reader = Reader(pool, Sealer(pool, MASTER))
    async with worker_with_links(env.client, pool, mail, links) as queue:
        group = await started_group(env.client, pool, queue, await whole_seconds_now(env))
        rid = group.relationship_id
        before = await reader.relationship(rid)
        assert before is not None and before.agreement.recorded_at is None
        handle = env.client.get_workflow_handle(workflow_id(rid))
        await handle.execute_update(
            RelationshipWorkflow.record_agreement,
            RecordAgreement(by="m1", goals=("g",), agreement="monthly"),
        )
        after = await reader.relationship(rid)
        assert after is not None and after.agreement.recorded_by == "m1"
        assert after == await _folded(pool, rid, after.version)
        assert before.agreement.recorded_at is None  # the kept state was not changed in place
    assert await reader.relationship("no-such-group") is None
