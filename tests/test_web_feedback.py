"""The feedback page: the group's own questions as a form, checked before the Update is sent.

Over real PostgreSQL and Temporal servers: the form shows the questions the relationship holds
(from its programme file), in the reader's language; bad answers come back at their fields and
write nothing; the relationship itself refuses what does not fit its questions.
"""

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.client import WorkflowQueryFailedError, WorkflowUpdateFailedError

from activities.links import FEEDBACK_PREFIX, Claim
from domain.feedback import FeedbackQuestions, Option, Question, Texts
from domain.relationship.commands import SubmitFeedback
from store.sealing import Sealer
from tests.builders import SHORT
from tests.temporal_helpers import whole_seconds_now
from tests.test_web_app import stored
from tests.web_helpers import (
    MASTER,
    app_for,
    browser_client,
    csrf_of,
    started_group,
    worker_with_links,
)
from workflows.messages import workflow_id
from workflows.relationship import RelationshipWorkflow

MIDPOINT = (
    Question(
        id="useful",
        type="scale",
        text=Texts(fi="Oliko hyötyä?", sv="Var det nyttigt?", en="Was it useful?"),
        labels={
            1: Texts(fi="Ei lainkaan", sv="Inte alls", en="Not at all"),
            5: Texts.model_validate({"fi": "Paljon", "sv": "Mycket", "en": "Very"}),
        },
    ),
    Question(
        id="pace",
        type="choice",
        text=Texts(fi="Tahti?", sv="Takten?", en="The pace?"),
        options=(
            Option(id="slow", text=Texts(fi="Hidas", sv="Långsam", en="Slow")),
            Option(id="fast", text=Texts(fi="Nopea", sv="Snabb", en="Fast")),
        ),
    ),
    Question(id="best", type="text", text=Texts(fi="Parasta?", sv="Bäst?", en="The best part?")),
    Question.model_validate(
        {"id": "else", "type": "text", "text": "Anything else?", "required": False}
    ),
)
POLICY = SHORT.model_copy(update={"feedback_questions": FeedbackQuestions(midpoint=MIDPOINT)})


async def _open_group(env, pool, queue, policy=POLICY) -> str:
    """A group whose midpoint round is open now (it started 31 days ago, of 60)."""
    now = await whole_seconds_now(env)
    group = await started_group(
        env.client,
        pool,
        queue,
        now - timedelta(days=31),
        policy=policy,
        ends_at=now + timedelta(days=29),
    )
    handle = env.client.get_workflow_handle(workflow_id(group.relationship_id))
    for _ in range(400):
        # The workflow's own state (the store has it a moment before the workflow does).
        try:
            state = await handle.query(RelationshipWorkflow.state)
        except WorkflowQueryFailedError:  # its start is stored, not yet taken in
            state = None
        if state is not None and state.feedback["midpoint"].requested_at is not None:
            return group.relationship_id
        await asyncio.sleep(0.05)
    raise AssertionError("the midpoint round never opened")


def _claim(person: str, rid: str) -> Claim:
    later = datetime.now(UTC) + timedelta(days=3)
    return Claim("test", person, f"{FEEDBACK_PREFIX}midpoint", rid, later)


