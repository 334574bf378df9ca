"""How an HTTP system pages its lists: one strategy per style, picked by the pack's ``type``.

``cursor``: the response names the next page's token (``/next_page``) and the next request
passes it as ``param`` (Stripe search). ``offset``: ``param`` advances by ``limit`` while
``total`` says more remain (Mailchimp ``offset``/``count``). ``next_url``: the response holds
the next page's whole URL (Zendesk ``next_page``). ``link``: the ``Link: <…>; rel="next"``
header (RFC 8288). Every strategy stops at ``max_pages``, so a looping API cannot hold a worker.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from workers.connectors.http.templates import TemplateError, pointer

MAX_PAGES = 100


@dataclass
class Page:
    """One request of a listing: its URL and query parameters."""

    url: str
    query: dict[str, str] = field(default_factory=dict)


class Pagination(ABC):
    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        self.max_pages = int(spec.get("max_pages", MAX_PAGES))

    def first(self, page: Page) -> Page:
        """The first request (a strategy may add its page size)."""
        return page

    @abstractmethod
    def next(self, page: Page, body: Any, headers: Mapping[str, str], records: int) -> Page | None:
        """The request for the page after ``page``, or None when it was the last."""


class SinglePage(Pagination):
    def next(self, page: Page, body: Any, headers: Mapping[str, str], records: int) -> Page | None:
        return None


class CursorPagination(Pagination):
    def next(self, page: Page, body: Any, headers: Mapping[str, str], records: int) -> Page | None:
        more = self.spec.get("has_more")
        if more is not None and not pointer(body, more):
            return None
        cursor = pointer(body, self.spec.get("next", "/next_page"))
        if cursor in (None, ""):
            return None
        return Page(page.url, {**page.query, self.spec.get("param", "page"): str(cursor)})


class OffsetPagination(Pagination):
    def first(self, page: Page) -> Page:
        limit = self.spec.get("limit_param")
        query = {**page.query, self.spec.get("param", "offset"): "0"}
        if limit:
            query[limit] = str(self.spec.get("limit", 100))
        return Page(page.url, query)

    def next(self, page: Page, body: Any, headers: Mapping[str, str], records: int) -> Page | None:
        if records == 0:
            return None
        param = self.spec.get("param", "offset")
        offset = int(page.query.get(param, "0")) + records
        total = pointer(body, self.spec["total"]) if "total" in self.spec else None
        if total is not None and offset >= int(total):
            return None
        return Page(page.url, {**page.query, param: str(offset)})


class NextUrlPagination(Pagination):
    def next(self, page: Page, body: Any, headers: Mapping[str, str], records: int) -> Page | None:
        url = pointer(body, self.spec.get("next", "/next_page"))
        return Page(urljoin(page.url, str(url))) if url else None


_LINK = re.compile(r'<([^>]*)>\s*;[^,]*\brel="?next"?', re.IGNORECASE)


class LinkHeaderPagination(Pagination):
    def next(self, page: Page, body: Any, headers: Mapping[str, str], records: int) -> Page | None:
        found = _LINK.search(headers.get("Link", ""))
        return Page(urljoin(page.url, found.group(1))) if found else None


STRATEGIES: dict[str, type[Pagination]] = {
    "cursor": CursorPagination,
    "offset": OffsetPagination,
    "next_url": NextUrlPagination,
    "link": LinkHeaderPagination,
}


def pagination_for(spec: Mapping[str, Any] | None) -> Pagination:
    """The strategy a pack's ``pagination`` names (a single page when it names none)."""
    if not spec:
        return SinglePage({})
    try:
        return STRATEGIES[spec["type"]](spec)
    except KeyError:
        raise TemplateError(
            f"unknown pagination {spec.get('type')!r} (known: {', '.join(sorted(STRATEGIES))})"
        ) from None
