"""OpenTelemetry tracing, chosen by configuration: ``PRIVACY_OTEL_EXPORTER`` = ``console``,
``otlp`` (needs the OTLP exporter package and ``OTEL_EXPORTER_OTLP_ENDPOINT``), or
``jsonl:<folder>`` (one JSON line per span, per service: what tests read). Unset: no tracing.

One trace per request: the producer's ``traceparent`` Kafka header → the faust intake
(faust's OpenTelemetry sensor) → Temporal (its TracingInterceptor carries the context into the
workflow, children and activities) → connector spans. Span attributes never carry personal data.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
    SpanExportResult,
)

EXPORTER_ENV = "PRIVACY_OTEL_EXPORTER"


class JsonLinesExporter(SpanExporter):
    """Append finished spans as JSON lines to a file (no collector needed)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [span.to_json(indent=None) for span in spans]
        with self._lock, open(self._path, "a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def setup_tracing(service: str) -> bool:
    """Install a tracer provider for ``service`` if an exporter is configured; True if tracing."""
    spec = os.environ.get(EXPORTER_ENV, "").strip()
    if not spec:
        return False
    provider = TracerProvider(resource=Resource.create({"service.name": f"privacy-{service}"}))
    if spec == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif spec.startswith("jsonl:"):
        folder = Path(spec.removeprefix("jsonl:"))
        # Batched: spans ended inside a workflow must not do file I/O in the workflow sandbox.
        exporter = JsonLinesExporter(folder / f"{service}.jsonl")
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=200))
    elif spec == "otlp":
        provider.add_span_processor(BatchSpanProcessor(otlp_exporter("trace_exporter", "OTLPSpanExporter")))
    else:
        raise SystemExit(f"{EXPORTER_ENV}={spec!r}: use console, otlp or jsonl:<folder>")
    trace.set_tracer_provider(provider)
    return True


def otlp_exporter(module: str, name: str) -> Any:
    """An OTLP-over-HTTP exporter (traces or metrics), from the optional ``.[otlp]`` install."""
    try:
        found = importlib.import_module(f"opentelemetry.exporter.otlp.proto.http.{module}")
    except ImportError as exc:
        raise SystemExit(
            f"{EXPORTER_ENV}=otlp needs the opentelemetry-exporter-otlp-proto-http package"
        ) from exc
    return getattr(found, name)()


def trace_headers() -> list[tuple[str, bytes]]:
    """The current trace context as Kafka headers (``traceparent``), for a producer."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return [(key, value.encode()) for key, value in carrier.items()]


def read_spans(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
