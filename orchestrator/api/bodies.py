"""What the API accepts at the door: JSON bodies, path and query text PostgreSQL can store.

JSON allows NUL (``\\u0000``) and lone surrogates; PostgreSQL ``text``/``jsonb`` refuse them.
Such input is the caller's error (400), found here before any store sees it — never a 500,
and never retried. Found by the schemathesis run against the live API.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from aiohttp import web

from orchestrator.api.auth import Handler

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class BadBody(ValueError):
    """The body is not acceptable JSON; the message says why (HTTP 400)."""


def storable(value: Any) -> bool:
    """True when every string in ``value`` (keys too) can be stored in PostgreSQL text."""
    if isinstance(value, str):
        return not _UNSTORABLE.search(value)
    if isinstance(value, dict):
        return all(storable(k) and storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(storable(v) for v in value)
    return True


async def read_json(request: web.Request) -> Any:
    """The JSON body, or BadBody: not UTF-8, not JSON, or holding text PostgreSQL refuses."""
    try:
        value = json.loads(await request.read() or b"{}")
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        raise BadBody(f"body is not JSON: {exc}") from None
    if not storable(value):
        raise BadBody("body holds NUL characters or lone surrogates, which cannot be stored")
    return value


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@web.middleware
async def refuse_unstorable(request: web.Request, handler: Handler) -> web.StreamResponse:
    """400 for path or query text that no store could hold (before any handler runs)."""
    texts = [*request.match_info.values(), *request.query.keys(), *request.query.values()]
    if not all(storable(t) for t in texts):
        return web.json_response(
            {"error": "the path or query holds NUL characters or lone surrogates"}, status=400
        )
    return await handler(request)
