"""The access report shows every planned system and escapes what it renders."""

from workers.activities.report_document import build_report, render_html
from workers.messages.requests import SystemStep


def test_report_lists_each_system_with_its_disclosure_and_escapes_html():
    step = SystemStep(
        "crm",
        "export",
        {"kind": "sql"},
        {"citation": "x"},
        disclosure={"categories": ["contact"], "purposes": ["support"], "retention": "1 year"},
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
    assert report["systems"]["crm"]["categories"] == ["contact"]
    html = render_html(report)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
