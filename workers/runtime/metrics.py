"""OpenTelemetry metrics, exported like the traces (``PRIVACY_OTEL_EXPORTER``: console, otlp,
jsonl:<folder>), every ``PRIVACY_OTEL_METRICS_SECONDS`` (default 10).

``privacy.requests.open``                  gauge   {tenant, status}   open requests now (ledger)
``privacy.requests.overdue``               gauge   {tenant}           open requests past due (ledger)
``privacy.system.confirmation.duration``   histogram (s) {tenant, system, outcome}: first try → answer
``privacy.dlq.records``                    counter {topic, reason}    inputs rejected to the DLQ
``privacy.partner.callbacks``              counter {partner, result}  partner callbacks, accepted or refused

Attributes are tenants, system and partner names from the policy packs, statuses and reasons:
never an identity, never a request id (unbounded cardinality).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource

from workers.runtime.telemetry import EXPORTER_ENV, otlp_exporter

log = logging.getLogger(__name__)
METER = metrics.get_meter("privacy")
DLQ_RECORDS = METER.create_counter(
    "privacy.dlq.records", unit="{record}", description="Inputs rejected to the DLQ, by topic and reason"
)
CONFIRMATION_DURATION = METER.create_histogram(
    "privacy.system.confirmation.duration",
    unit="s",
    description="From a system's first attempt to its final answer, per system",
)
PARTNER_CALLBACKS = METER.create_counter(
    "privacy.partner.callbacks", unit="{callback}", description="Partner callbacks, accepted or refused"
)


class JsonLinesMetricExporter(MetricExporter):
    """Append each export as one JSON line (no collector needed; what tests read)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = threading.Lock()

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        with self._lock, open(self._path, "a", encoding="utf-8") as out:
            out.write(metrics_data.to_json(indent=None) + "\n")
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None


def metrics_enabled() -> bool:
    return bool(os.environ.get(EXPORTER_ENV, "").strip())


def setup_metrics(service: str) -> bool:
    """Install a meter provider for ``service`` if an exporter is configured; True if metering."""
    spec = os.environ.get(EXPORTER_ENV, "").strip()
    if not spec:
        return False
    exporter: MetricExporter
    if spec == "console":
        exporter = ConsoleMetricExporter()
    elif spec.startswith("jsonl:"):
        exporter = JsonLinesMetricExporter(Path(spec.removeprefix("jsonl:")) / f"{service}.metrics.jsonl")
    elif spec == "otlp":
        exporter = otlp_exporter("metric_exporter", "OTLPMetricExporter")
    else:
        raise SystemExit(f"{EXPORTER_ENV}={spec!r}: use console, otlp or jsonl:<folder>")
    from workers.runtime.settings import Settings

    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=Settings().metrics_seconds * 1000)
    resource = Resource.create({"service.name": f"privacy-{service}"})
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=[reader]))
    return True


class LedgerGauges:
    """Open and overdue requests, read from the ledger every ``every`` seconds by one process
    (the API), reported by observable gauges (whose callbacks must not wait on the database)."""

    def __init__(self, ledger: Any, every: float = 10.0) -> None:
        self._ledger = ledger
        self._every = every
        self._open: dict[tuple[str, str], int] = {}
        self._overdue: dict[str, int] = {}
        METER.create_observable_gauge(
            "privacy.requests.open", callbacks=[self._observe_open], unit="{request}",
            description="Open requests by tenant and status",
        )  # fmt: skip
        METER.create_observable_gauge(
            "privacy.requests.overdue", callbacks=[self._observe_overdue], unit="{request}",
            description="Open requests past their due date, by tenant",
        )  # fmt: skip

    async def refresh(self) -> None:
        counts = await self._ledger.lookups.open_counts()
        self._open = {(r["tenant"], r["status"]): r["open"] for r in counts}
        overdue: dict[str, int] = {}
        for r in counts:
            overdue[r["tenant"]] = overdue.get(r["tenant"], 0) + r["overdue"]
        self._overdue = overdue

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception as exc:  # noqa: BLE001 - the database restarting must not stop the loop
                log.warning("metrics: ledger not readable now (%s)", type(exc).__name__)
            await asyncio.sleep(self._every)

    def _observe_open(self, options: CallbackOptions) -> Iterable[Observation]:
        for (tenant, status), count in sorted(self._open.items()):
            yield Observation(count, {"tenant": tenant, "status": status})

    def _observe_overdue(self, options: CallbackOptions) -> Iterable[Observation]:
        for tenant, count in sorted(self._overdue.items()):
            yield Observation(count, {"tenant": tenant})


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """Data points from a JSON-lines metrics file: name, attributes, value (or count and sum)."""
    points: list[dict[str, Any]] = []
    if not path.exists():
        return points
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        for resource in json.loads(line)["resource_metrics"]:
            for scope in resource["scope_metrics"]:
                for metric in scope["metrics"]:
                    for point in metric["data"]["data_points"]:
                        points.append({"name": metric["name"], **point})
    return points
