"""OpenDSR pieces that need no server: signatures, certificates, messages, status order."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from schemas.vocabulary import partner_outcome, partner_status_advances
from workers.connectors.opendsr.protocol import (
    parse_callback,
    request_body,
    staleness,
)
from workers.connectors.opendsr.signatures import (
    certificate_problem,
    new_identity,
    read_headers,
    sign,
    verify,
)

KEY, CERT = new_identity("opendsr.partner.example")


def test_a_signature_verifies_over_exactly_the_raw_body():
    body = b'{"request_status": "completed"}'
    signature = sign(KEY, body)
    assert verify(CERT, body, signature)
    assert not verify(CERT, body.replace(b"completed", b"cancelled"), signature)
    assert not verify(CERT, body + b" ", signature), "re-serialised JSON is another body"
    other_key, _ = new_identity("opendsr.partner.example")
    assert not verify(CERT, body, sign(other_key, body)), "another key, same domain: forged"
    assert not verify(CERT, body, "not base64 at all!")
    wrapped = "\n".join(signature[i : i + 64] for i in range(0, len(signature), 64))
    assert verify(CERT, body, wrapped), "signatures wrapped over lines, as in the specification"


def test_legacy_opengdpr_header_names_are_read_too():
    modern = read_headers({"X-OpenDSR-Signature": "s", "X-OpenDSR-Processor-Domain": "d"})
    legacy = read_headers({"X-OpenGDPR-Signature": "s", "X-OpenGDPR-Processor-Domain": "d"})
    assert (modern.signature, modern.domain, modern.legacy) == ("s", "d", False)
    assert (legacy.signature, legacy.domain, legacy.legacy) == ("s", "d", True)
    assert read_headers({}).signature is None


def test_a_certificate_must_be_for_the_partners_domain_and_valid_now():
    assert certificate_problem(CERT, "opendsr.partner.example") is None
    assert "not 'opendsr.other.example'" in (certificate_problem(CERT, "opendsr.other.example") or "")
    later = datetime.now(UTC) + timedelta(days=400)
    assert "not valid now" in (certificate_problem(CERT, "opendsr.partner.example", later) or "")
    assert "not a PEM" in (certificate_problem(b"garbage", "x") or "")


def test_rights_opendsr_lacks_travel_in_extensions_keyed_by_the_partner_domain():
    body = request_body(
        subject_request_id="a7551968-d5d6-44b2-9831-815ac9017798",
        request_type="rectification",
        subject={"email": "ada@example.org", "phone": "+225", "customer_id": "C-1"},
        submitted_at="2026-11-23T10:00:00+00:00",
        callback_url="https://controller.example/opendsr/v2/callbacks/t/s",
        partner_domain="opendsr.partner.example",
        details={"corrections": {"phone": "+226"}, "internal_note": "not for partners"},
    )
    assert body["subject_identities"] == [
        {"identity_type": "controller_customer_id", "identity_value": "C-1", "identity_format": "raw"},
        {"identity_type": "email", "identity_value": "ada@example.org", "identity_format": "raw"},
    ]
    extension = body["extensions"]["opendsr.partner.example"]
    assert extension == {
        "subject_identities": {"phone": "+225"},
        "right": "rectification",
        "details": {"corrections": {"phone": "+226"}},
    }
    assert body["status_callback_urls"] == ["https://controller.example/opendsr/v2/callbacks/t/s"]
    erasure = request_body(
        subject_request_id="x", request_type="erasure", subject={"email": "a@b"}, submitted_at="t",
        callback_url="u", partner_domain="d", details={},
    )  # fmt: skip
    assert "extensions" not in erasure and erasure["subject_request_type"] == "erasure"


def test_completed_means_the_outcome_of_the_right_the_partner_was_told_of():
    assert partner_outcome("completed", "notify", "erasure") == "erased"
    assert partner_outcome("completed", "notify", "rectification") == "rectified"
    assert partner_outcome("completed", "notify", "restriction") == "restricted"
    assert partner_outcome("completed", "export", "access") == "exported"


def test_status_only_moves_forward_and_final_states_never_change():
    assert partner_status_advances(None, "pending")
    assert partner_status_advances("pending", "completed")
    assert not partner_status_advances("completed", "in_progress"), "a late in_progress after completed"
    assert not partner_status_advances("in_progress", "pending")
    assert not partner_status_advances("completed", "cancelled")
    assert not partner_status_advances("cancelled", "completed")


def test_callbacks_need_their_fields_and_a_signed_time():
    now = datetime.now(UTC)
    good = {
        "subject_request_id": "x", "request_status": "completed", "status_callback_url": "u",
        "sent_time": now.isoformat(),
    }  # fmt: skip
    parsed = parse_callback(good)
    assert not isinstance(parsed, str) and parsed.request_status == "completed"
    assert "missing sent_time" in str(parse_callback({**good, "sent_time": None}))
    assert "is not one of" in str(parse_callback({**good, "request_status": "done"}))
    assert "missing field(s): subject_request_id" in str(parse_callback({**good, "subject_request_id": ""}))
    assert "no time zone" in str(parse_callback({**good, "sent_time": "2026-11-23T10:00:00"}))
    assert parse_callback(json.loads("[1]")) == "the body is not a JSON object"


def test_old_callbacks_are_stale_and_future_ones_suspicious():
    now = datetime.now(UTC)
    age, skew = timedelta(minutes=10), timedelta(minutes=2)
    assert staleness(now - timedelta(minutes=5), now, age, skew) is None
    assert "old" in (staleness(now - timedelta(hours=1), now, age, skew) or "")
    assert "future" in (staleness(now + timedelta(minutes=5), now, age, skew) or "")
