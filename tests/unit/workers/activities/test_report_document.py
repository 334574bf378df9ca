"""The access report shows every planned system and escapes what it renders."""

from workers.activities.report_document import build_report, render_html
from workers.messages.requests import SystemStep


def test_report_lists_each_system_with_its_disclosure_and_escapes_html():
    step = SystemStep(
        "crm",
        "export",
        {"kind": "sql"},
        {"citation": "x"},
        disclosure={
            "categories": ["user.contact"],
            "purposes": ["essential.service.operations.support"],
            "retention": "1 year",
        },
    )
    request = {
        "request_id": "r1",
        "tenant": "t",
        "type": "access",
        "submitted_at": "2026-01-01",
        "systems": [{"system": "crm", "outcome": "exported"}],
    }
    records = {"crm": [{"table": "customers", "full_name": "<script>alert(1)</script>"}]}
    report = build_report(request, {"name": "ACME"}, [step], records)
    assert report["systems"]["crm"]["record_count"] == 1
    assert report["systems"]["crm"]["categories"] == ["user.contact"]
    html = render_html(report)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_report_says_which_identifiers_were_used_and_per_system_what_was_done_without_any_identifier():
    step = SystemStep("crm", "export", {"kind": "sql"}, {"citation": "x"})
    request = {
        "request_id": "r1",
        "tenant": "t",
        "type": "access",
        "submitted_at": "2026-01-01",
        "identifiers": {
            "given": {"email": 1},
            "found": {"customer_id": {"count": 1, "sources": ["crm"]}},
            "sources": ["crm"],
            "rounds": 2,
            "conflict": None,
        },
        "systems": [
            {
                "system": "crm",
                "action": "export",
                "outcome": "exported",
                "located": None,
                "verification": None,
            }
        ],
    }
    report = build_report(request, {"name": "ACME"}, [step], {"crm": []})
    assert report["identifiers"] == {
        "given": {"email": 1},
        "found": {"customer_id": {"count": 1, "sources": ["crm"]}},
    }
    assert report["systems"]["crm"]["done"]["action"] == "export"
    html = render_html(report)
    assert "email (given by you)" in html
    assert "customer_id: 1 found in crm" in html


def test_report_shows_the_human_names_of_fideslang_categories_and_purposes():
    names = {"user.contact.email": "User Contact Email", "essential.service": "Essential for Service"}
    disclosure = {
        "categories": ["user.contact.email", "loyalty"],
        "purposes": ["essential.service"],
        "names": names,
    }
    step = SystemStep("shop_db", "export", {"kind": "sql"}, {"citation": "x"}, disclosure=disclosure)
    request = {"request_id": "r1", "tenant": "t", "type": "access", "submitted_at": "2026-01-01",
               "systems": [{"system": "shop_db", "outcome": "exported"}]}  # fmt: skip
    report = build_report(request, {"name": "ACME"}, [step], {})
    assert report["systems"]["shop_db"]["names"] == names
    html = render_html(report)
    assert "Categories: User Contact Email (user.contact.email), loyalty</li>" in html
    assert "Purposes: Essential for Service (essential.service)</li>" in html