async def test_the_form_asks_the_groups_questions_and_shows_errors_at_their_fields(env, pool, mail):
    """Scale, choice and text questions of the relationship, in the reader's language; bad
    answers are shown at their fields and write nothing; good ones are recorded as sent."""
    app, links = app_for(env.client, pool, mail)
    async with worker_with_links(env.client, pool, mail, links) as queue:
        rid = await _open_group(env, pool, queue)
        page_url = f"/g/{rid}/feedback/midpoint"
        async with browser_client(app) as a1, browser_client(app) as m1:
            await a1.get(links.url(_claim("a1", rid)).removeprefix("http://testserver"))
            page = await a1.get(page_url)
            assert page.status_code == 200 and 'lang="en"' in page.text  # a1 reads English
            html = page.text
            assert "Was it useful?" in html and "The pace?" in html and "Anything else?" in html
            assert len(re.findall(r'type="radio" id="useful-\d"', html)) == 5
            assert "Not at all" in html and "Very" in html  # the scale's labels
            assert 'value="slow"' in html and ">Fast</label>" in html
            assert '<textarea id="best" name="best" rows="4" required' in html
            assert '<textarea id="else" name="else" rows="4">' in html  # optional
            assert "(required)" in html and "(optional)" in html
            csrf = csrf_of(html)

            empty = await a1.post(page_url, data={"csrf": csrf, "else": "x"})
            assert empty.status_code == 400
            for field, message in (
                ("useful", "Choose a number from 1 to 5."),
                ("pace", "Choose one of the options."),
                ("best", "Write an answer."),
            ):
                assert f'<li><a href="#{field}">{message}</a></li>' in empty.text
                assert f'id="{field}-error">{message}</p>' in empty.text
            assert 'id="else-error"' not in empty.text
            assert ">x</textarea>" in empty.text  # what was written is shown again

            wrong = await a1.post(
                page_url, data={"csrf": csrf, "useful": "9", "pace": "medium", "best": "talks"}
            )
            assert wrong.status_code == 400
            assert 'id="useful-error">Choose a number from 1 to 5.' in wrong.text
            assert 'id="pace-error">Choose one of the options.' in wrong.text
            assert 'id="best-error"' not in wrong.text

            await m1.get(links.url(_claim("m1", rid)).removeprefix("http://testserver"))
            finnish = await m1.post(page_url, data={"csrf": csrf_of((await m1.get(page_url)).text)})
            assert 'lang="fi"' in finnish.text and "Oliko hyötyä?" in finnish.text
            assert 'id="pace-error">Valitse yksi vaihtoehdoista.' in finnish.text
            assert not [e for e in await stored(pool, rid) if e.type == "feedback_submitted"]

            good = {"csrf": csrf, "useful": "4", "pace": "slow", "best": "Talks", "by": "m2"}
            done = await a1.post(page_url, data=good)
            assert done.status_code == 303 and done.headers["location"].endswith("done=feedback")
    [submitted] = [e for e in await stored(pool, rid) if e.type == "feedback_submitted"]
    assert submitted.actor == "a1"  # the session's person, not the posted `by`
    assert submitted.answers["best"].startswith("mf1:")  # stored sealed, opened by its key
    assert (submitted.choices, await Sealer(pool, MASTER).open_tree(submitted.answers)) == (
        {"useful": "4", "pace": "slow"},
        {"best": "Talks"},
    )


@pytest.mark.parametrize(
    ("answers", "choices", "code"),
    [
        ({"best": "x"}, {"useful": "3"}, "missing_answer"),
        ({"best": "x"}, {"useful": "0", "pace": "slow"}, "out_of_scale"),
        ({"best": "x"}, {"useful": "3", "pace": "medium"}, "unknown_option"),
        ({"best": "x", "colour": "blue"}, {"useful": "3", "pace": "slow"}, "unknown_question"),
    ],
)
async def test_the_relationship_refuses_answers_that_do_not_fit_its_questions(
    env, pool, mail, answers, choices, code
):
    """Sent past the page, an answer that does not fit is refused by the Update's validator
    with the domain's reason, and nothing is recorded."""
    _, links = app_for(env.client, pool, mail)
    async with worker_with_links(env.client, pool, mail, links) as queue:
        rid = await _open_group(env, pool, queue)
        handle = env.client.get_workflow_handle(workflow_id(rid))
        command = SubmitFeedback(by="a2", round="midpoint", answers=answers, choices=choices)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(RelationshipWorkflow.submit_feedback, command)
        assert refused.value.cause.type == code
    assert not [e for e in await stored(pool, rid) if e.type == "feedback_submitted"]


OPTIONAL = SHORT.model_copy(
    update={
        "feedback_questions": FeedbackQuestions(
            midpoint=tuple(q.model_copy(update={"required": False}) for q in MIDPOINT)
        )
    }
)


@pytest_asyncio.fixture(scope="module")
async def open_round(env, pool, mail):
    """a1 signed in to a group whose midpoint round (every question optional) is open."""
    app, links = app_for(env.client, pool, mail)
    async with worker_with_links(env.client, pool, mail, links) as queue:
        rid = await _open_group(env, pool, queue, OPTIONAL)
        async with browser_client(app) as a1:
            await a1.get(links.url(_claim("a1", rid)).removeprefix("http://testserver"))
            page = f"/g/{rid}/feedback/midpoint"
            yield a1, page, csrf_of((await a1.get(page)).text)


VALUES = st.one_of(
    st.sampled_from(["", "1", "5", "6", "slow", "fast", " ", "\x00"]),
    st.text(max_size=30),
    st.text(min_size=3995, max_size=4010),
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    form=st.dictionaries(
        st.sampled_from(["useful", "pace", "best", "else", "by", "colour"]), VALUES, max_size=6
    )
)
async def test_fuzzed_feedback_forms_never_give_a_server_error(open_round, form):
    """Any answers to the group's own questions (the first good ones recorded, the rest refused
    as duplicates): a 303, a 400 or a 409, never a 5xx."""
    a1, page, csrf = open_round
    response = await a1.post(page, data={**form, "csrf": csrf})
    assert response.status_code in (303, 400, 409), response.text[:300]
