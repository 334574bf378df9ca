"""The bench's chart and console summary, from whichever parts of the results are present."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        p
        for p in (_throughput, _latency, _consent, _open_requests, _shop)
        if p.__name__.strip("_") in _present(results)
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    for panel, axis in zip(panels, axes[0], strict=True):
        panel(results, axis)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _present(results: dict[str, Any]) -> set[str]:
    present = set()
    if "bare_temporal" in results:
        present |= {"throughput", "latency"}
    if "consent" in results:
        present.add("consent")
    if "open_requests" in results:
        present.add("open_requests")
    if "shop" in results:
        present.add("shop")
    return present


def _shop(results: dict[str, Any], axis: Any) -> None:
    shop = results["shop"]
    axis.bar(
        ["Fides\n2.78.2", "our erasure\nburst", "target\n(10× Fides)", "bare Temporal\nwidth 1"],
        [shop["fides"]["requests_per_s"], shop["erasure"]["burst"]["requests_per_s"],
         shop["target"]["requests_per_s"], shop["bare_temporal"]["workflows_per_s"]],
        color=["#bb6a2a", "#2a6ebb", "#dddddd", "#999999"],
    )  # fmt: skip
    axis.set_ylabel("erasures per second")
    axis.set_title(f"(f) shop database: {shop['erasure']['ratio_to_fides']}× Fides")


def _throughput(results: dict[str, Any], axis: Any) -> None:
    bare, ours = results["bare_temporal"], results["end_to_end_burst"]
    axis.bar(
        ["bare Temporal\nno-op fan-out", "our erasure\nend to end"],
        [bare["workflows_per_s"], ours["requests_per_s"]],
        color=["#999999", "#2a6ebb"],
    )
    axis.set_ylabel("requests (fan-out workflows) per second")
    axis.set_title(f"(a, b) width {bare['width']}: ratio {results['ratio_end_to_end_vs_bare']:.2f}")


def _latency(results: dict[str, Any], axis: Any) -> None:
    labels = ["p50", "p90", "p99"]
    for key, name, offset in (
        ("end_to_end_single", "one at a time", -0.2),
        ("end_to_end_burst", "burst", 0.2),
    ):
        values = [results[key]["publish_to_closed_s"][p] for p in labels]
        axis.bar([i + offset for i in range(3)], values, width=0.4, label=name)
    axis.set_xticks(range(3), labels)
    axis.set_ylabel("seconds, publish → closed")
    axis.set_title("(c) latency of an erasure")
    axis.legend()


def _consent(results: dict[str, Any], axis: Any) -> None:
    consent = results["consent"]
    axis.bar(
        ["raw Kafka\nproduce+consume", "ours: ingested", "ours: every system\nconfirmed"],
        [
            consent["raw_kafka"]["events_per_s"],
            consent["ours"]["ingested_per_s"],
            consent["ours"]["propagated_per_s"],
        ],
        color=["#999999", "#7aa6d8", "#2a6ebb"],
    )
    target = consent["target_events_per_s"]
    axis.axhline(target, color="#c0392b", linestyle="--", label=f"target {target:,}/s")
    axis.set_yscale("log")
    axis.set_ylabel("consent events per second (log)")
    axis.set_title(f"(d) {consent['ours']['events']:,} withdrawals, {consent['ours']['systems']} systems")
    axis.legend()


def _open_requests(results: dict[str, Any], axis: Any) -> None:
    opened = results["open_requests"]
    labels = ["p50", "p90", "p99"]
    for key, values, offset in (
        ("bare signal → closed", opened["bare_temporal"]["signal_to_closed_s"], -0.2),
        ("signed callback → closed", opened["ours"]["callback_to_closed_s"], 0.2),
    ):
        axis.bar([i + offset for i in range(3)], [values[p] for p in labels], width=0.4, label=key)
    axis.set_xticks(range(3), labels)
    axis.set_ylabel("seconds")
    axis.set_title(
        f"(e) {opened['open_requests']:,} open: +{opened['memory_growth_per_open_request_kb']} kB each"
    )
    axis.legend()


def summary(results: dict[str, Any]) -> str:
    lines = []
    if "bare_temporal" in results:
        lines.append(f"(a) bare Temporal: {json.dumps(results['bare_temporal'])}")
        for key in ("end_to_end_single", "end_to_end_burst"):
            r = results[key]
            lines.append(
                f"(b, c) {key}: {r['requests_per_s']} req/s; publish→started "
                f"{r['publish_to_workflow_started_s']}; publish→closed {r['publish_to_closed_s']}"
            )
        lines.append(f"(b) ratio to bare Temporal: {results['ratio_end_to_end_vs_bare']}")
    if "consent" in results:
        c = results["consent"]
        lines.append(
            f"(d) consent: {c['ours']['propagated_per_s']}/s propagated, "
            f"{c['ours']['ingested_per_s']}/s ingested; raw Kafka {c['raw_kafka']['events_per_s']}/s; "
            f"ratio {c['ratio_propagated_vs_raw_kafka']}"
        )
    if "open_requests" in results:
        o = results["open_requests"]
        lines.append(
            f"(e) {o['open_requests']} open ({o['opened_per_s']}/s to open): "
            f"memory {o['memory_with_open_mb']} MB, "
            f"+{o['memory_growth_per_open_request_kb']} kB per request "
            f"(marginal {o.get('memory_marginal_per_open_request_kb')} kB, "
            f"at 10,000 {o.get('memory_per_request_at_10000_kb')} kB); "
            f"callback→closed {o['ours']['callback_to_closed_s']} "
            f"vs bare signal {o['bare_temporal']['signal_to_closed_s']}"
        )
    return "\n".join(lines)
