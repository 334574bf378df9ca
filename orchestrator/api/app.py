"""The HTTP API (aiohttp): one registry of routes, JSON errors with a message.

``GET /v1/requests/{request_id}``        status, due date, each system's outcome
``GET /v1/requests/{request_id}/report`` the access/portability report (JSON; ``?format=html``;
410 Gone with the reason once purged)
``GET /v1/requests/{request_id}/notice`` what was refused or kept and why, where to complain
                                         (JSON; ``?format=html``), in the tenant's language
``GET /v1/requests``                     recent requests (``?status=``)
``GET /v1/requests/overdue``             open requests past their due date
``GET /v1/requests/{request_id}/audit``  operator actions on the request
``POST …/verification|objection-decision|extension|cancellation``, ``POST …/systems/{s}/confirmation``,
``POST /v1/holds``, ``POST /v1/holds/{hold_id}/release``  operator actions (orchestrator.api.actions)
``POST /v1/suppressions/check``, ``GET /v1/consent/{event_id}``  consent (orchestrator.api.consent)
``POST /opendsr/v2/callbacks/{tenant}/{system}``  signed partner callbacks (orchestrator.api.callbacks)
``/v1/agent/{agent_id}``, ``/v1/data-rights-request[/{request_id}]``  DRP 1.0 agents (orchestrator.api.drp)
``/v1/drp/verification/{request_id}``  a person verifies for an agent (orchestrator.api.drp_verification)
``GET /healthz``                         liveness
``GET /openapi.json``, ``GET /docs``     this API described (orchestrator.api.openapi)
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web
from temporalio.converter import PayloadCodec

from orchestrator.api.actions import DIRECTIVES, OPERATIONS, add_action_routes
from orchestrator.api.auth import TOKEN_BOOK, TokenBook, authenticate, require
from orchestrator.api.bodies import refuse_unstorable
from orchestrator.api.callbacks import CallbackGateway, add_callback_routes
from orchestrator.api.codec import add_codec_routes
from orchestrator.api.consent import add_consent_routes
from orchestrator.api.drp import DrpGateway, add_drp_routes
from orchestrator.api.drp_verification import VerificationPage, add_verification_routes
from orchestrator.api.openapi import add_openapi_routes
from orchestrator.operations import Directives, Operations
from orchestrator.policy.packs import PolicyPack, load_packs
from workers.activities.notice_document import build_notice, render_notice_html
from workers.ledger import Ledger

LEDGER = web.AppKey("ledger", Ledger)
PACKS = web.AppKey("packs", dict[str, PolicyPack])


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _request_id(request: web.Request) -> str | web.Response:
    raw = request.match_info["request_id"]
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return _error(400, f"request_id {raw!r} is not a UUID")


async def _known_request(request: web.Request) -> dict[str, Any] | web.Response:
    """The ledger's view of the request the path names, or the 400/404 answer to give."""
    request_id = _request_id(request)
    if isinstance(request_id, web.Response):
        return request_id
    found: dict[str, Any] | None = await request.app[LEDGER].request(request_id)
    if found is None:
        return _error(404, f"no request with request_id {request_id}")
    return found


async def get_request(request: web.Request) -> web.Response:
    found = await _known_request(request)
    return found if isinstance(found, web.Response) else web.json_response(found)


async def get_report(request: web.Request) -> web.Response:
    request_id = _request_id(request)
    if isinstance(request_id, web.Response):
        return request_id
    ledger = request.app[LEDGER]
    stored = await ledger.stored_report(request_id)
    if stored is not None and stored.purged_at is not None:
        # Kept only for its period (or erased with the person): gone for good, and said so.
        return web.json_response(
            {"error": f"the report of request {request_id} was purged", "reason": stored.purge_reason,
             "purged_at": stored.purged_at},
            status=410,
        )  # fmt: skip
    found = (stored.report, stored.html or "") if stored is not None and stored.report is not None else None
    if found is None:
        known: dict[str, Any] | None = await ledger.request(request_id)
        if known is None:
            return _error(404, f"no request with request_id {request_id}")
        if known["type"] not in ("access", "portability"):
            return _error(404, f"request {request_id} is a {known['type']} request: it has no report")
        return _error(409, f"the report of request {request_id} is not ready (status {known['status']})")
    report, html = found
    if request.query.get("format") == "html":
        return web.Response(text=html, content_type="text/html")
    return web.json_response(report)


