"""Operator actions over HTTP: a JSON body with a reason; the actor is the token's holder.

Errors are JSON with a message: 400 bad input, 404 unknown request/system/hold, 409 an action
not allowed now (the workflow's own reason).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from orchestrator.api.auth import PRINCIPAL, require
from orchestrator.api.bodies import BadBody, is_uuid, read_json
from orchestrator.operations import ActionRefused, Directives, NotFound, Operations

OPERATIONS = web.AppKey("operations", Operations)

Handler = Callable[[web.Request, Operations, str, dict[str, Any]], Awaitable[Any]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def action(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Parse the body, run the action as the token's holder, map refusals to HTTP answers."""

    async def wrapped(request: web.Request) -> web.Response:
        actor = request[PRINCIPAL].name
        for name in ("request_id", "hold_id"):  # ids the ledger keeps as UUIDs
            if name in request.match_info and not is_uuid(request.match_info[name]):
                return _error(404, f"no such {name.removesuffix('_id')}: {name} must be a UUID")
        try:
            body = await read_json(request)
        except BadBody as exc:
            return _error(400, str(exc))
        if not isinstance(body, dict):
            return _error(400, "body must be a JSON object")
        try:
            result = await handler(request, request.app[OPERATIONS], actor, body)
        except NotFound as exc:
            return _error(404, str(exc))
        except ActionRefused as exc:
            return _error(409, str(exc))
        except (KeyError, TypeError) as exc:
            return _error(400, f"missing or wrong field: {exc}")
        return web.json_response(result if result is not None else {"status": "ok"}, dumps=_dumps)

    return wrapped


def _dumps(value: Any) -> str:
    return json.dumps(value, default=lambda o: getattr(o, "__dict__", str(o)))


def _reason(body: dict[str, Any]) -> str:
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise TypeError("reason must be a string")
    return reason


@action
async def verification(request: web.Request, ops: Operations, actor: str, body: dict[str, Any]) -> Any:
    decision = body["decision"]
    if decision not in ("approve", "deny"):
        raise ActionRefused("decision must be approve or deny")
    return await ops.verify(request.match_info["request_id"], decision == "approve", actor, _reason(body))


@action
async def objection(request: web.Request, ops: Operations, actor: str, body: dict[str, Any]) -> Any:
    decision = body["decision"]
    if decision not in ("accept", "refuse"):
        raise ActionRefused("decision must be accept or refuse")
    return await ops.decide_objection(
        request.match_info["request_id"], decision == "accept", actor, _reason(body)
    )


@action
async def extension(request: web.Request, ops: Operations, actor: str, body: dict[str, Any]) -> Any:
    return await ops.extend(request.match_info["request_id"], actor, _reason(body))


@action
async def cancellation(request: web.Request, ops: Operations, actor: str, body: dict[str, Any]) -> Any:
    return await ops.cancel(request.match_info["request_id"], actor, _reason(body))


@action
async def system_confirmation(request: web.Request, ops: Operations, actor: str, body: dict[str, Any]) -> Any:
    await ops.confirm_system(
        request.match_info["request_id"],
        request.match_info["system"],
        body["outcome"],
        actor,
        _reason(body),
        dict(body.get("evidence") or {}),
    )
    return None


@action
async def place_hold(request: web.Request, ops: Operations, actor: str, body: dict[str, Any]) -> Any:
    subject = body["subject"]
    if not isinstance(subject, dict):
        raise TypeError("subject must be an object of identities")
    return {"hold_id": await ops.place_hold(body["tenant"], subject, actor, _reason(body))}


@action
async def release_hold(request: web.Request, ops: Operations, actor: str, body: dict[str, Any]) -> Any:
    return {"requests_told": await ops.release_hold(request.match_info["hold_id"], actor, _reason(body))}


DIRECTIVES = web.AppKey("directives", Directives)


async def record_directive(request: web.Request) -> web.Response:
    return await _directive_action(request, "record")


async def notify_death(request: web.Request) -> web.Response:
    return await _directive_action(request, "death")


async def _directive_action(request: web.Request, what: str) -> web.Response:
    @action
    async def run(request: web.Request, ops: Operations, actor: str, body: dict[str, Any]) -> Any:
        directives = request.app[DIRECTIVES]
        subject = body["subject"]
        if not isinstance(subject, dict):
            raise TypeError("subject must be an object of identities")
        if what == "record":
            directive_id = await directives.record(
                body["tenant"], subject, body["request_type"], str(body.get("beneficiary", "")), actor
            )
            return {"directive_id": directive_id}
        return {"request_ids": await directives.notify_death(body["tenant"], subject, actor, _reason(body))}

    return await run(request)


def add_action_routes(app: web.Application) -> None:
    """Operators act on requests; legal holds and directives are the DPO's."""
    app.router.add_post("/v1/requests/{request_id}/verification", require("operator", verification))
    app.router.add_post("/v1/requests/{request_id}/objection-decision", require("operator", objection))
    app.router.add_post("/v1/requests/{request_id}/extension", require("operator", extension))
    app.router.add_post("/v1/requests/{request_id}/cancellation", require("operator", cancellation))
    app.router.add_post(
        "/v1/requests/{request_id}/systems/{system}/confirmation", require("operator", system_confirmation)
    )
    app.router.add_post("/v1/holds", require("dpo", place_hold))
    app.router.add_post("/v1/holds/{hold_id}/release", require("dpo", release_hold))
    if DIRECTIVES in app:
        app.router.add_post("/v1/directives", require("dpo", record_directive))
        app.router.add_post("/v1/deaths", require("dpo", notify_death))
