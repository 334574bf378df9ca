"""The HTTP API described: an OpenAPI 3.1 document of every route, and a readable page of it.

``GET /openapi.json`` serves the document, ``GET /docs`` a self-contained HTML page generated
from it (no external scripts: the API runs where there is no internet). ``OPERATIONS`` lists
every route with its least role; a unit test checks it against the app's route table, so a
route added without its description fails the build. Bodies are described as the handlers
answer them: JSON errors ``{"error": ...}`` for our API, ``{code, message, fatal}`` for DRP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from orchestrator.api.openapi_components import SCHEMAS, STRING, UUID, ref
from orchestrator.api.openapi_page import docs_page

JSON = "application/json"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    role: str | None = None  # the least API role; None: public, or signed (partners, agents)
    body: str | None = None  # a components schema name, "text" (a signed DRP message), "json"
    answers: dict[int, str | None] = field(default_factory=dict)  # status → schema name (None: no body)
    tag: str = "requests"
    query: tuple[tuple[str, dict[str, Any]], ...] = ()
    security: str | None = None  # "drp": an agent's pairwise token
    content: str = JSON


_ACT = {400: "Error", 404: "Error", 409: "Error"}
_DRP_ERR = {400: "DrpError", 403: "DrpError", 404: "DrpError", 409: "DrpError", 503: "DrpError"}

OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/healthz", "Liveness", answers={200: "Ok"}, tag="service"),
    Operation("get", "/openapi.json", "This document", answers={200: None}, tag="service"),
    Operation(
        "get",
        "/docs",
        "This document as a readable page",
        answers={200: None},
        tag="service",
        content="text/html",
    ),
    Operation(
        "get",
        "/v1/requests",
        "Recent requests",
        "viewer",
        answers={200: "RequestList", 400: "Error"},
        query=(("status", STRING), ("limit", {"type": "integer", "minimum": 1, "maximum": 500})),
    ),
    Operation(
        "get",
        "/v1/requests/overdue",
        "Open requests past their due date",
        "viewer",
        answers={200: "RequestList"},
    ),
    Operation(
        "get",
        "/v1/requests/{request_id}",
        "A request: status, due date, each system's outcome",
        "viewer",
        answers={200: "Request", 400: "Error", 404: "Error"},
    ),
    Operation(
        "get",
        "/v1/requests/{request_id}/report",
        "The access/portability report (?format=html); 410 once purged",
        "dpo",
        answers={200: "Report", 400: "Error", 404: "Error", 409: "Error", 410: "Purged"},
        query=(("format", {"type": "string", "enum": ["json", "html"]}),),
    ),
    Operation(
        "get",
        "/v1/requests/{request_id}/notice",
        "The subject-facing notice: refusals, reasons, where to complain (?format=html)",
        "operator",
        answers={200: "Notice", 400: "Error", 404: "Error"},
        query=(("format", {"type": "string", "enum": ["json", "html"]}),),
    ),
    Operation(
        "get",
        "/v1/requests/{request_id}/audit",
        "Operator actions on the request",
        "dpo",
        answers={200: "AuditEntries", 400: "Error"},
    ),
    Operation(
        "post",
        "/v1/requests/{request_id}/verification",
        "Approve or deny the identity",
        "operator",
        "Decision",
        {200: "RequestState", **_ACT},
        tag="operator actions",
    ),
    Operation(
        "post",
        "/v1/requests/{request_id}/objection-decision",
        "Accept or refuse an objection",
        "operator",
        "Decision",
        {200: "RequestState", **_ACT},
        tag="operator actions",
    ),
    Operation(
        "post",
        "/v1/requests/{request_id}/rectification-decision",
        "Accept or refuse a rectification, with reasons (where the policy reserves it)",
        "operator",
        "Decision",
        {200: "RequestState", **_ACT},
        tag="operator actions",
    ),
    Operation(
        "post",
        "/v1/requests/{request_id}/extension",
        "Extend the deadline, with reasons",
        "operator",
        "Reason",
        {200: "RequestState", **_ACT},
        tag="operator actions",
    ),
    Operation(
        "post",
        "/v1/requests/{request_id}/cancellation",
        "Cancel the request",
        "operator",
        "Reason",
        {200: "RequestState", **_ACT},
        tag="operator actions",
    ),
    Operation(
        "post",
        "/v1/requests/{request_id}/systems/{system}/confirmation",
        "Confirm a manual step with its outcome",
        "operator",
        "Confirmation",
        {200: "Ok", **_ACT},
        tag="operator actions",
    ),
    Operation(
        "post",
        "/v1/holds",
        "Place a legal hold on a subject",
        "dpo",
        "Hold",
        {200: "HoldId", **_ACT},
        tag="operator actions",
    ),
    Operation(
        "post",
        "/v1/holds/{hold_id}/release",
        "Release a legal hold",
        "dpo",
        "Reason",
        {200: "Released", **_ACT},
        tag="operator actions",
    ),
    Operation(
        "post",
        "/v1/directives",
        "Record a post-mortem directive",
        "dpo",
        "Directive",
        {200: "DirectiveId", **_ACT},
        tag="operator actions",
    ),
    Operation(
        "post",
        "/v1/deaths",
        "Notify a death: the directives become requests",
        "dpo",
        "Death",
        {200: "RequestIds", **_ACT},
        tag="operator actions",
    ),
    Operation(
        "post",
        "/v1/suppressions/check",
        "Is a subject suppressed (before an import adds them)?",
        "viewer",
        "SuppressionCheck",
        {200: "Suppressions", 400: "Error"},
        tag="consent",
    ),
    Operation(
        "get",
        "/v1/consent/{event_id}",
        "Per-system evidence of one consent change",
        "viewer",
        answers={200: "ConsentEvidence", 404: "Error"},
        tag="consent",
    ),
    *(
        Operation(
            method,
            f"{prefix}/{verb}",
            f"Temporal remote codec: {verb} payloads",
            "dpo" if method == "post" else None,
            "Payloads" if method == "post" else None,
            {200: "Payloads", 400: "Error"} if method == "post" else {204: None},
            tag="codec",
        )
        for prefix in ("/codec", "/codec/{token}")
        for verb in ("decode", "encode")
        for method in ("post", "options")
    ),
    Operation(
        "post",
        "/opendsr/v2/callbacks/{tenant}/{system}",
        "A partner's signed OpenDSR callback",
        body="json",
        answers={
            200: "CallbackAnswer",
            202: "CallbackAnswer",
            400: "Error",
            403: "Error",
            409: "Error",
            503: "Error",
        },
        tag="partners",
    ),
    Operation(
        "post",
        "/v1/agent/{agent_id}",
        "DRP pairwise key set-up (signed): a bearer token",
        body="text",
        answers={200: "DrpToken", 403: None},
        tag="drp",
    ),
    Operation(
        "get",
        "/v1/agent/{agent_id}",
        "DRP: is my token still good?",
        answers={200: "Empty", 403: "DrpError"},
        tag="drp",
        security="drp",
    ),
    Operation(
        "post",
        "/v1/data-rights-request",
        "DRP: exercise a right (signed)",
        body="text",
        answers={200: "DrpStatus", **_DRP_ERR},
        tag="drp",
        security="drp",
    ),
    Operation(
        "get",
        "/v1/data-rights-request/{request_id}",
        "DRP: the status of my request",
        answers={200: "DrpStatus", 403: "DrpError", 404: "DrpError"},
        tag="drp",
        security="drp",
    ),
    Operation(
        "delete",
        "/v1/data-rights-request/{request_id}",
        "DRP: revoke my request (signed)",
        body="text",
        answers={200: "DrpStatus", **_DRP_ERR},
        tag="drp",
        security="drp",
    ),
    # The person's page for need_user_verification (the status's user_verification_url): HTML.
    Operation("get", "/v1/drp/verification/{request_id}", "DRP: the person's verification form",
              answers={200: "Html", 400: "Html", 404: "Html", 409: "Html", 410: "Html"}, tag="drp",
              query=(("request_id", STRING), ("redirect_to", STRING)), content="text/html"),
    Operation("post", "/v1/drp/verification/{request_id}", "DRP: the person verifies (form post)",
              body="form", answers={200: "Html", 303: None, 400: "Html", 403: "Html", 404: "Html",
                                    409: "Html", 410: "Html"}, tag="drp", content="text/html"),
)  # fmt: skip


_PATH_PARAMETERS = {"request_id": UUID, "hold_id": STRING}
_DESCRIPTIONS = {
    200: "OK",
    202: "Accepted",
    204: "No content",
    303: "See other: back to the agent's redirect_to",
    400: "Bad input",
    401: "No valid API token",
    403: "Forbidden",
    404: "Not found",
    409: "Not allowed now",
    410: "Gone: purged at the end of its retention (the reason says why)",
    503: "Retry later",
}


def _response(status: int, schema: str | None, content: str) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": _DESCRIPTIONS.get(status, str(status))}
    if schema is not None:
        answer["content"] = {content if status < 300 or schema == "Html" else JSON: {"schema": ref(schema)}}
    if schema == "Html" and status == 400:  # a path or query no store could hold: refused as JSON
        answer["content"][JSON] = {"schema": ref("Error")}
    return answer


def _operation(op: Operation) -> dict[str, Any]:
    answers = {str(s): _response(s, n, op.content) for s, n in op.answers.items()}
    if op.path == "/openapi.json":
        answers["200"]["content"] = {JSON: {"schema": {"type": "object"}}}
    if op.path == "/docs":
        answers["200"]["content"] = {"text/html": {"schema": STRING}}
    if op.role is not None:
        answers.setdefault("401", _response(401, "Error", JSON))
        answers.setdefault("403", _response(403, "Error", JSON))
    if op.path.endswith(("/report", "/notice")):
        answers["200"]["content"]["text/html"] = {"schema": STRING}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _PATH_PARAMETERS.get(name, STRING)}
        for name in _path_names(op.path)
    ] + [{"name": name, "in": "query", "required": False, "schema": schema} for name, schema in op.query]
    found: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{op.method}{op.path}".replace("/", "_").replace("{", "").replace("}", ""),
        "tags": [op.tag],
        "responses": answers,
        "security": [{"apiToken": []}] if op.role else [{"drpAgentToken": []}] if op.security else [],
    }
    if op.role:
        found["x-role"] = op.role
        found["description"] = f"Needs the **{op.role}** role (or higher)."
    if parameters:
        found["parameters"] = parameters
    if op.body is not None:
        if op.body == "text":
            media = {"text/plain": {"schema": {"type": "string", "description": "base64(signature ‖ JSON)"}}}
        elif op.body == "form":
            media = {"application/x-www-form-urlencoded": {"schema": ref("DrpVerificationForm")}}
        elif op.body == "json":
            media = {JSON: {"schema": {"type": "object"}}}
        else:
            media = {JSON: {"schema": ref(op.body)}}
        found["requestBody"] = {"required": True, "content": media}
    return found


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API."""
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Privacy-request orchestrator API",
            "version": "1",
            "description": "Requests' status and evidence, operator actions, consent, partners' "
            "signed OpenDSR callbacks and authorised agents over the Data Rights Protocol 1.0.",
        },
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "apiToken": {"type": "http", "scheme": "bearer", "description": "PRIVACY_API_TOKENS"},
                "drpAgentToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a DRP agent's pairwise token (POST /v1/agent/{id})",
                },
            },
        },
    }


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(document())


async def docs(request: web.Request) -> web.Response:
    return web.Response(text=docs_page(document()), content_type="text/html")


def add_openapi_routes(app: web.Application) -> None:
    app.router.add_get("/openapi.json", openapi_json)
    app.router.add_get("/docs", docs)
