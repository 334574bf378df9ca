"""Pagination strategies: each finds the next page the way its API says, and stops."""

from __future__ import annotations

import pytest

from workers.connectors.http.pagination import Page, pagination_for
from workers.connectors.http.templates import TemplateError


def test_cursor_passes_the_token_while_there_is_more():
    pages = pagination_for({"type": "cursor", "has_more": "/has_more", "next": "/next_page", "param": "page"})
    first = Page("http://x/v1/customers/search", {"query": "email:'a'"})
    nxt = pages.next(first, {"has_more": True, "next_page": "tok2"}, {}, 10)
    assert nxt == Page(first.url, {"query": "email:'a'", "page": "tok2"})
    assert pages.next(nxt, {"has_more": False, "next_page": "tok3"}, {}, 3) is None


def test_offset_advances_by_what_came_until_the_total():
    pages = pagination_for(
        {"type": "offset", "param": "offset", "limit_param": "count", "limit": 2, "total": "/total"}
    )
    first = pages.first(Page("http://x/notes"))
    assert first.query == {"offset": "0", "count": "2"}
    second = pages.next(first, {"total": 3}, {}, 2)
    assert second is not None and second.query["offset"] == "2"
    assert pages.next(second, {"total": 3}, {}, 1) is None
    assert pages.next(first, {}, {}, 0) is None, "an empty page ends the listing even without a total"


def test_next_url_and_link_header_follow_the_given_address():
    body_pages = pagination_for({"type": "next_url", "next": "/next_page"})
    page = Page("http://x/api/v2/users/search", {"query": "q"})
    assert body_pages.next(page, {"next_page": "http://x/api/v2/users/search?page=2"}, {}, 1) == Page(
        "http://x/api/v2/users/search?page=2"
    )
    assert body_pages.next(page, {"next_page": None}, {}, 1) is None
    link_pages = pagination_for({"type": "link"})
    header = '<http://x/t?page=1>; rel="prev", </t?page=3>; rel="next"'
    assert link_pages.next(page, {}, {"Link": header}, 1) == Page("http://x/t?page=3")
    assert link_pages.next(page, {}, {}, 1) is None


def test_an_unknown_style_is_a_pack_error():
    with pytest.raises(TemplateError):
        pagination_for({"type": "sideways"})
    assert pagination_for(None).next(Page("u"), {"next_page": "x"}, {}, 1) is None
