"""Consent withdrawals at stream speed: batched by the intake, propagated by batch workflows.

UPJUNOO's withdrawals of marketing/advertising consent reach its marketing tool (which
confirms a whole batch on Kafka) and its ad partners; every change gets per-system evidence,
and a suppression entry keeps a withdrawn subject from being re-added by a later import.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.sandbox.async_system import import_contacts
from schemas import CONSENT_TOPIC, DLQ_TOPIC
from tests.integration.conftest import RunningStack
from workers.messages.consent import ConsentEntry

SYSTEMS = {"crm", "marketing_list", "notify-ad-partners"}  # crm: by SQL, the others confirm on Kafka


def _withdrawal(
    email: str, purposes: list[str], action: str = "withdraw", at: datetime | None = None
) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "tenant": "upjunoo",
        "subject": {"email": email},
        "purposes": purposes,
        "action": action,
        "occurred_at": (at or datetime.now(UTC)).isoformat(),
    }


async def _evidence_rows(stack: RunningStack, event_ids: list[str]) -> list[dict[str, Any]]:
    return await stack.fetch(
        stack.settings.pg_database,
        "SELECT event_id, system, outcome FROM consent_evidence WHERE event_id = ANY($1::text[])",
        event_ids,
    )


async def _wait_evidence(
    stack: RunningStack, event_ids: list[str], want: int, timeout: float = 60
) -> list[Any]:
    deadline = time.monotonic() + timeout
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = await _evidence_rows(stack, event_ids)
        if len(rows) >= want:
            return rows
        await asyncio.sleep(0.3)
    raise AssertionError(f"only {len(rows)} of {want} evidence rows after {timeout}s")


async def _import(stack: RunningStack, contacts: list[dict[str, Any]]) -> int:
    conn = await stack.db("sandbox_upjunoo_marketing")
    try:
        return await import_contacts(conn, "contacts", contacts)
    finally:
        await conn.close()


async def test_withdrawals_reach_every_system_with_evidence_and_the_subject_is_not_re_added(
    stack: RunningStack,
):
    run = uuid.uuid4().hex[:8]
    people = [f"consent-{run}-{i}@example.org" for i in range(60)]
    added = await _import(stack, [{"contact_id": f"C-{run}-{i}", "email": e} for i, e in enumerate(people)])
    assert added == 60, "before withdrawing, the tool imports them like anyone"

    changes = [_withdrawal(e, ["marketing", "marketing.advertising"]) for e in people]
    for change in changes[10:20]:  # events in the wild still name UPJUNOO's older word for the same use
        change["purposes"] = ["marketing", "advertising"]
    changes[7]["purposes"] = ["analytics_we_do_not_have"]  # a purpose no system processes
    await stack.publish(*changes, topic=CONSENT_TOPIC)
    await stack.publish(changes[0], changes[1], topic=CONSENT_TOPIC)  # redelivered: nothing twice
    ids = [c["event_id"] for c in changes]
    acting = [i for n, i in enumerate(ids) if n != 7]
    rows = await _wait_evidence(stack, ids, want=len(acting) * len(SYSTEMS))
    by_event: dict[str, dict[str, str]] = {}
    for row in rows:
        by_event.setdefault(row["event_id"], {})[row["system"]] = row["outcome"]
    assert set(by_event) == set(acting), "every withdrawal of a purpose someone processes, and only those"
    for outcomes in by_event.values():
        # These people are on the marketing list only: the CRM has nothing of theirs to stop.
        assert outcomes == {
            "crm": "not_found",
            "marketing_list": "consent_withdrawn",
            "notify-ad-partners": "notified",
        }

    remaining = await stack.fetch(
        "sandbox_upjunoo_marketing",
        "SELECT count(*) AS n FROM contacts WHERE email = ANY($1::text[])",
        people,
    )
    assert remaining == [{"n": 1}], "the tool removed everyone who withdrew (not the unrelated purpose)"
    again = [{"contact_id": f"again-{run}-{i}", "email": e} for i, e in enumerate(people)]
    assert await _import(stack, again) == 1, (
        "a later import re-adds only the one who withdrew nothing it uses"
    )
    status, answer = await stack.api(
        "POST",
        "/v1/suppressions/check",
        {"tenant": "upjunoo", "subject": {"email": people[3].upper()}},
        role="viewer",
    )
    assert status == 200 and answer["suppressed"] is True
    assert {s["purpose"] for s in answer["suppressions"]} == {"marketing", "marketing.advertising"}
    for person, asked in ((people[12], []), (people[3], ["advertising"])):
        _, answer = await stack.api(
            "POST",
            "/v1/suppressions/check",
            {"tenant": "upjunoo", "subject": {"email": person}, **({"purposes": asked} if asked else {})},
        )
        assert "marketing.advertising" in {s["purpose"] for s in answer["suppressions"]}, (
            "an older word is recorded, and looked up, as the data use it stands for"
        )
    # A suppression recorded before the packs spoke fideslang kept the older word: still found.
    renamed = await stack.fetch(
        stack.settings.pg_database,
        "UPDATE suppressions SET purpose = 'advertising'"
        " WHERE event_id = $1 AND purpose = 'marketing.advertising' RETURNING 1",
        ids[12],
    )
    assert len(renamed) == 1
    _, answer = await stack.api(
        "POST",
        "/v1/suppressions/check",
        {"tenant": "upjunoo", "subject": {"email": people[12]}, "purposes": ["advertising"]},
    )
    assert {s["purpose"] for s in answer["suppressions"]} == {"advertising", "marketing"}
    status, answer = await stack.api("GET", f"/v1/consent/{ids[3]}", role="viewer")
    assert status == 200 and {s["system"] for s in answer["systems"]} == SYSTEMS

    # A later grant lifts our suppression of that purpose; a grant older than the withdrawal does not.
    later = datetime.now(UTC) + timedelta(seconds=1)
    earlier = datetime.now(UTC) - timedelta(days=1)
    await stack.publish(
        _withdrawal(people[3], ["marketing.advertising"], "grant", later),
        _withdrawal(people[4], ["marketing"], "grant", earlier),
        topic=CONSENT_TOPIC,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _, answer = await stack.api(
            "POST", "/v1/suppressions/check", {"tenant": "upjunoo", "subject": {"email": people[3]}}
        )
        if {s["purpose"] for s in answer["suppressions"]} == {"marketing"}:
            break
        await asyncio.sleep(0.3)
    assert {s["purpose"] for s in answer["suppressions"]} == {"marketing"}
    _, answer = await stack.api(
        "POST",
        "/v1/suppressions/check",
        {"tenant": "upjunoo", "subject": {"email": people[4]}, "purposes": ["marketing"]},
    )
    assert answer["suppressed"] is True, "an old grant does not undo a newer withdrawal"
    _, answer = await stack.api(
        "POST",
        "/v1/suppressions/check",
        {"tenant": "upjunoo", "subject": {"email": people[5]}, "purposes": ["marketing.communications.sms"]},
    )
    assert [s["purpose"] for s in answer["suppressions"]] == ["marketing"], "withdrawn marketing covers SMS"

    workflows = [
        w async for w in stack.client.list_workflows(
            "PrivacyTenant = 'upjunoo' AND PrivacyRequestType = 'consent_batch'"
        )
    ]  # fmt: skip
    assert 0 < len(workflows) < len(changes), "changes travel in batches, not one workflow each"


async def test_bad_consent_events_go_to_the_dlq_and_good_ones_in_the_same_window_still_pass(
    stack: RunningStack,
):
    good = _withdrawal(f"dlq-{uuid.uuid4().hex[:8]}@example.org", ["marketing"])
    unknown = {**_withdrawal("x@example.org", ["marketing"]), "tenant": "nobody"}
    invalid = {**_withdrawal("y@example.org", ["marketing"]), "action": "maybe"}
    await stack.publish(b'{"event_id": "broken', unknown, invalid, good, topic=CONSENT_TOPIC)
    await _wait_evidence(stack, [good["event_id"]], want=len(SYSTEMS))
    rejected = await stack.read_topic(
        DLQ_TOPIC,
        lambda r: (
            r.get("source_topic") == CONSENT_TOPIC
            and any(marker in r["raw"] for marker in ("nobody", "maybe", '"broken'))
        ),
        want=3,
    )
    reasons = {r["reason"] for r in rejected}
    assert reasons == {"unknown_tenant", "schema_violation", "malformed_json"}, reasons
    assert len(rejected) == 3


async def test_changes_and_evidence_recorded_again_are_kept_once(stack: RunningStack) -> None:
    """Bulk writes (COPY) fall back to skipping what is there when a batch comes again."""
    store = stack.ledger.consent
    batch_id, at = str(uuid.uuid4()), datetime.now(UTC).isoformat()
    entries = [
        ConsentEntry(f"again-{batch_id}-{i}", {"email": f"again-{i}@example.org"}, [f"ref-{batch_id}-{i}"],
                     ["marketing"], "withdraw", at)
        for i in range(3)
    ]  # fmt: skip
    ids = [e.event_id for e in entries]
    await store.keep_batch(batch_id, "upjunoo", 2, "k", b"sealed", entries=entries[:2])
    regrouped = str(uuid.uuid4())  # redelivered in another window, with a change not seen yet
    await store.keep_batch(regrouped, "upjunoo", 3, "k", b"sealed", entries=entries)
    assert await store.record_outcome(batch_id, "crm", "consent_withdrawn", at, ids[:2], {}, {}) == 2
    assert await store.record_outcome(regrouped, "crm", "consent_withdrawn", at, ids, {}, {}) == 1

    db = stack.settings.pg_database
    evidence = await stack.fetch(
        db, "SELECT event_id, batch_id::text FROM consent_evidence WHERE event_id = ANY($1)", ids
    )
    assert sorted((r["event_id"], r["batch_id"]) for r in evidence) == [
        (ids[0], batch_id), (ids[1], batch_id), (ids[2], regrouped)
    ]  # fmt: skip
    events = await stack.fetch(
        db, "SELECT event_id, batch_id::text FROM consent_events WHERE event_id = ANY($1)", ids
    )
    assert sorted((r["event_id"], r["batch_id"]) for r in events) == [
        (ids[0], batch_id), (ids[1], batch_id), (ids[2], regrouped)
    ]  # fmt: skip
    refs = [ref for e in entries for ref in e.subject_refs]
    suppressed = await stack.fetch(
        db, "SELECT subject_ref FROM suppressions WHERE subject_ref = ANY($1)", refs
    )
    assert sorted(r["subject_ref"] for r in suppressed) == sorted(refs)
    when = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    later = ConsentEntry(
        f"later-{batch_id}",
        {"email": "again-0@example.org"},
        entries[0].subject_refs,
        ["marketing"],
        "withdraw",
        when,
    )
    await store.keep_batch(str(uuid.uuid4()), "upjunoo", 1, "k", b"sealed", entries=[later])
    [kept] = await stack.fetch(db, "SELECT event_id FROM suppressions WHERE subject_ref = $1", refs[0])
    assert kept["event_id"] == later.event_id  # a subject suppressed before: the latest withdrawal wins
