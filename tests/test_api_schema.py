"""schemathesis over /openapi.json: every /api/v1 operation, with requests generated from the
document itself, answers without a server error and as the document says (status codes, content
types, bodies), for an anonymous caller, a signed-in auditor and a signed-in admin.

The app runs in process over a database of its own holding one recorded relationship (so that
generated ids meet a real one as well as unknown ones). The number of examples per operation is
bounded (``EXAMPLES``) to keep the test lean; hypothesis is derandomized, so a failure repeats.
"""

import warnings
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from store.staff import Role
from tests.staff_helpers import own_database, recorded_relationship, sign_in_staff, staff_member
from tests.temporal_helpers import whole_seconds_now
from tests.web_helpers import app_for, browser_client

EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def drawn(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """``count`` examples of ``strategy`` at most (generation only: no shrinking, no database)."""
    found: list[Any] = []

    @given(strategy)
    @settings(
        max_examples=count,
        database=None,
        derandomize=True,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def collect(case: Any) -> None:
        found.append(case)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        collect()
    return found


def cases(document: dict[str, Any], relationship_id: str) -> list[Any]:
    schema = schemathesis.openapi.from_dict(document)
    found: list[Any] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/api/v1/"):
            continue
        found += drawn(operation.as_strategy(), EXAMPLES)
        if "{relationship_id}" in operation.path:  # a relationship that is in the record, too
            real = operation.as_strategy(path_parameters={"relationship_id": relationship_id})
            found += drawn(real, 3)
    return found


async def sent(client: httpx.AsyncClient, case: Any, signed_in: bool) -> httpx.Response:
    """``case`` sent with the client's session: the generated cookie is left out, and so, for a
    signed-in caller, is a generated bearer key (it would stand for the session: 401)."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    headers = dict(kwargs.get("headers") or {})
    if signed_in:
        headers.pop("Authorization", None)
    body = {k: kwargs[k] for k in ("json", "data") if k in kwargs}
    if isinstance(body.get("data"), (bytes, str)):
        body = {"content": body["data"]}
    return await client.request(
        kwargs["method"],
        kwargs["url"],
        headers=headers,
        params=kwargs.get("params"),
        **body,
    )


@pytest.mark.parametrize("role", [None, Role.AUDITOR, Role.ADMIN])
async def test_the_api_answers_as_its_openapi_document_says(env, mail, database_url, role):
    """No generated request gets a 5xx; every answer's status, content type and body conform."""
    pool = await own_database(database_url)
    try:
        when = await whole_seconds_now(env)
        rid = await recorded_relationship(pool, "schema", "Europe/Helsinki", when, when)
        app, links = app_for(env.client, pool, mail)
        async with browser_client(app) as client:
            if role is not None:
                await sign_in_staff(client, links, await staff_member(pool, role))
            document = (await client.get("/openapi.json")).json()
            generated = cases(document, rid)
            assert len(generated) > 7 * EXAMPLES // 2, "every operation was exercised"
            for case in generated:
                answer = await sent(client, case, signed_in=role is not None)
                case.validate_response(Response.from_any(answer), checks=CHECKS)
    finally:
        await pool.close()
