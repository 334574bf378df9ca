"""Remote codec endpoint for the Temporal UI: decrypt (and encrypt) payloads for a DPO.

Temporal's remote codec protocol: ``POST {endpoint}/decode`` and ``/encode`` with
``{"payloads": [{"metadata": {k: base64}, "data": base64}]}``. Point the UI at
``http://<api>/codec/<dpo-token>`` (the UI appends /decode); a bearer token works too.
"""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from orchestrator.api.auth import require

CODEC = web.AppKey("codec", PayloadCodec)
UI_ORIGINS = web.AppKey("ui_origins", list)


def _to_payloads(body: Any) -> list[Payload]:
    if not isinstance(body, dict) or not isinstance(body.get("payloads"), list):
        raise ValueError('body must be {"payloads": [...]}')
    if not all(isinstance(p, dict) and isinstance(p.get("metadata") or {}, dict) for p in body["payloads"]):
        raise ValueError('each payload must be {"metadata": {...}, "data": base64}')
    return [
        Payload(
            metadata={k: base64.b64decode(v) for k, v in (p.get("metadata") or {}).items()},
            data=base64.b64decode(p.get("data") or ""),
        )
        for p in body["payloads"]
    ]


def _from_payloads(payloads: list[Payload]) -> dict[str, Any]:
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in payloads
        ]
    }


def _cors(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    origin = request.headers.get("Origin")
    if origin and origin in request.app[UI_ORIGINS]:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, X-Namespace"
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Credentials"] = "true"
    return response


async def _run(request: web.Request, decode: bool) -> web.StreamResponse:
    try:
        payloads = _to_payloads(await request.json())
    except (ValueError, TypeError) as exc:
        return _cors(request, web.json_response({"error": str(exc)}, status=400))
    codec = request.app[CODEC]
    try:
        result = await (codec.decode(payloads) if decode else codec.encode(payloads))
    except Exception as exc:  # noqa: BLE001 - a payload we cannot decrypt is the caller's error
        return _cors(
            request, web.json_response({"error": f"cannot {'de' if decode else 'en'}code: {exc}"}, status=400)
        )
    return _cors(request, web.json_response(_from_payloads(result)))


async def decode(request: web.Request) -> web.StreamResponse:
    return await _run(request, decode=True)


async def encode(request: web.Request) -> web.StreamResponse:
    return await _run(request, decode=False)


async def preflight(request: web.Request) -> web.StreamResponse:
    return _cors(request, web.Response(status=204))


def add_codec_routes(app: web.Application, codec: PayloadCodec, ui_origins: list[str]) -> None:
    app[CODEC] = codec
    app[UI_ORIGINS] = ui_origins
    for prefix in ("/codec", "/codec/{token}"):
        app.router.add_post(f"{prefix}/decode", require("dpo", decode))
        app.router.add_post(f"{prefix}/encode", require("dpo", encode))
        app.router.add_route("OPTIONS", f"{prefix}/decode", preflight)
        app.router.add_route("OPTIONS", f"{prefix}/encode", preflight)
