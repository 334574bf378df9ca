"""The live API against its own OpenAPI document: schemathesis generates requests for every operation.

Valid (positive) and invalid (negative) inputs, a bounded number of each per operation, with a DPO
token: no answer may be a 5xx, and every answer must be one the document describes (status code,
content type, body schema). Runs in this process against the integration stack's API; what it
sends only ever names random ids and tenants, so it changes nothing another test relies on.
"""

from __future__ import annotations

import asyncio
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.conftest import TOKENS, RunningStack

EXAMPLES = 12  # per operation and mode: ~800 requests, well under two minutes on a loaded machine
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _exercise(api_url: str, token: str) -> tuple[list[str], int]:
    """Failures found, and how many requests were sent."""
    schema = schemathesis.openapi.from_url(api_url + "/openapi.json")
    failures: list[str] = []
    sent = [0]
    for found in schema.get_all_operations():
        operation = found.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )  # fmt: skip
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: Any) -> None:
                sent[0] += 1
                case.call_and_validate(
                    base_url=api_url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS, timeout=30
                )

            try:
                call()
            except Unsatisfiable:
                continue  # nothing can be invalid about an operation without inputs (GET /docs)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every operation is tried
                failures.append(f"{operation.label} ({mode.value}): {exc}"[:2000])
    return failures, sent[0]


async def test_the_live_api_answers_only_what_its_document_describes(stack: RunningStack) -> None:
    failures, sent = await asyncio.to_thread(_exercise, stack.settings.api_url, TOKENS["dpo"])
    assert not failures, "\n\n".join(failures)
    assert sent > 300, f"only {sent} requests: operations were skipped, not exercised"
