"""The person's verification page, without servers: what it asks, what a match and a miss do."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from orchestrator.api.drp_verification import ACTOR, MAX_ATTEMPTS, Answer, VerificationPage

REQUEST = str(uuid.uuid4())


class _Sealer:
    def unseal(self, key_id: str, blob: bytes, context: str) -> bytes:
        assert context == REQUEST  # bound to the request: another request's blob does not open
        return blob


class _Drp:
    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.verified: list[bool] = []

    async def request(self, request_id: str) -> dict[str, Any] | None:
        return self.row if request_id == REQUEST else None

    async def user_verification_failed(self, request_id: str) -> int:
        self.row["user_verification_attempts"] += 1
        return int(self.row["user_verification_attempts"])

    async def user_verified(self, request_id: str, verified: bool = True) -> None:
        self.verified.append(verified)


class _Identities:
    def __init__(self, found: dict[str, Any] | None) -> None:
        self.found = found

    async def sealed(self, request_id: str) -> tuple[str, bytes] | None:
        if self.found is None:
            return None
        return "k1", json.dumps({"given": {"email": "may@example.org"}, "found": self.found}).encode()


class _Operations:
    def __init__(self) -> None:
        self.decisions: list[tuple[bool, str, str]] = []

    async def verify(self, request_id: str, approve: bool, actor: str, reason: str) -> None:
        self.decisions.append((approve, actor, reason))


def _page(found: dict[str, Any] | None = None, **row: Any) -> tuple[VerificationPage, _Drp, _Operations]:
    waiting = {
        "request_id": REQUEST, "ledger_status": "awaiting_verification", "user_verified_at": None,
        "user_verification_until": datetime.now(UTC) + timedelta(days=1), "user_verification_attempts": 0,
        **row,
    }  # fmt: skip
    drp, operations = _Drp(waiting), _Operations()
    held = {"customer_id": [{"value": "D-MAY-001", "sources": ["accounts"]}]} if found is None else found
    ledger: Any = SimpleNamespace(drp=drp, identities=_Identities(held))
    return VerificationPage(ledger, operations, _Sealer()), drp, operations  # type: ignore[arg-type]


async def test_the_form_asks_only_for_details_the_business_found_never_those_the_agent_sent() -> None:
    page, _, _ = _page()
    _, held = await page.waiting(REQUEST, REQUEST)
    assert list(held) == ["customer_id"]
    nothing, _, _ = _page(found={})
    assert (await nothing.waiting(REQUEST, REQUEST))[1] == {}


@pytest.mark.parametrize(
    ("named", "row", "status"),
    [
        ("another", {}, 400),  # the agent's request_id must be the page's own request (spec 3.02.1)
        (REQUEST, {"ledger_status": "in_progress"}, 409),
        (REQUEST, {"user_verified_at": datetime.now(UTC)}, 409),
        (REQUEST, {"user_verification_until": datetime.now(UTC) - timedelta(seconds=1)}, 410),
        (REQUEST, {"user_verification_attempts": MAX_ATTEMPTS}, 403),
    ],
)
async def test_the_page_refuses_what_is_not_waiting_for_this_person(
    named: str, row: dict[str, Any], status: int
) -> None:
    page, _, _ = _page(**row)
    with pytest.raises(Answer) as refused:
        await page.waiting(REQUEST, named)
    assert refused.value.status == status


async def test_a_match_approves_through_the_operators_path_as_the_person() -> None:
    page, drp, operations = _page()
    back = await page.answer(
        REQUEST,
        {"request_id": REQUEST, "kind": "customer_id", "value": " D-MAY-001 ", "redirect_to": "https://a/x"},
    )
    assert back == "https://a/x"
    assert drp.verified == [True]
    assert operations.decisions == [(True, ACTOR, "the person gave the customer number the business holds")]


async def test_wrong_answers_are_counted_and_the_last_one_denies() -> None:
    page, drp, operations = _page()
    for left in range(MAX_ATTEMPTS - 1, -1, -1):
        with pytest.raises(Answer) as wrong:
            await page.answer(REQUEST, {"request_id": REQUEST, "kind": "customer_id", "value": "D-MAY-002"})
        assert wrong.value.status == 403 and (f"{left} tries left" in wrong.value.text or left == 0)
    assert "closed" in wrong.value.text and drp.verified == []
    [(approved, actor, reason)] = operations.decisions
    assert not approved and actor == ACTOR and "did not match" in reason
    with pytest.raises(Answer) as after:
        await page.answer(REQUEST, {"request_id": REQUEST, "kind": "customer_id", "value": "D-MAY-001"})
    assert after.value.status == 403 and len(operations.decisions) == 1, "no more guesses once denied"
