"""A sandbox partner remembers its requests across restarts, from a journal of changes."""

from __future__ import annotations

from pathlib import Path

from infra.sandbox.partners import SandboxPartner


def _partner(folder: Path) -> SandboxPartner:
    partner = SandboxPartner("p", "opendsr.p.example", "silent", folder)
    partner.load()
    return partner


def test_a_restarted_partner_finds_each_request_as_last_changed(tmp_path: Path) -> None:
    first = _partner(tmp_path)
    for request_id in ("r-1", "r-2"):
        first.requests[request_id] = {"status": "pending", "callbacks": ["http://cb"]}
        first._save(request_id)
    first.requests["r-1"]["status"] = "completed"
    first._save("r-1")

    again = _partner(tmp_path)
    assert again.requests == {
        "r-1": {"status": "completed", "callbacks": ["http://cb"]},
        "r-2": {"status": "pending", "callbacks": ["http://cb"]},
    }
    # One line per change, never the whole book again.
    assert len((tmp_path / "requests.jsonl").read_text().splitlines()) == 3
