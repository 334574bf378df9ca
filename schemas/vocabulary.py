"""The one domain vocabulary: request types and their gates, statuses, flags, actions, outcomes.

Every other module imports these words from here; the contract's JSON Schemas list the same
values (a unit test keeps them in step). A new request type is a row in ``REQUEST_TYPES``
plus the connector methods its actions need; a new action is a row in ``ACTIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- requests ------------------------------------------------------------------------------
STATUSES = ("received", "awaiting_verification", "in_progress", "completed", "rejected", "cancelled")
CLOSED_STATUSES = frozenset({"completed", "rejected", "cancelled"})
FLAGS = ("on_hold", "extended", "overdue", "fee_applicable")


@dataclass(frozen=True)
class RequestType:
    """What a request type does besides acting on every system: the gates it passes.

    ``held_by_legal_holds``: a legal hold on the subject stops it until released (erasure).
    ``needs_decision``: an operator weighs the subject's grounds unless every purpose named
    is absolute (objection). ``charged_after_free_copies``: the tenant's fee rule applies
    (access). ``compiles_report``: the systems' records become a report (access,
    portability). ``transfers``: the export may go straight to a named provider.
    ``purges_own_copies``: once completed, the orchestrator's own copies of the person's data
    (reports, records, identity documents of their requests) are purged too (erasure).
    """

    name: str
    held_by_legal_holds: bool = False
    needs_decision: bool = False
    charged_after_free_copies: bool = False
    compiles_report: bool = False
    transfers: bool = False
    purges_own_copies: bool = False


REQUEST_TYPES: dict[str, RequestType] = {
    t.name: t
    for t in (
        RequestType("access", charged_after_free_copies=True, compiles_report=True),
        RequestType("portability", compiles_report=True, transfers=True),
        RequestType("erasure", held_by_legal_holds=True, purges_own_copies=True),
        RequestType("rectification"),
        RequestType("restriction"),
        RequestType("objection", needs_decision=True),
        RequestType("consent_withdrawal"),
    )
}
REQUEST_TYPE_NAMES = tuple(REQUEST_TYPES)

# -- per-system actions and outcomes -------------------------------------------------------
OUTCOMES = (
    "pending",
    "erased",
    "anonymised",
    "retained",
    "not_found",
    "exported",
    "rectified",
    "restricted",
    "processing_stopped",
    "consent_withdrawn",
    "refused",
    "notified",
    "failed",
)
# A final outcome settles a system for good; ``pending`` and ``failed`` (retried) do not.
FINAL_OUTCOMES = frozenset(OUTCOMES) - {"pending", "failed"}

# Each action and the outcome it has once done. ``stop_processing`` reads as the request
# type asks: a withdrawn consent or stopped processing (objection).
ACTIONS: dict[str, str] = {
    "export": "exported",
    "erase": "erased",
    "anonymise": "anonymised",
    "retain": "retained",
    "rectify": "rectified",
    "restrict": "restricted",
    "stop_processing": "processing_stopped",
    "notify": "notified",
}
# Actions that change the system: a retry must know what an earlier attempt already did.
READ_ONLY_ACTIONS = frozenset({"export", "notify"})


def done_outcome(action: str, request_type: str) -> str:
    """The outcome of ``action`` once done, for a request of ``request_type``."""
    if action == "stop_processing" and request_type == "consent_withdrawal":
        return "consent_withdrawn"
    return ACTIONS[action]


# -- partners (OpenDSR v2 request_status) --------------------------------------------------
PARTNER_STATUSES = ("pending", "in_progress", "completed", "cancelled")
FINAL_PARTNER_STATUSES = frozenset({"completed", "cancelled"})
# What a partner's ``completed`` means when the step's action is not one of ours (a recipient
# told of a request: the right it was told about decides).
_COMPLETED_BY_TYPE = {
    "access": "exported",
    "portability": "exported",
    "erasure": "erased",
    "rectification": "rectified",
    "restriction": "restricted",
    "objection": "processing_stopped",
    "consent_withdrawal": "consent_withdrawn",
}
PARTNER_CANCELLED_REASON = "the partner cancelled the request"


def partner_outcome(request_status: str, action: str, request_type: str) -> str | None:
    """The per-system outcome a partner's status means, or None while it is still at work."""
    if request_status == "cancelled":
        return "refused"
    if request_status != "completed":
        return None
    if action in ACTIONS and action not in ("notify", "stop_processing", "retain"):
        return ACTIONS[action]
    return _COMPLETED_BY_TYPE.get(request_type, "notified")


def partner_status_advances(current: str | None, new: str) -> bool:
    """Whether a partner's status report changes anything: final states never change, others
    only move forward."""
    if current in FINAL_PARTNER_STATUSES:
        return False
    if current is None:
        return True
    return PARTNER_STATUSES.index(new) > PARTNER_STATUSES.index(current)
