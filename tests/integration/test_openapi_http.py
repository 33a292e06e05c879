"""The OpenAPI document served, and schemathesis fuzzing `python -m api` against it.

On SQLite and PostgreSQL, each operation gets at most 25 generated requests (no shrinking,
each request given 15 s), with a valid bearer token and a fresh Idempotency-Key: no answer
may be a 5xx, and every answer must be one the document lists, with its content type and
its schema.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from openapi_spec_validator import validate
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.openapi import PATH, OrderPlaced, OrderStatusOut
from tests.conftest import BACKENDS
from tests.integration.intake_support import TOKEN, Api, running_api
from tests.integration.test_webhooks import SendGridSigner

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture(scope="module", params=BACKENDS)
def api_process(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp(f"openapi-{request.param}")
    # The webhooks' keys are set, so their requests meet the signature checks, not a 503.
    keys = {"SENDGRID_WEBHOOK_PUBLIC_KEY": SendGridSigner().public_key, "TWILIO_AUTH_TOKEN": "t"}
    with running_api(
        request.param, folder, "openapi_fuzz", TOKEN, dashboard=False, env=keys
    ) as running:
        yield running


def served(api: Api) -> dict[str, Any]:
    reply = api.client.get(PATH)
    assert reply.status == 200 and reply.headers["content-type"] == "application/json"
    return dict(reply.json())


def test_the_served_document_is_valid_and_points_at_the_server(api_process, no_proxy):
    document = served(api_process)
    validate(document)
    assert document["servers"] == [{"url": api_process.url}]


def test_the_dashboard_serves_the_same_document(api_process, tmp_path, no_proxy):
    if api_process.kind != "sqlite":
        pytest.skip("one backend is enough: the document does not depend on the database")
    with running_api("sqlite", tmp_path, "unused", TOKEN) as dashboard:
        theirs, ours = served(dashboard), served(api_process)
    assert theirs.pop("servers") != ours.pop("servers")
    assert theirs == ours


@pytest.fixture
def api_schema(api_process: Api, no_proxy: None) -> Any:
    return schemathesis.openapi.from_url(api_process.url + PATH)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    phases=[Phase.explicit, Phase.generate],  # no shrinking storms: report the first find
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_fuzzed_requests_get_documented_answers_and_no_server_error(case):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if case.operation.definition.raw.get("operationId") == "place_order":
        headers["Idempotency-Key"] = uuid.uuid4().hex
    case.call_and_validate(headers=headers, checks=CHECKS, timeout=15)


def test_the_document_lists_the_tools_json_names(api_process, no_proxy):
    document = served(api_process)
    tools = json.loads(api_process.client.get("/api/v1/tools.json").body)["tools"]
    ids = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    assert {tool["name"] for tool in tools} <= ids


def test_a_placed_order_and_its_status_match_the_documented_models(api_process, no_proxy):
    body = dict(served(api_process)["paths"]["/api/v1/orders"]["post"]["requestBody"]["content"]
                ["application/json"]["example"])  # fmt: skip
    placed = api_process.client.post("/api/v1/orders", body, key=uuid.uuid4().hex)
    assert placed.status == 201, placed.body
    OrderPlaced.model_validate_json(placed.body, strict=True)
    number = placed.json()["number"]
    found = api_process.client.get(f"/api/v1/orders/{number}?email=ada@example.com")
    assert found.status == 200, found.body
    status = OrderStatusOut.model_validate_json(found.body)
    assert status.updated_at.utcoffset() is not None, "a date-time carries its offset"
