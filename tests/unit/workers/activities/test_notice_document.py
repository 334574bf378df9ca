"""Every refusal is explained to the subject, with where to complain, in the tenant's language."""

from orchestrator.policy.packs import load_packs
from workers.activities.notice_document import build_notice, render_notice_html
from workers.activities.report_document import build_report, render_html

PACKS = load_packs()


def _request(status="completed", systems=(), reason=None, tenant="j2s", request_type="objection"):
    return {
        "request_id": "r1",
        "tenant": tenant,
        "type": request_type,
        "status": status,
        "reason": reason,
        "submitted_at": "2026-01-01T00:00:00+00:00",
        "systems": list(systems),
    }


def _controller(tenant):
    return PACKS[tenant].document["controller"]


def test_a_refused_objection_names_the_cnil_for_j2s_in_the_language_of_its_policy():
    refused = {"system": "crm", "outcome": "refused", "error": "compelling legitimate grounds: open invoice"}
    notice = build_notice(_request(systems=[refused]), _controller("j2s"))
    assert notice["language"] == "en" and notice["decision"] == "partly_refused"
    assert (
        notice["refusals"][0]["text"] == "crm: not done, because: compelling legitimate grounds: open invoice"
    )
    assert "CNIL" in notice["complaint"]["authority"]
    assert any("lodge a complaint with Commission Nationale" in p for p in notice["paragraphs"])


def test_jsm_explains_retained_data_in_dutch_and_names_the_belgian_authority():
    kept = {"system": "billing", "outcome": "retained", "legal_basis": "wettelijke bewaartermijn",
            "retained_until": "2033-01-01T00:00:00+00:00"}  # fmt: skip
    notice = build_notice(_request(systems=[kept], request_type="erasure", tenant="jsm"), _controller("jsm"))
    assert notice["language"] == "nl"
    assert notice["refusals"][0]["text"] == "billing: bewaard tot 2033-01-01, omdat: wettelijke bewaartermijn"
    assert "Gegevensbeschermingsautoriteit" in " ".join(notice["paragraphs"])


def test_a_denied_verification_is_a_refusal_of_the_whole_request_in_french_for_jump():
    request = _request(status="rejected", reason="identity not verified: <mandat> absent", tenant="jump")
    notice = build_notice(request, _controller("jump"))
    assert notice["decision"] == "refused" and notice["language"] == "fr"
    assert "Autorité de protection des données" in notice["complaint"]["authority"]
    page = render_notice_html(notice)
    assert "lang='fr'" in page and "&lt;mandat&gt;" in page and "<mandat>" not in page


def test_a_request_done_in_full_says_so_and_names_no_complaint():
    done = {"system": "crm", "outcome": "erased"}
    notice = build_notice(
        _request(systems=[done], request_type="erasure", tenant="nexio"), _controller("nexio")
    )
    assert notice["decision"] == "granted" and notice["refusals"] == [] and notice["complaint"] is None


def test_the_access_report_carries_the_refusals_and_the_authority():
    kept = {
        "system": "billing",
        "outcome": "retained",
        "legal_basis": "obligation légale",
        "retained_until": None,
    }
    request = _request(systems=[kept], request_type="access", tenant="upjunoo", status="in_progress")
    report = build_report(request, _controller("upjunoo"), [], {})
    assert report["notice"]["refusals"][0]["system"] == "billing"
    assert "autorité de contrôle compétente" in render_html(report)