async def get_notice(request: web.Request) -> web.Response:
    """The subject-facing notice of any request: every refusal or partial refusal with its
    reasons, and the tenant's supervisory authority and how to complain (GDPR Art. 12(4))."""
    found = await _known_request(request)
    if isinstance(found, web.Response):
        return found
    pack = request.app[PACKS].get(found["tenant"])
    notice = build_notice(found, pack.document["controller"] if pack else {})
    if request.query.get("format") == "html":
        return web.Response(text=render_notice_html(notice), content_type="text/html")
    return web.json_response(notice)


async def list_requests(request: web.Request) -> web.Response:
    status = request.query.get("status")
    try:
        limit = int(request.query.get("limit", "50"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 500:
        return _error(400, "limit must be a whole number from 1 to 500")
    return web.json_response(
        {"requests": await request.app[LEDGER].lookups.list_requests(status=status, limit=limit)}
    )


async def list_overdue(request: web.Request) -> web.Response:
    return web.json_response({"requests": await request.app[LEDGER].lookups.overdue()})


async def get_audit(request: web.Request) -> web.Response:
    request_id = _request_id(request)
    if isinstance(request_id, web.Response):
        return request_id
    return web.json_response({"entries": await request.app[LEDGER].audit.entries(request_id)})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(
    ledger: Ledger,
    tokens: TokenBook,
    operations: Operations | None = None,
    directives: Directives | None = None,
    codec: PayloadCodec | None = None,
    ui_origins: list[str] | None = None,
    callbacks: CallbackGateway | None = None,
    drp: DrpGateway | None = None,
    packs: dict[str, PolicyPack] | None = None,
    drp_verification: VerificationPage | None = None,
    *,
    ref_key: bytes,
) -> web.Application:
    """The one registry of routes, each with the least role that may call it. ``ref_key`` keys
    subject references (the suppression check compares them)."""
    app = web.Application(middlewares=[refuse_unstorable, authenticate])
    app[LEDGER] = ledger
    app[PACKS] = packs if packs is not None else load_packs()
    app[TOKEN_BOOK] = tokens
    if directives is not None:
        app[DIRECTIVES] = directives
    app.router.add_get("/healthz", healthz)
    add_openapi_routes(app)  # the document of every route below, and a readable page of it
    app.router.add_get("/v1/requests", require("viewer", list_requests))
    app.router.add_get("/v1/requests/overdue", require("viewer", list_overdue))
    app.router.add_get("/v1/requests/{request_id}", require("viewer", get_request))
    # Reports carry the subject's personal data; the audit log names people and reasons.
    app.router.add_get("/v1/requests/{request_id}/report", require("dpo", get_report))
    app.router.add_get("/v1/requests/{request_id}/audit", require("dpo", get_audit))
    # The notice quotes the reasons operators gave, meant for the subject: operators send it.
    app.router.add_get("/v1/requests/{request_id}/notice", require("operator", get_notice))
    add_consent_routes(app, ledger, ref_key, app[PACKS])
    if operations is not None:
        app[OPERATIONS] = operations
        add_action_routes(app)
    if codec is not None:
        add_codec_routes(app, codec, ui_origins or [])
    if callbacks is not None:
        add_callback_routes(app, callbacks)
    if drp is not None:
        add_drp_routes(app, drp)
    if drp_verification is not None:
        add_verification_routes(app, drp_verification)
    return app
