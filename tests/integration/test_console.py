"""The Temporal UI as the operator console: the saved views work on the real server, and a real
browser (Debian's headless Chromium) finds a request in the UI by a search-attribute filter."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from pathlib import Path

from orchestrator.console import SAVED_VIEWS, fill, view_url
from tests.integration.conftest import RunningStack, rights_request

DOC = Path(__file__).resolve().parents[2] / "docs" / "operator-console.md"


async def test_every_saved_view_is_a_query_the_server_accepts_and_finds_what_it_says(stack: RunningStack):
    erasure = rights_request("erasure", {"email": "chloe@example.org"}, jurisdiction="CI")
    access = rights_request("access", {"email": "chloe@example.org"}, jurisdiction="CI")
    await stack.publish(erasure, access)
    await stack.closed(erasure["request_id"])
    await stack.closed(access["request_id"])
    found: dict[str, set[str]] = {}
    for view in SAVED_VIEWS:
        query = fill(view.query, "upjunoo", "CI")
        found[view.name] = {w.id async for w in stack.client.list_workflows(query)}
    assert f"privacy-request-{access['request_id']}" in found["access-requests-for-tenant"]
    assert f"privacy-request-{erasure['request_id']}" not in found["access-requests-for-tenant"]
    assert f"privacy-request-{erasure['request_id']}" not in found["open-for-tenant"], "it is closed"
    documented = DOC.read_text()
    for view in SAVED_VIEWS:
        assert view.name in documented, f"{view.name} is missing from docs/operator-console.md"


def _dump_dom(url: str, profile: Path) -> str:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium package is needed (make test installs it: infra/install-browser.sh)"
    # Without the background-networking flags Chromium tries to reach Google's hosts, which this
    # closed network refuses; a fresh profile keeps runs independent.
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--virtual-time-budget=20000", "--dump-dom", url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


async def test_a_browser_finds_a_demo_request_in_the_temporal_ui_by_a_search_attribute_filter(
    stack: RunningStack, tmp_path: Path
):
    erasure = rights_request("erasure", {"email": "chloe@example.org"}, jurisdiction="CA")
    access = rights_request("access", {"email": "chloe@example.org"}, jurisdiction="CA")
    await stack.publish(erasure, access)
    await stack.closed(erasure["request_id"])
    await stack.closed(access["request_id"])
    query = 'PrivacyTenant = "upjunoo" AND PrivacyRequestType = "erasure" AND PrivacyJurisdiction = "CA"'
    url = view_url(stack.settings.temporal_ui_url, stack.settings.temporal_namespace, query)
    page = ""
    for attempt in range(3):  # the UI may still be warming up on a cold machine
        page = await asyncio.to_thread(_dump_dom, url, tmp_path / f"profile-{attempt}")
        if erasure["request_id"] in page:
            break
    shown = set(re.findall(r"privacy-request-[0-9a-f-]{36}", page))
    assert f"privacy-request-{erasure['request_id']}" in shown, "the filtered list shows the erasure"
    assert f"privacy-request-{access['request_id']}" not in shown, "and not the access request it filters out"
