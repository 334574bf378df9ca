"""The audit chain's seal and exported head, without a database: the pure parts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workers.ledger.audit import GENESIS, AuditHead, _against_head, entry_seal

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ENTRY = (GENESIS, AT, "dpo@test", "cancel", None, "duplicate", {"decision": "cancel"})


def test_the_seal_needs_the_key():
    sealed = entry_seal(b"k" * 32, *ENTRY)
    assert sealed == entry_seal(b"k" * 32, *ENTRY)
    assert sealed != entry_seal(b"x" * 32, *ENTRY)


def test_an_exported_head_round_trips_and_bad_files_are_named():
    head = AuditHead(3, 7, "ab" * 32)
    assert AuditHead.from_json(head.to_json()) == head
    with pytest.raises(ValueError, match="not an audit head"):
        AuditHead.from_json('{"count": 3}')


def test_the_head_detects_truncation_and_rewriting():
    head = AuditHead(3, 7, "aa")
    assert _against_head(head, {5: "x", 6: "y", 7: "aa"}, 3) == []
    assert "truncated" in _against_head(head, {5: "x", 6: "y"}, 2)[0].problem
    assert "rewritten" in _against_head(head, {5: "x", 6: "y", 7: "bb"}, 3)[0].problem
