"""The access / portability report: JSON for machines, HTML for the data subject. Pure."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any

from workers.activities.notice_document import build_notice, notice_section
from workers.messages.requests import SystemStep


def build_report(
    request: dict[str, Any],
    controller: dict[str, Any],
    steps: list[SystemStep],
    records: dict[str, list[dict[str, Any]]],
) -> dict[str, Any]:
    """Per system: the records found and what the subject is owed to know about them."""
    outcomes = {s["system"]: s for s in request["systems"]}
    systems = {}
    for step in steps:
        found = records.get(step.system, [])
        systems[step.system] = {
            "description": step.disclosure.get("description"),
            "categories": step.disclosure.get("categories", []),
            "purposes": step.disclosure.get("purposes", []),
            # The fideslang keys' human names ("user.contact.email": "User Contact Email").
            "names": step.disclosure.get("names", {}),
            "recipients": step.disclosure.get("recipients", []),
            "retention": step.disclosure.get("retention"),
            "outcome": outcomes.get(step.system, {}).get("outcome", "pending"),
            "done": _done(outcomes.get(step.system, {})),
            "record_count": len(found),
            "records": found,
        }
    return {
        "request_id": request["request_id"],
        "tenant": request["tenant"],
        "type": request["type"],
        "controller": controller,
        "submitted_at": request["submitted_at"],
        "generated_at": datetime.now(UTC).isoformat(),
        "identifiers": identifiers_used(request.get("identifiers")),
        "systems": systems,
        # What was not given or kept, why, and where to complain (GDPR Art. 12(4)). The report is
        # compiled once every system has answered, just before the request completes.
        "notice": build_notice({**request, "status": "completed"}, controller),
    }


def identifiers_used(summary: dict[str, Any] | None) -> dict[str, Any]:
    """Which identifiers the systems were searched by: the kinds given and those found by identity
    resolution, with counts and where they were found (the identifiers themselves stay sealed)."""
    if not summary:
        return {"given": {}, "found": {}}
    return {"given": dict(summary.get("given", {})), "found": dict(summary.get("found", {}))}


def _named(key: str, names: dict[str, str]) -> str:
    """A category or purpose as a person reads it: its human name, the key after it."""
    return f"{names[key]} ({key})" if key in names else key


def _done(system: dict[str, Any]) -> dict[str, Any]:
    """Per system, as a DPO reads it: found, what was done, verified, kept with which basis."""
    return {
        "action": system.get("action"),
        "located": system.get("located"),
        "verification": system.get("verification"),
        "legal_basis": system.get("legal_basis"),
        "retained_until": system.get("retained_until"),
    }


RIGHT_NAMES = {
    "access": "to access your data (this report)",
    "portability": "to receive the data you provided in a machine-readable format, "
    "or have it sent to another provider",
    "erasure": "to have your data erased",
    "rectification": "to have inaccurate data corrected",
    "restriction": "to have the processing of your data restricted",
    "objection": "to object to processing, and always to direct marketing",
    "consent_withdrawal": "to withdraw your consent at any time",
}


def render_html(report: dict[str, Any]) -> str:
    """A readable page of the same report, every value escaped."""
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Your data held by {e(str(report['controller'].get('name', '')))}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .5em}</style>",
        "</head><body>",
        f"<h1>Your data held by {e(str(report['controller'].get('name', '')))}</h1>",
        f"<p>Request {e(report['request_id'])} ({e(report['type'])}), "
        f"generated {e(report['generated_at'])}.</p>",
        _identifiers_html(report.get("identifiers") or {}),
    ]
    for name, system in report["systems"].items():
        parts.append(f"<h2>{e(name)}</h2>")
        if system.get("description"):
            parts.append(f"<p>{e(str(system['description']))}</p>")
        parts.append("<ul>")
        for label, key in (
            ("Categories", "categories"),
            ("Purposes", "purposes"),
            ("Recipients", "recipients"),
        ):
            named = [_named(k, system.get("names") or {}) for k in system.get(key) or []]
            parts.append(f"<li>{label}: {e(', '.join(named) or 'none')}</li>")
        parts.append(f"<li>Retention: {e(str(system.get('retention') or 'not stated'))}</li></ul>")
        if system["records"]:
            columns = sorted({k for record in system["records"] for k in record})
            parts.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in columns) + "</tr>")
            for record in system["records"]:
                cells = "".join(f"<td>{e(_cell(record.get(c)))}</td>" for c in columns)
                parts.append(f"<tr>{cells}</tr>")
            parts.append("</table>")
        else:
            parts.append("<p>No records about you in this system.</p>")
    notice = report.get("notice")
    if notice and notice["refusals"]:
        parts.append(f"<h2>{e(notice['title'])}</h2>")
        parts.append(notice_section(notice))
    rights = report["controller"].get("rights") or []
    if rights:
        parts.append("<h2>Your rights</h2><ul>")
        parts.extend(f"<li>{e(RIGHT_NAMES.get(r, r))}</li>" for r in rights)
        authority = (report["controller"].get("complaints") or {}).get("authority")
        parts.append(
            f"<li>to lodge a complaint with {e(authority)}</li></ul>"
            if authority
            else "<li>to lodge a complaint with a data protection supervisory authority</li></ul>"
        )
        contact = report["controller"].get("contact")
        if contact:
            parts.append(f"<p>To exercise them, contact {e(str(contact))}.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _identifiers_html(used: dict[str, Any]) -> str:
    """ "We searched by": each kind given, and each found with the systems that linked it."""
    e = html.escape
    items = [f"<li>{e(kind)} (given by you)</li>" for kind in used.get("given", {})]
    for kind, found in used.get("found", {}).items():
        sources = e(", ".join(found.get("sources", [])))
        items.append(f"<li>{e(kind)}: {int(found.get('count', 0))} found in {sources}</li>")
    return "<p>Your data was searched for by:</p><ul>" + "".join(items) + "</ul>" if items else ""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, default=str)
