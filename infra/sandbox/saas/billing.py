"""A billing tool shaped after Stripe's public API: customers searchable by e-mail, invoices kept.

``GET /v1/customers/search?query=email:'…'`` (or ``phone:'…'``; ``limit``, ``page`` cursor,
eventually consistent), ``GET|POST|DELETE /v1/customers/{id}`` (POST takes a form, like
Stripe, with ``metadata[key]``), ``GET /v1/invoices?customer=…`` (paged). Deleting a customer
keeps its invoices, still pointing at the customer id, as Stripe does.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from infra.sandbox.saas.store import SaasInstance, not_found

_QUERY = re.compile(r"^\s*(email|phone)\s*:\s*'([^']*)'\s*$")


def _page(items: list[dict[str, Any]], request: web.Request, url: str) -> dict[str, Any]:
    limit = min(int(request.query.get("limit", "10")), 100)
    start = int(request.query.get("page", "page_0").removeprefix("page_") or 0)
    more = start + limit < len(items)
    return {
        "object": "search_result" if "search" in url else "list",
        "url": url,
        "data": items[start : start + limit],
        "has_more": more,
        "next_page": f"page_{start + limit}" if more else None,
    }


def routes(saas: SaasInstance) -> list[web.RouteDef]:
    async def search(request: web.Request) -> web.Response:
        found = _QUERY.match(request.query.get("query", ""))
        if not found:
            return web.json_response(
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": "query must be email:'…' or phone:'…'",
                    }
                },
                status=400,
            )
        field, value = found.groups()
        state = saas.load()
        matches = [
            c for c in saas.visible(state, "customers") if (c.get(field) or "").lower() == value.lower()
        ]
        return web.json_response(
            _page(sorted(matches, key=lambda c: c["id"]), request, "/v1/customers/search")
        )

    async def show(request: web.Request) -> web.Response:
        customer = saas.load()["customers"].get(request.match_info["id"])
        return web.json_response(customer) if customer else not_found("No such customer")

    async def update(request: web.Request) -> web.Response:
        form = await request.post()  # read before the state: no await between load and save
        state = saas.load()
        customer = state["customers"].get(request.match_info["id"])
        if customer is None:
            return not_found("No such customer")
        for key, value in form.items():
            metadata = re.fullmatch(r"metadata\[(\w+)\]", key)
            if metadata:
                customer.setdefault("metadata", {})[metadata.group(1)] = str(value)
            elif key in ("email", "name", "phone"):
                customer[key] = str(value)
        saas.save(state)
        return web.json_response(customer)

    async def delete(request: web.Request) -> web.Response:
        state = saas.load()
        if request.match_info["id"] not in state["customers"]:
            return not_found("No such customer")
        gone = saas.delete(state, "customers", request.match_info["id"])
        saas.save(state)
        return web.json_response({"id": gone["id"], "object": "customer", "deleted": True})

    async def invoices(request: web.Request) -> web.Response:
        customer = request.query.get("customer")
        kept = [i for i in saas.load()["invoices"].values() if customer is None or i["customer"] == customer]
        return web.json_response(_page(sorted(kept, key=lambda i: i["id"]), request, "/v1/invoices"))

    return [
        web.get("/v1/customers/search", search),
        web.get("/v1/customers/{id}", show),
        web.post("/v1/customers/{id}", update),
        web.delete("/v1/customers/{id}", delete),
        web.get("/v1/invoices", invoices),
    ]
