"""The OpenAPI document: valid 3.1, and it describes exactly the routes the app serves."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from openapi_spec_validator import validate

from orchestrator.api.app import create_app
from orchestrator.api.auth import TokenBook
from orchestrator.api.openapi import document


class _Anything:
    """Stands in for the ledger, Temporal and the gateways: routes are registered, never called."""


def _app() -> Any:
    stub: Any = _Anything()
    return create_app(
        stub,
        TokenBook({}),
        stub,
        stub,
        codec=stub,
        callbacks=stub,
        drp=stub,
        ref_key=b"test",
        drp_verification=stub,
    )


def test_the_document_is_valid_openapi_3_1():
    doc = document()
    validate(doc)
    assert doc["openapi"].startswith("3.1")


def test_every_route_of_the_app_is_described_and_nothing_else():
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in _app().router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    described = {(method, path) for path, methods in document()["paths"].items() for method in methods}
    assert served - described == set(), "undescribed routes: add them to orchestrator/api/openapi.py"
    assert described - served == set(), "described routes the app does not serve"


def test_every_operation_says_who_may_call_it_and_what_it_answers():
    for path, methods in document()["paths"].items():
        for method, op in methods.items():
            assert op["summary"] and op["responses"], (method, path)
            if op.get("x-role"):
                assert {"401", "403"} <= set(op["responses"]), (method, path)
    verification = document()["paths"]["/v1/requests/{request_id}/verification"]["post"]
    assert verification["x-role"] == "operator"
    assert verification["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("Decision")


async def test_the_document_and_its_page_are_served_without_a_token():
    async with TestClient(TestServer(_app())) as client:
        answer = await client.get("/openapi.json")
        assert answer.status == 200 and (await answer.json()) == document()
        page = await client.get("/docs")
        text = await page.text()
        assert page.status == 200 and page.content_type == "text/html"
        assert "/v1/data-rights-request/{request_id}" in text and "<script" not in text
