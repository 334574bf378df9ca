"""Custom search attributes the workflows keep current, so the Temporal UI can filter.

They carry no personal data: tenant, type, jurisdiction, status and due date only.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

TENANT = SearchAttributeKey.for_keyword("PrivacyTenant")
REQUEST_TYPE = SearchAttributeKey.for_keyword("PrivacyRequestType")
JURISDICTION = SearchAttributeKey.for_keyword("PrivacyJurisdiction")
STATUS = SearchAttributeKey.for_keyword("PrivacyStatus")
DUE_AT = SearchAttributeKey.for_datetime("PrivacyDueAt")
OVERDUE = SearchAttributeKey.for_bool("PrivacyOverdue")

ALL = (TENANT, REQUEST_TYPE, JURISDICTION, STATUS, DUE_AT, OVERDUE)

# Registration names for the dev server's --search-attribute flag.
REGISTRATION = {
    key.name: {"KEYWORD": "Keyword", "DATETIME": "Datetime", "BOOL": "Bool"}[key.indexed_value_type.name]
    for key in ALL
}


def summary(request: Any, state: Any) -> str:
    """The memo the Temporal UI shows: what, for whom, where it stands. No personal data."""
    answered = sum(1 for result in state.results.values() if result.final)
    flags = f" [{', '.join(state.flags)}]" if state.flags else ""
    return (
        f"{request.request_type} for tenant {request.tenant} ({request.jurisdiction}): "
        f"{state.status}{flags}; {answered}/{len(request.steps)} systems answered; due {state.due_at[:10]}"
    )
