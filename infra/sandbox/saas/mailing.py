"""A mailing tool shaped after Mailchimp's Marketing API 3.0: members keyed by the MD5 of the
lower-cased e-mail, archive versus permanent delete.

``GET|PATCH|DELETE /3.0/lists/{list}/members/{hash}``: DELETE only archives (the member stays,
``status: archived``); ``POST …/members/{hash}/actions/delete-permanent`` removes the member
for good (204). ``GET …/members/{hash}/notes?offset=&count=`` pages the notes kept on a member
(``total_items``). A permanently deleted member still answers GET for ``lag_seconds``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp import web

from infra.sandbox.saas.store import SaasInstance

EDITABLE = ("status", "email_address", "merge_fields", "language")


def seeded(document: dict[str, Any]) -> dict[str, Any]:
    """The demo members as the tool keys them: ``<list>/<md5 of the lower-cased e-mail>``."""
    members, notes = {}, {}
    for given in document["members"]:
        digest = hashlib.md5(given["email_address"].lower().encode(), usedforsecurity=False).hexdigest()
        key = f"{given['list_id']}/{digest}"
        members[key] = {"key": key, "id": digest, "status": "subscribed", **given}
        for number, text in enumerate(given.get("notes_kept", []), start=1):
            notes[f"{key}/{number}"] = {"id": f"{digest[:8]}-{number}", "member": key, "note": text}
        members[key].pop("notes_kept", None)
    return {"members": members, "notes": notes}


def _missing() -> web.Response:
    return web.json_response(
        {
            "title": "Resource Not Found",
            "status": 404,
            "detail": "The requested resource could not be found.",
        },
        status=404,
    )


def routes(saas: SaasInstance) -> list[web.RouteDef]:
    def _member(state: dict[str, Any], request: web.Request, lagging: bool = False) -> dict[str, Any] | None:
        key = f"{request.match_info['list']}/{request.match_info['hash'].lower()}"
        if lagging:
            return next((m for m in saas.visible(state, "members") if m["key"] == key), None)
        member: dict[str, Any] | None = state["members"].get(key)
        return member

    async def show(request: web.Request) -> web.Response:
        member = _member(saas.load(), request, lagging=True)
        return web.json_response(member) if member else _missing()

    async def update(request: web.Request) -> web.Response:
        changes = await request.json()  # read before the state: no await between load and save
        state = saas.load()
        member = _member(state, request)
        if member is None:
            return _missing()
        for key in EDITABLE:
            if key in changes:
                member[key] = (
                    {**member.get(key, {}), **changes[key]} if key == "merge_fields" else changes[key]
                )
        saas.save(state)
        return web.json_response(member)

    async def archive(request: web.Request) -> web.Response:
        state = saas.load()
        member = _member(state, request)
        if member is None or member["status"] == "archived":
            return _missing()
        member["status"] = "archived"
        saas.save(state)
        return web.Response(status=204)

    async def delete_permanent(request: web.Request) -> web.Response:
        state = saas.load()
        member = _member(state, request)
        if member is None:
            return _missing()
        saas.delete(state, "members", member["key"])
        state["notes"] = {k: n for k, n in state["notes"].items() if n["member"] != member["key"]}
        saas.save(state)
        return web.Response(status=204)

    async def notes(request: web.Request) -> web.Response:
        state = saas.load()
        member = _member(state, request)
        if member is None:
            return _missing()
        kept = sorted(
            (n for n in state["notes"].values() if n["member"] == member["key"]), key=lambda n: n["id"]
        )
        offset, count = int(request.query.get("offset", "0")), int(request.query.get("count", "10"))
        return web.json_response({"notes": kept[offset : offset + count], "total_items": len(kept)})

    base = "/3.0/lists/{list}/members/{hash}"
    return [
        web.get(base, show),
        web.patch(base, update),
        web.delete(base, archive),
        web.post(base + "/actions/delete-permanent", delete_permanent),
        web.get(base + "/notes", notes),
    ]
