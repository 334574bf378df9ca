"""The readable page of the OpenAPI document (``GET /docs``): every operation, its role, body
and answers, as self-contained HTML (no external scripts: the API runs where there is no
internet)."""

from __future__ import annotations

import html
from typing import Any


def docs_page(doc: dict[str, Any]) -> str:
    """A readable page of the document: every operation, its role, body and answers."""
    rows = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            role = op.get("x-role") or ("agent token" if op["security"] else "public or signed")
            body = op.get("requestBody", {}).get("content", {})
            sent = ", ".join(f"{m}: {_name(v['schema'])}" for m, v in body.items()) or "–"
            answers = "; ".join(f"{s} {_answer_name(a)}" for s, a in op["responses"].items())
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                f"<td>{html.escape(op['summary'])}</td><td>{html.escape(role)}</td>"
                f"<td>{html.escape(sent)}</td><td>{html.escape(answers)}</td></tr>"
            )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>API</title><style>"
        "body{font-family:sans-serif;margin:2em}td,th{border-bottom:1px solid #ddd;padding:4px 8px;"
        "text-align:left;vertical-align:top}</style></head><body>"
        f"<h1>{html.escape(doc['info']['title'])}</h1><p>{html.escape(doc['info']['description'])}</p>"
        "<p>The machine-readable document: <a href='/openapi.json'>/openapi.json</a>.</p>"
        "<table><tr><th>method</th><th>path</th><th>what</th><th>who</th><th>body</th><th>answers</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )


def _answer_name(answer: dict[str, Any]) -> str:
    media: list[dict[str, Any]] = list(answer.get("content", {}).values())
    return _name(media[0]["schema"]) if media else ""


def _name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    return str(schema.get("type", ""))
