"""A support desk shaped after Zendesk's Support API: user search, two-step permanent deletion.

``GET /api/v2/users/search?query=…`` (an e-mail, ``email:…`` or ``phone:…``; ``page``,
``per_page``, ``next_page`` URL; eventually consistent), ``GET|PUT|DELETE
/api/v2/users/{id}`` (DELETE only soft-deletes: the user moves to deleted users),
``DELETE /api/v2/deleted_users/{id}`` answers a job (``job_status``) that purges the user a
moment later, polled at ``GET /api/v2/job_statuses/{id}`` (queued → working → completed).
``GET /api/v2/users/{id}/tickets/requested`` pages with a ``Link: <…>; rel="next"`` header.
Purged users' tickets stay for statistics, no longer linked to anyone.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from aiohttp import web

from infra.sandbox.saas.store import SaasInstance, not_found

JOB_STEPS = (("queued", 0.4), ("working", 1.2))  # status while the job is younger than (s)
_QUERY = re.compile(r"^\s*(?:(email|phone):)?\s*(\S+)\s*$")


def _advance(saas: SaasInstance, state: dict[str, Any]) -> bool:
    """Finish the purge jobs old enough; True when something changed."""
    changed = False
    for job in state["jobs"].values():
        if job["status"] == "completed" or time.time() - job["at"] < JOB_STEPS[-1][1]:
            continue
        user = str(job["user"])
        state["deleted_users"].pop(user, None)
        for ticket in state["tickets"].values():
            if str(ticket.get("requester_id")) == user:
                ticket["requester_id"] = None
        job["status"] = "completed"
        changed = True
    return changed


def _job_view(job: dict[str, Any], request: web.Request) -> dict[str, Any]:
    status = job["status"]
    if status != "completed":
        age = time.time() - job["at"]
        status = next((name for name, until in JOB_STEPS if age < until), "working")
    url = f"{request.url.origin()}/api/v2/job_statuses/{job['id']}.json"
    return {
        "job_status": {"id": job["id"], "status": status, "url": url, "job_type": "Users::PermanentDelete"}
    }


def routes(saas: SaasInstance) -> list[web.RouteDef]:
    def load() -> dict[str, Any]:
        state = saas.load()
        if _advance(saas, state):
            saas.save(state)
        return state

    async def search(request: web.Request) -> web.Response:
        found = _QUERY.match(request.query.get("query", ""))
        if not found:
            return web.json_response({"error": "InvalidQuery"}, status=400)
        field, value = found.group(1) or "email", found.group(2).lower()
        users = sorted(
            (u for u in saas.visible(load(), "users") if str(u.get(field) or "").lower() == value),
            key=lambda u: u["id"],
        )
        page, per_page = int(request.query.get("page", "1")), int(request.query.get("per_page", "100"))
        start = (page - 1) * per_page
        more = start + per_page < len(users)
        next_page = str(request.url.update_query(page=str(page + 1))) if more else None
        return web.json_response(
            {"users": users[start : start + per_page], "next_page": next_page, "count": len(users)}
        )

    async def deleted_users(request: web.Request) -> web.Response:
        """Soft-deleted users waiting for their purge (a list, not searchable: filter it)."""
        users = sorted(load()["deleted_users"].values(), key=lambda u: u["id"])
        page, per_page = int(request.query.get("page", "1")), int(request.query.get("per_page", "100"))
        start = (page - 1) * per_page
        more = start + per_page < len(users)
        next_page = str(request.url.update_query(page=str(page + 1))) if more else None
        return web.json_response(
            {"deleted_users": users[start : start + per_page], "next_page": next_page, "count": len(users)}
        )

    async def show(request: web.Request) -> web.Response:
        user = load()["users"].get(request.match_info["id"])
        return web.json_response({"user": user}) if user else not_found("RecordNotFound")

    async def update(request: web.Request) -> web.Response:
        changes = (await request.json()).get("user", {})  # read before the state
        state = load()
        user = state["users"].get(request.match_info["id"])
        if user is None:
            return not_found("RecordNotFound")
        user.update({k: v for k, v in changes.items() if k in ("name", "email", "phone", "notes")})
        saas.save(state)
        return web.json_response({"user": user})

    async def soft_delete(request: web.Request) -> web.Response:
        state = load()
        if request.match_info["id"] not in state["users"]:
            return not_found("RecordNotFound")
        user = saas.delete(state, "users", request.match_info["id"])
        state["deleted_users"][str(user["id"])] = {**user, "active": False}
        saas.save(state)
        return web.json_response({"user": {**user, "active": False}})

    async def permanent_delete(request: web.Request) -> web.Response:
        state = load()
        user = request.match_info["id"]
        if user not in state["deleted_users"] or any(
            j["user"] == user and j["status"] != "completed" for j in state["jobs"].values()
        ):
            return not_found("RecordNotFound")
        job = {"id": uuid.uuid4().hex[:16], "user": user, "status": "queued", "at": time.time()}
        state["jobs"][job["id"]] = job
        saas.save(state)
        return web.json_response(_job_view(job, request))

    async def job_status(request: web.Request) -> web.Response:
        job = load()["jobs"].get(request.match_info["id"].removesuffix(".json"))
        return web.json_response(_job_view(job, request)) if job else not_found("RecordNotFound")

    async def tickets(request: web.Request) -> web.Response:
        state = load()
        user = request.match_info["id"]
        if user not in state["users"]:
            return not_found("RecordNotFound")
        kept = sorted(
            (t for t in state["tickets"].values() if str(t.get("requester_id")) == user),
            key=lambda t: t["id"],
        )
        page, per_page = int(request.query.get("page", "1")), int(request.query.get("per_page", "100"))
        start = (page - 1) * per_page
        headers = {}
        if start + per_page < len(kept):
            headers["Link"] = f'<{request.url.update_query(page=str(page + 1))}>; rel="next"'
        return web.json_response(
            {"tickets": kept[start : start + per_page], "count": len(kept)}, headers=headers
        )

    return [
        web.get("/api/v2/users/search", search),
        web.get("/api/v2/users/{id}", show),
        web.put("/api/v2/users/{id}", update),
        web.delete("/api/v2/users/{id}", soft_delete),
        web.get("/api/v2/users/{id}/tickets/requested", tickets),
        web.get("/api/v2/deleted_users", deleted_users),
        web.delete("/api/v2/deleted_users/{id}", permanent_delete),
        web.get("/api/v2/job_statuses/{id}", job_status),
    ]
