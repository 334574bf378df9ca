"""Consent over HTTP: is a subject suppressed (before an import adds them), what did each system do.

``POST /v1/suppressions/check``  {"tenant", "subject": {identities}, "purposes": [..]?} →
                                 {"suppressed": bool, "suppressions": [{"purpose", "since"}]}
``GET /v1/consent/{event_id}``   per-system evidence of one consent change (no personal data)

Identities in the check are compared as pseudonymous references; they are neither kept nor logged.
Purposes are asked in the tenant's words: an older one (``newsletter``) is looked up as the data
use it stands for, the key suppressions are recorded under (orchestrator.policy.taxonomy), and as
itself (suppressions recorded before the packs spoke fideslang).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from orchestrator.api.auth import require
from orchestrator.api.bodies import BadBody, read_json
from orchestrator.policy.packs import PolicyPack
from orchestrator.policy.taxonomy import canonical_purposes
from schemas.identity import subject_refs
from workers.ledger import Ledger

CONSENT_LEDGER = web.AppKey("consent_ledger", Ledger)
SUBJECT_REF_KEY = web.AppKey("subject_ref_key", bytes)
CONSENT_PACKS = web.AppKey("consent_packs", dict[str, PolicyPack])


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _check_body(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body must be a JSON object"
    if not isinstance(body.get("tenant"), str) or not body["tenant"]:
        return "tenant is required"
    subject = body.get("subject")
    if not isinstance(subject, dict) or not subject or not all(isinstance(v, str) for v in subject.values()):
        return 'subject must be an object of identities (e.g. {"email": ...}) with string values'
    purposes = body.get("purposes")
    if purposes is not None and not (
        isinstance(purposes, list) and all(isinstance(p, str) for p in purposes)
    ):
        return "purposes, when given, must be a list of strings"
    return None


async def check_suppression(request: web.Request) -> web.Response:
    try:
        body = await read_json(request)
    except BadBody as exc:
        return _error(400, str(exc))
    problem = _check_body(body)
    if problem:
        return _error(400, problem)
    refs = subject_refs(request.app[SUBJECT_REF_KEY], body["tenant"], body["subject"])
    purposes = body.get("purposes")
    pack = request.app[CONSENT_PACKS].get(body["tenant"])
    if purposes is not None and pack is not None:
        # The data use each word stands for, and the word itself: suppressions recorded before the
        # packs spoke fideslang were kept under the older word.
        purposes = list(dict.fromkeys([*canonical_purposes(purposes, pack.document), *purposes]))
    found = await request.app[CONSENT_LEDGER].consent.suppressed(body["tenant"], refs, purposes)
    return web.json_response({"suppressed": bool(found), "suppressions": found})


async def consent_evidence(request: web.Request) -> web.Response:
    event_id = request.match_info["event_id"]
    evidence = await request.app[CONSENT_LEDGER].consent.evidence(event_id)
    if not evidence:
        return _error(404, f"no system has confirmed consent change {event_id!r} (yet)")
    return web.json_response({"event_id": event_id, "systems": evidence})


def add_consent_routes(
    app: web.Application, ledger: Ledger, ref_key: bytes, packs: dict[str, PolicyPack]
) -> None:
    app[CONSENT_LEDGER] = ledger
    app[SUBJECT_REF_KEY] = ref_key
    app[CONSENT_PACKS] = packs
    app.router.add_post("/v1/suppressions/check", require("viewer", check_suppression))
    app.router.add_get("/v1/consent/{event_id}", require("viewer", consent_evidence))
