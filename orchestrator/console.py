"""The Temporal UI as the operator console: saved views for the questions operators ask.

Each view is a Temporal visibility query over our search attributes (PrivacyTenant,
PrivacyRequestType, PrivacyJurisdiction, PrivacyStatus, PrivacyDueAt, PrivacyOverdue) and the
built-in ones (WorkflowType, ExecutionStatus, CloseTime). No ORDER BY: the dev server's
visibility store refuses it (a production Temporal on Elasticsearch accepts it).
``{tenant}``, ``{jurisdiction}``, ``{until}`` and ``{since}`` are filled in by ``privacyctl
views``; docs/operator-console.md lists the same views for pasting into the UI's filter box.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

REQUESTS = 'WorkflowType = "RequestWorkflow"'


@dataclass(frozen=True)
class SavedView:
    name: str
    question: str
    query: str


SAVED_VIEWS = (
    SavedView(
        "overdue-erasures",
        "Which erasures in {jurisdiction} are overdue?",
        f'{REQUESTS} AND PrivacyRequestType = "erasure" AND PrivacyJurisdiction = "{{jurisdiction}}" '
        "AND PrivacyOverdue = true",
    ),
    SavedView(
        "open-for-tenant",
        "What is open for {tenant}?",
        f'{REQUESTS} AND PrivacyTenant = "{{tenant}}" AND ExecutionStatus = "Running"',
    ),
    SavedView(
        "due-this-week",
        "Which open requests fall due before {until}?",
        f'{REQUESTS} AND ExecutionStatus = "Running" AND PrivacyDueAt < "{{until}}"',
    ),
    SavedView(
        "awaiting-verification",
        "Which requests wait for an operator to verify the requester?",
        f'{REQUESTS} AND PrivacyStatus = "awaiting_verification"',
    ),
    SavedView(
        "all-overdue",
        "What is overdue anywhere, for any tenant?",
        f"{REQUESTS} AND PrivacyOverdue = true",
    ),
    SavedView(
        "refused-recently",
        "Which requests were rejected or cancelled since {since}?",
        f'{REQUESTS} AND PrivacyStatus IN ("rejected", "cancelled") AND CloseTime > "{{since}}"',
    ),
    SavedView(
        "access-requests-for-tenant",
        "Which access and portability requests did {tenant} receive?",
        f'{REQUESTS} AND PrivacyTenant = "{{tenant}}" AND PrivacyRequestType IN ("access", "portability")',
    ),
    SavedView(
        "consent-batches",
        "How are consent withdrawals for {tenant} being propagated?",
        'WorkflowType = "ConsentBatchWorkflow" AND PrivacyTenant = "{tenant}"',
    ),
)


def fill(text: str, tenant: str, jurisdiction: str, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return text.format(
        tenant=tenant,
        jurisdiction=jurisdiction,
        until=(now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        since=(now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def view_url(ui_url: str, namespace: str, query: str) -> str:
    """The Temporal UI's workflow list filtered by ``query``."""
    return f"{ui_url}/namespaces/{namespace}/workflows?query={quote(query, safe='')}"
