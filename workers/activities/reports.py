"""Reports: the access/portability report compiled from every system's records, and the
portability export sent straight to another provider at the subject's request."""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import ApplicationError

from workers.activities import definitions
from workers.activities.definitions import implements
from workers.activities.evidence import Evidence, now
from workers.activities.report_document import build_report, render_html
from workers.connectors.transfers import HttpTransfers
from workers.messages.requests import PortabilityTransfer, ReportInput, ReportSummary, SystemResult


class ReportActivities:
    def __init__(self, evidence: Evidence, transfers: HttpTransfers) -> None:
        self._evidence = evidence
        self._ledger = evidence.ledger
        self._transfers = transfers

    @implements(definitions.compile_report)
    async def compile_report(self, given: ReportInput) -> ReportSummary:
        request = await self._ledger.request(given.request_id)
        if request is None:
            raise ApplicationError(f"request {given.request_id} is not in the ledger")
        records = await self._ledger.system_records(given.request_id)
        report = build_report(request, given.controller, given.steps, records)
        await self._ledger.save_report(given.request_id, report, render_html(report))
        total = sum(s["record_count"] for s in report["systems"].values())
        return ReportSummary(request_id=given.request_id, systems=len(report["systems"]), records=total)

    @implements(definitions.transfer_export)
    async def transfer_export(self, transfer: PortabilityTransfer) -> SystemResult:
        """POST the export to the named provider; when that is not possible, say why (the subject
        still has the export through the report)."""
        found = await self._ledger.report(transfer.request_id)
        if found is None:
            raise ApplicationError(f"request {transfer.request_id} has no export to transfer yet")
        export = {
            "request_id": transfer.request_id,
            "controller": found[0]["controller"].get("name"),
            "systems": {name: s["records"] for name, s in found[0]["systems"].items()},
        }
        name = str(transfer.destination.get("name") or transfer.destination["url"])
        evidence: dict[str, Any]
        try:
            status = await self._transfers.post(str(transfer.destination["url"]), export)
        except OSError as exc:
            outcome, evidence = (
                "refused",
                {"destination": name, "not_possible": f"{type(exc).__name__}: {exc}"},
            )
        else:
            if 200 <= status < 300:
                outcome, evidence = "exported", {"destination": name, "http_status": status}
            else:
                outcome, evidence = "refused", {"destination": name, "not_possible": f"HTTP {status}"}
        result = SystemResult("transfer", "transfer", outcome, now(), evidence=evidence)
        return await self._evidence.store_outcome(transfer.request_id, transfer.tenant, "portability", result)
