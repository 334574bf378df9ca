"""One vocabulary (issue 14, item 3): a consent change or an objection naming a purpose the
tenant does not know lands in the DLQ with the reason and the tenant's known purposes, and no
workflow is started (it used to start one that ended ``rejected``, "no rule")."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from schemas import CONSENT_TOPIC, DLQ_TOPIC
from tests.integration.conftest import RunningStack, rights_request


async def _refused(stack: RunningStack, marker: str) -> dict[str, Any]:
    [record] = await stack.read_topic(DLQ_TOPIC, lambda r: marker in str(r.get("raw", "")), timeout=90)
    return record


async def test_a_withdrawal_naming_an_unknown_purpose_lands_in_the_dlq_with_the_known_ones(
    stack: RunningStack,
):
    change = {"event_id": str(uuid.uuid4()), "tenant": "upjunoo", "subject": {"email": "vocab@example.org"},
              "purposes": ["marketing_email"], "action": "withdraw",
              "occurred_at": datetime.now(UTC).isoformat()}  # fmt: skip
    await stack.publish(change, topic=CONSENT_TOPIC)
    record = await _refused(stack, change["event_id"])
    assert (record["source_topic"], record["reason"]) == (CONSENT_TOPIC, "unknown_purpose")
    assert "['marketing_email'] not known to tenant 'upjunoo'" in record["error"]
    known, older = record["error"].split("or the older words")
    assert "'marketing.communications'" in known and "'essential.service.sos_alerts'" in known, "its uses"
    assert "'direct_marketing'" in older and "'newsletter'" in older, "and the words it still accepts"
    started = await stack.fetch(
        stack.settings.pg_database, "SELECT 1 FROM consent_events WHERE event_id = $1", change["event_id"]
    )
    assert started == [], "no consent batch was started"


async def test_an_objection_naming_an_unknown_purpose_lands_in_the_dlq_and_starts_nothing(
    stack: RunningStack,
):
    request = rights_request(
        "objection", tenant="jump", jurisdiction="BE", details={"purposes": ["marketing_email"]}
    )
    await stack.publish(request)
    record = await _refused(stack, request["request_id"])
    assert record["reason"] == "unknown_purpose"
    assert record["error"].startswith("details/purposes: ['marketing_email'] not known to tenant 'jump'")
    assert await stack.ledger.request(request["request_id"]) is None, "no workflow, no ledger entry"


async def test_an_objection_to_advertising_reaches_upjunoos_advertising_systems_without_a_decision(
    stack: RunningStack,
):
    """UPJUNOO's marketing list holds the advertising identifiers it shares; its CRM hears every
    objection. Advertising is under UPJUNOO's absolute ``marketing``: no operator decides."""
    await stack.reseed()
    request = rights_request(
        "objection", tenant="upjunoo", jurisdiction="CI", details={"purposes": ["marketing.advertising"]}
    )
    await stack.publish(request)
    view = await stack.closed(request["request_id"])
    assert view["status"] == "completed"
    assert {s["system"]: s["outcome"] for s in view["systems"]} == {
        "crm": "processing_stopped",
        "marketing_list": "processing_stopped",
    }
