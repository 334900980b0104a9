"""A group terminated by an operator (``temporal workflow terminate``): the programme still
closes after its end date, its report names the group, the other groups end normally.

The programme's year runs in virtual time on a time-skipping server of this module's own
(``own_env``, see conftest.py).
"""

from collections import Counter
from datetime import timedelta

from temporalio.client import WorkflowExecutionStatus

from domain.calendar import calendar
from mentorflow.synthetic import cohort
from mentorflow.verify import replay_all_runs
from store.integrity import verify_log
from tests.temporal_helpers import (
    result_within,
    running_worker,
    sleep_until,
    terminate_open_workflows,
)
from tests.test_programme_workflow import programme, programme_events, start
from workflows.messages import programme_workflow_id, workflow_id
from workflows.programme import ProgrammeWorkflow


async def test_a_group_terminated_by_an_operator_is_named_and_the_programme_closes(
    mail, own_env, pool, store
):
    today = (await own_env.get_current_time()).date()
    p = programme(today, approval="automatic")
    async with running_worker(own_env.client, pool, mail) as task_queue:
        handle = await start(own_env, pool, task_queue, p, cohort(6, 6, seed=7, trained_share=1.0))
        await sleep_until(own_env, calendar(p).matching_at + timedelta(days=1))
        launched = sorted((await handle.query(ProgrammeWorkflow.state)).launched)
        assert len(launched) >= 2
        terminated = launched[0]
        group = own_env.client.get_workflow_handle(workflow_id(terminated))
        await group.terminate("operator")
        report = await result_within(handle)
        await replay_all_runs(own_env.client, handle)
        statuses = {
            rid: (await own_env.client.get_workflow_handle(workflow_id(rid)).describe()).status
            for rid in launched
        }
        left_open = await terminate_open_workflows(own_env.client)

    # Every workflow closed: the programme, each group (the one an operator ended, terminated).
    assert left_open == 0
    assert statuses.pop(terminated) == WorkflowExecutionStatus.TERMINATED
    assert set(statuses.values()) == {WorkflowExecutionStatus.COMPLETED}
    # The report names it; nothing is lost: every launched group is counted once.
    assert report.groups == len(launched)
    assert report.ended_abnormally == {terminated: "terminated"}
    assert report.closures == {"completed": len(launched) - 1, "open": 1}
    # Nothing doubled: one launch and at most one end per group, versions without a gap.
    records = await store.read_stream(programme_workflow_id(p.id))
    assert [r.version for r in records] == list(range(1, len(records) + 1))
    events = await programme_events(store, p.id)
    launches = Counter(e.relationship_id for e in events if e.type == "relationship_launched")
    ends = Counter(e.relationship_id for e in events if e.type == "relationship_ended")
    assert set(launches) == set(launched) and set(launches.values()) == {1}
    assert set(ends) == set(launched) - {terminated} and set(ends.values()) == {1}
    [checked] = [e for e in events if e.type == "groups_checked"]
    assert [(g.relationship_id, g.status) for g in checked.findings] == [(terminated, "terminated")]
    assert events[-1].type == "programme_closed"
    async with pool.acquire() as conn:
        verification = await verify_log(conn)
    assert verification.ok, verification.broken
