"""Global Privacy Control: the test plays the browser's site, forwarding ``Sec-GPC: 1``.

UPJUNOO's pack maps GPC to advertising (its ad identifiers shared with ad partners) and opts in
to honouring it everywhere: every system using advertising confirms, the subject is suppressed
for it (and only for it), the asynchronous tools get the 15-business-day legal date. TestCo's
pack maps nothing: its GPC signal goes to the DLQ with the reason, never silently dropped.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from orchestrator.policy.deadlines import add_business_days
from schemas import CONSENT_TOPIC, DLQ_TOPIC, SYSTEM_TASKS_TOPIC
from tests.integration.conftest import RunningStack
from tests.integration.test_consent import SYSTEMS, _import, _wait_evidence


def _gpc(email: str, tenant: str = "upjunoo") -> dict[str, Any]:
    """What a site sends when a browser's request carries ``Sec-GPC: 1``."""
    return {
        "event_id": f"gpc-{uuid.uuid4()}",
        "tenant": tenant,
        "subject": {"email": email},
        "purposes": ["sale_and_sharing"],  # what the site believes; the tenant's pack decides
        "action": "withdraw",
        "signal": "gpc",
        "occurred_at": datetime.now(UTC).isoformat(),
    }


async def test_a_gpc_signal_opts_out_of_the_mapped_purposes_everywhere_and_suppresses_them(
    stack: RunningStack,
) -> None:
    run = uuid.uuid4().hex[:8]
    email = f"gpc-{run}@example.org"
    assert await _import(stack, [{"contact_id": f"G-{run}", "email": email}]) == 1
    signal = _gpc(email)
    await stack.publish(signal, topic=CONSENT_TOPIC)

    rows = await _wait_evidence(stack, [signal["event_id"]], want=len(SYSTEMS))
    outcomes = {r["system"]: r["outcome"] for r in rows}
    assert outcomes == {
        "crm": "not_found",  # not a customer: nothing of theirs to stop there
        "marketing_list": "consent_withdrawn",
        "notify-ad-partners": "notified",
    }
    status, answer = await stack.api(
        "POST", "/v1/suppressions/check", {"tenant": "upjunoo", "subject": {"email": email}}, role="viewer"
    )
    assert status == 200 and answer["suppressed"] is True
    suppressed = {s["purpose"] for s in answer["suppressions"]}
    assert suppressed == {"marketing.advertising"}, "the pack's GPC purposes only"
    assert await _import(stack, [{"contact_id": f"G2-{run}", "email": email}]) == 0, "not re-added"

    tasks = await stack.read_topic(
        SYSTEM_TASKS_TOPIC,
        lambda t: (
            t.get("tenant") == "upjunoo"
            and (t.get("details") or {}).get("purposes") == ["marketing.advertising"]
            and bool((t.get("details") or {}).get("due_at"))
        ),
    )
    due = datetime.fromisoformat(tasks[0]["details"]["due_at"])
    occurred = datetime.fromisoformat(signal["occurred_at"])
    assert due <= add_business_days(occurred, 15) and due > add_business_days(occurred, 14)


async def test_a_gpc_signal_a_tenant_does_not_honour_goes_to_the_dlq_with_its_reason(
    stack: RunningStack,
) -> None:
    signal = _gpc(f"gpc-{uuid.uuid4().hex[:8]}@example.org", tenant="testco")
    grant = {**_gpc("someone@example.org"), "action": "grant"}
    await stack.publish(signal, grant, topic=CONSENT_TOPIC)
    rejected = await stack.read_topic(
        DLQ_TOPIC,
        lambda r: (
            r.get("source_topic") == CONSENT_TOPIC
            and any(e in r["raw"] for e in (signal["event_id"], grant["event_id"]))
        ),
        want=2,
    )
    assert {r["reason"] for r in rejected} == {"gpc_not_honoured", "gpc_not_a_withdrawal"}
