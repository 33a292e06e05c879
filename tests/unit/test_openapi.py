"""The OpenAPI document: valid 3.1, generated from the models, and in step with tools.json."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from api.openapi import openapi_document
from api.problems import MEDIA_TYPE
from api.tools import inline_refs, tools_document
from services.intake import OrderLookupIn

TOOLS = {tool["name"]: tool for tool in tools_document()["tools"]}


def operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {
        operation["operationId"]: (path, method, operation)
        for path, item in openapi_document()["paths"].items()
        for method, operation in item.items()
    }


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """A `#/components/...` reference, followed."""
    document = openapi_document()
    while "$ref" in node:
        for part in node["$ref"].removeprefix("#/").split("/"):
            document = document[part]
        node, document = document, openapi_document()
    return node


def test_the_document_is_valid_openapi_3_1():
    document = openapi_document()
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_route_of_the_api_is_described():
    assert {(path, method) for path, method, _ in operations().values()} == {
        ("/api/v1/orders", "post"),
        ("/api/v1/orders/{number}", "get"),
        ("/api/v1/products", "get"),
        ("/api/v1/tools.json", "get"),
        ("/healthz", "get"),
        ("/api/v1/webhooks/sendgrid", "post"),
        ("/api/v1/webhooks/twilio", "post"),
    }


def test_the_tools_are_the_operations_of_the_same_names():
    found = operations()
    for name, tool in TOOLS.items():
        path, method, operation = found[name]
        assert (path, method.upper()) == (tool["http"]["path"], tool["http"]["method"])
        assert operation["description"] == tool["description"]
        assert operation["security"] == [{"bearerAuth": []}]


def test_place_order_takes_the_body_tools_json_describes():
    _, _, operation = operations()["place_order"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    components = openapi_document()["components"]["schemas"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    as_tool = inline_refs({**components[name], "$defs": components})
    assert as_tool == TOOLS["place_order"]["input_schema"]


def test_place_order_needs_an_idempotency_key_header():
    _, _, operation = operations()["place_order"]
    (parameter,) = [resolve(p) for p in operation["parameters"]]
    assert parameter["name"] == "Idempotency-Key" and parameter["in"] == "header"
    assert parameter["required"] and parameter["schema"]["maxLength"] == 255
    assert "Idempotency-Key" in TOOLS["place_order"]["http"]["headers"]


def test_get_order_status_takes_the_lookup_fields_as_path_and_query():
    _, _, operation = operations()["get_order_status"]
    given = {(p["name"], p["in"]) for p in operation["parameters"]}
    assert given == {("number", "path"), ("email", "query"), ("phone", "query")}
    assert {name for name, _ in given} == set(OrderLookupIn.model_fields)
    assert set(TOOLS["get_order_status"]["http"]["query"]) == {"email", "phone"}
    assert set(TOOLS["get_order_status"]["input_schema"]["properties"]) == set(
        OrderLookupIn.model_fields
    )


def test_every_error_is_a_problem_document_and_every_guarded_call_may_be_401():
    schemes = openapi_document()["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    for name, (_, _, operation) in operations().items():
        for status, response in operation["responses"].items():
            content = resolve(response).get("content", {})
            if int(status) >= 400 and name != "healthz":
                assert list(content) == [MEDIA_TYPE], (name, status)
                assert content[MEDIA_TYPE]["schema"]["$ref"].endswith("/ProblemDetails")
        if operation["security"]:
            assert "401" in operation["responses"], name
