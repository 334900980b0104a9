"""The rest of the authorization matrix, and fuzzing of every page and form (signed in or not).

tests/test_web_app.py covers other groups' pages and the agreement form, purposes of group links,
forged and expired links, replayed sign-in links, CSRF and a posted ``by``. Here: every other form
of another group, feedback links of one round or group used for another, and hypothesis over
every route with arbitrary paths, queries and forms: never a 5xx.
"""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activities.links import FEEDBACK_PREFIX, GROUP, Claim
from domain.envelope import SYSTEM
from tests.builders import group as members
from tests.temporal_helpers import whole_seconds_now
from tests.test_web_app import stored
from tests.web_helpers import app_for, browser_client, csrf_of, started_group, worker_with_links


@pytest_asyncio.fixture(scope="module")
async def two_groups(env, pool, mail):
    """Group A (m1 m2 / a1 a2 a3) and group B (m2 / a2 a3), m1 signed in to A; and the app."""
    app, links = app_for(env.client, pool, mail)
    async with worker_with_links(env.client, pool, mail, links) as queue:
        starts = await whole_seconds_now(env)
        a = (await started_group(env.client, pool, queue, starts)).relationship_id
        b = (
            await started_group(
                env.client, pool, queue, starts, members=members(("m2",), ("a2", "a3"))
            )
        ).relationship_id
        later = datetime.now(UTC) + timedelta(days=3)
        async with browser_client(app) as m1, browser_client(app) as anonymous:
            url = links.url(Claim("test", "m1", GROUP, a, later))
            await m1.get(url.removeprefix("http://testserver"))
            csrf = csrf_of((await m1.get(f"/g/{a}")).text)
            yield {
                "a": a,
                "b": b,
                "m1": m1,
                "anonymous": anonymous,
                "csrf": csrf,
                "links": links,
                "app": app,
            }


FORMS = {
    "agreement": {"goals": "x", "agreement": "y"},
    "meeting": {"held_on": "2020-01-01", "held": "yes", "attendees": "m2"},
    "feedback/midpoint": {"usefulness": "3", "rhythm": "right", "went_well": "x"},
    "pause": {"reason": "x"},
    "leave": {"reason": "x"},
    "resume": {},
}


@pytest.mark.parametrize("form", FORMS)
async def test_a_member_of_one_group_can_neither_see_nor_act_on_another(two_groups, pool, form):
    """m1 (group A only) gets the same 404 for every page and form of group B; B records
    nothing of it."""
    m1, b = two_groups["m1"], two_groups["b"]
    assert (await m1.get(f"/g/{b}/{form}")).status_code == 404
    posted = await m1.post(f"/g/{b}/{form}", data={**FORMS[form], "csrf": two_groups["csrf"]})
    assert posted.status_code == 404
    assert {e.actor for e in await stored(pool, b)} == {SYSTEM}


async def test_a_feedback_link_opens_its_own_round_of_its_own_group_only(two_groups):
    """The midpoint link of a2 in group A does not open the final round, nor B's midpoint."""
    a, b, links = two_groups["a"], two_groups["b"], two_groups["links"]
    later = datetime.now(UTC) + timedelta(days=3)
    claim = Claim("test", "a2", f"{FEEDBACK_PREFIX}midpoint", a, later)
    token = links.url(claim).split("?t=")[1]
    async with browser_client(two_groups["app"]) as a2:
        assert (await a2.get(f"/g/{a}/feedback/final?t={token}")).status_code == 403
        assert (await a2.get(f"/g/{b}/feedback/midpoint?t={token}")).status_code == 403
        assert (await a2.get(f"/g/{a}/agreement?t={token}")).status_code == 403
        assert (await a2.get(f"/g/{a}/feedback/midpoint?t={token}")).status_code == 303


async def test_a_csrf_token_with_characters_no_token_has_is_refused_not_a_server_error(
    two_groups, pool
):
    """A posted token with a non-ASCII character is a forged token: 403, nothing written."""
    a, m1 = two_groups["a"], two_groups["m1"]
    for token in ("\x80", "ä" * 43, two_groups["csrf"][:-1] + "é"):
        posted = await m1.post(f"/g/{a}/pause", data={"csrf": token, "reason": "x"})
        assert posted.status_code == 403
    assert {e.actor for e in await stored(pool, a)} == {SYSTEM}


TEXT = st.text(max_size=60)
SEGMENT = st.one_of(TEXT, st.sampled_from([*FORMS, "feedback/final", "feedback/x", "", ".."]))
FIELDS = st.sampled_from(
    ["csrf", "t", "email", "by", "goals", "agreement", "held_on", "held", "attendees", "reason",
     "usefulness", "rhythm", "went_well", "to_change", "goals_met", "recommend", "learned"]
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    who=st.sampled_from(["m1", "anonymous"]),
    method=st.sampled_from(["GET", "POST"]),
    route=st.sampled_from(
        [
            "/g/{a}/{x}",
            "/g/{b}/{x}",
            "/g/{x}",
            "/signin",
            "/signin/link",
            "/me",
            "/language/{x}",
            "/guide",
            "/",
            "/{x}",
        ]
    ),
    segment=SEGMENT,
    query=st.dictionaries(st.sampled_from(["t", "back", "done"]), TEXT, max_size=2),
    form=st.dictionaries(
        FIELDS, st.one_of(TEXT, st.text(min_size=3990, max_size=4100)), max_size=5
    ),
    with_csrf=st.booleans(),
)
async def test_fuzzed_requests_to_every_route_never_give_a_server_error(
    two_groups, who, method, route, segment, query, form, with_csrf
):
    """Any path, query and form, signed in or not, with or without the CSRF token: 2xx-4xx."""
    client = two_groups[who]
    path = route.format(a=two_groups["a"], b=two_groups["b"], x=quote(segment, safe="/"))
    if with_csrf:
        form = {**form, "csrf": two_groups["csrf"]}
    if method == "GET":
        response = await client.get(path, params=query)
    else:
        response = await client.post(path, params=query, data=form)
    assert response.status_code < 500, (method, path, response.text[:500])
