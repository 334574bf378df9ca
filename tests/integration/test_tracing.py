"""One trace per request: the producer's span → Kafka header → intake → workflow → children →
activities → connectors, across processes, with no personal data in any span."""

from __future__ import annotations

import asyncio
import json

import pytest
from opentelemetry.sdk.trace import TracerProvider

from tests.integration.conftest import RunningStack, rights_request, traces_dir
from workers.runtime.metrics import read_metrics
from workers.runtime.telemetry import read_spans


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


async def test_metrics_count_open_and_overdue_requests_confirmations_and_dlq_without_personal_data(
    stack: RunningStack, tmp_path_factory: pytest.TempPathFactory
):
    await stack.reseed()
    erasure = rights_request("erasure", {"email": "chloe@example.org"})
    waiting = rights_request("erasure", {"email": "ada@example.org"}, tenant="partnerco", jurisdiction="BE")
    await stack.publish(erasure, waiting, b'{"request_id": "broken json')
    await stack.closed(erasure["request_id"])
    folder = traces_dir(tmp_path_factory)

    def points(service: str, name: str) -> list[dict]:
        return [p for p in read_metrics(folder / f"{service}.metrics.jsonl") if p["name"] == name]

    for _ in range(100):
        open_now = points("api", "privacy.requests.open")
        if any(p["attributes"] == {"tenant": "partnerco", "status": "in_progress"} for p in open_now):
            break
        await asyncio.sleep(0.2)
    assert any(p["attributes"] == {"tenant": "partnerco", "status": "in_progress"} for p in open_now)
    assert points("api", "privacy.requests.overdue"), "the overdue gauge is reported per tenant"
    dlq = points("intake", "privacy.dlq.records")
    assert any(p["attributes"] == {"topic": "privacy.requests.v1", "reason": "malformed_json"} for p in dlq)
    latency = points("worker", "privacy.system.confirmation.duration")
    crm = [
        p for p in latency if p["attributes"] == {"tenant": "upjunoo", "system": "crm", "outcome": "erased"}
    ]
    assert crm and crm[-1]["count"] >= 1 and crm[-1]["sum"] >= 0
    callbacks = points("api", "privacy.partner.callbacks")
    assert any(p["attributes"]["result"] == "accepted completed" for p in callbacks)

    everything = json.dumps([read_metrics(f) for f in folder.glob("*.metrics.jsonl")])
    assert "@" not in everything, "no identity in any metric attribute"
    assert erasure["request_id"] not in everything, "no request ids either: they are unbounded"
    status, _ = await stack.api(
        "POST", f"/v1/requests/{waiting['request_id']}/cancellation", {"reason": "done"}
    )
    assert status == 200
