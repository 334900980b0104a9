"""Every programme closes: a group terminated by an operator, a forged report, no approval.

A group whose workflow failed or was terminated, or that never reported back, kept its programme
open forever, and anyone who could reach Temporal could end a group in the programme's eyes by
sending ``relationship_ended``. Now, a day after the end date, the programme asks Temporal about
every group still open, tells the coordinator of those that did not end normally, and closes
with a report naming them; a report is believed only when the group's own stream shows it closed.
"""

from datetime import timedelta

from domain.envelope import Outcome
from mentorflow.synthetic import cohort
from mentorflow.verify import replay_all_runs
from store.integrity import verify_log
from tests.temporal_helpers import result_within, running_worker, sleep_until
from tests.test_programme_workflow import programme, programme_events, start
from workflows.messages import RelationshipResult, workflow_id
from workflows.programme import ProgrammeWorkflow
from workflows.relationship import RELATIONSHIP_ENDED


async def test_a_terminated_group_and_a_forged_report_do_not_keep_the_programme_open(
    mail, own_env, pool, store
):
    """Two groups: one is terminated by an operator, the other gets a forged 'dissolved' report
    it never recorded. The forged report is ignored; after the end the programme finds the
    terminated group, escalates it and closes; the report names it."""
    today = (await own_env.get_current_time()).date()
    p = programme(today, approval="automatic")
    async with running_worker(own_env.client, pool, mail) as task_queue:
        handle = await start(own_env, pool, task_queue, p, cohort(4, 4, seed=3, trained_share=1.0))
        await sleep_until(own_env, p_cal(p).matching_at + timedelta(days=1))
        state = await handle.query(ProgrammeWorkflow.state)
        first, second = sorted(state.launched)
        await own_env.client.get_workflow_handle(workflow_id(first)).terminate("operator")
        forged = RelationshipResult(
            relationship_id=second, outcome=Outcome.DISSOLVED, reason="forged", version=1
        )
        await handle.signal(RELATIONSHIP_ENDED, forged)
        await sleep_until(own_env, p_cal(p).matching_at + timedelta(days=2))
        assert (await handle.query(ProgrammeWorkflow.state)).open_relationships() == [
            first,
            second,
        ]
        report = await result_within(handle)
        await replay_all_runs(own_env.client, handle)

    assert report.groups == 2
    assert report.ended_abnormally == {first: "terminated"}
    # The second ran to its end, as it recorded; the terminated one never closed its record.
    assert report.closures == {"completed": 1, "open": 1}
    events = await programme_events(store, p.id)
    [checked] = [e for e in events if e.type == "groups_checked"]
    assert [(g.relationship_id, g.status) for g in checked.findings] == [(first, "terminated")]
    assert checked.recipients == ("hr1",)
    assert checked.occurred_at >= p_cal(p).ends_at + timedelta(days=1)
    ended = [e for e in events if e.type == "relationship_ended"]
    assert [(e.relationship_id, e.outcome) for e in ended] == [(second, "completed")]
    assert events[-1].type == "programme_closed"
    async with pool.acquire() as conn:
        verification = await verify_log(conn)
    assert verification.ok, verification.broken


async def test_a_programme_never_approved_closes_at_its_end(mail, env, pool, store):
    """The coordinator never approves: reminded, escalated, and closed at the end date."""
    today = (await env.get_current_time()).date()
    p = programme(today)
    async with running_worker(env.client, pool, mail) as task_queue:
        handle = await start(env, pool, task_queue, p, cohort(4, 4, seed=5, trained_share=1.0))
        report = await result_within(handle)
        await replay_all_runs(env.client, handle)
    assert report.groups == 0
    types = [e.type for e in await programme_events(store, p.id)]
    assert "approval_escalated" in types and types[-1] == "programme_closed"


def p_cal(p):
    from domain.calendar import calendar

    return calendar(p)
