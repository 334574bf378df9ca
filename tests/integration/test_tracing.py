"""One trace per request: the producer's span → Kafka header → intake → workflow → children →
activities → connectors, across processes, with no personal data in any span."""

from __future__ import annotations

import asyncio
import json

import pytest
from opentelemetry.sdk.trace import TracerProvider

from tests.integration.conftest import RunningStack, rights_request, traces_dir
from workers.telemetry import read_spans


async def test_one_trace_spans_kafka_intake_workflow_and_connectors(
    stack: RunningStack, tmp_path_factory: pytest.TempPathFactory
):
    await stack.reseed()
    tracer = TracerProvider().get_tracer("platform")
    request = rights_request("erasure", {"email": "chloe@example.org"})
    with tracer.start_as_current_span("platform submits a rights request") as span:
        await stack.publish(request)  # injects traceparent into the Kafka headers
        trace_id = f"0x{span.get_span_context().trace_id:032x}"
    await stack.closed(request["request_id"])

    folder = traces_dir(tmp_path_factory)
    names: set[str] = set()
    for _ in range(50):  # spans are exported in batches every 200 ms
        spans = [s for service in ("intake", "worker") for s in read_spans(folder / f"{service}.jsonl")]
        in_trace = [s for s in spans if s["context"]["trace_id"] == trace_id]
        names = {str(s["name"]) for s in in_trace}
        if "RunWorkflow:RequestWorkflow" in names and "connector sql erase" in names:
            break
        await asyncio.sleep(0.2)
    assert "privacy.requests.v1 process" in names, "the intake continued the producer's trace"
    assert "StartWorkflow:RequestWorkflow" in names
    assert "RunWorkflow:RequestWorkflow" in names and "RunWorkflow:SystemTaskWorkflow" in names
    assert "RunActivity:apply_system_action" in names
    assert {"connector sql erase", "connector files erase"} <= names
    services = {s["resource"]["attributes"]["service.name"] for s in in_trace}
    assert services == {"privacy-intake", "privacy-worker"}
    dumped = json.dumps(in_trace)
    assert "chloe@example.org" not in dumped, "no personal data in span names or attributes"
