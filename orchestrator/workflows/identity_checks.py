"""Who the subject is, before anything runs: do the identities given agree (the tenant's
automatic check, a second factor where its rule asks for one), and which other identifiers do
the tenant's identity sources hold for them (identity resolution). Mixed into RequestWorkflow;
each returns why an operator must verify first, or None.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError

from orchestrator.workflows.models import OperatorDecision, RequestInput, RequestState

with workflow.unsafe.imports_passed_through():
    from workers.activities import definitions
    from workers.messages.requests import IdentityResolutionInput

SECOND_FACTOR_REASON = "second factor required: only one identity was given, an operator must verify"
# Requests started before identity resolution existed replay without it.
RESOLUTION_PATCH = "identity-resolution"
# A person asked to verify with the controller (DRP need_user_verification) has until a time;
# only requests carrying that time take the new timer (earlier histories replay unchanged).
USER_VERIFICATION_PATCH = "user-verification-lapses"
USER_VERIFICATION_LAPSED = "policy: user verification window"
A = TypeVar("A")
R = TypeVar("R")


class IdentityChecks:
    # Identifiers resolution linked to the subject (kept out of RequestState: see RequestWorkflow).
    _linked: dict[str, list[str]]
    _state: RequestState

    async def _activity(self, stub: Callable[[A], Awaitable[R]], argument: A) -> R:
        raise NotImplementedError

    async def _identities_disagree(self, request: RequestInput) -> str | None:
        """Automatic check: do the identities given all belong to the same record? With one
        identity only and a tenant rule asking for a second factor, the check still runs (the
        one identity must be known) and the request then waits for an operator to verify.
        (Histories started before ``second_factor_required`` existed carry False: same commands.)"""
        one_factor = len(request.subject) < 2 and request.second_factor_required
        if request.identity_match_step is None or (len(request.subject) < 2 and not one_factor):
            return SECOND_FACTOR_REASON if one_factor else None
        task = request.task_for(request.identity_match_step)
        disagreement = await self._activity(definitions.match_identities, task)
        if disagreement:
            return f"automatic identity check failed: {disagreement}"
        return SECOND_FACTOR_REASON if one_factor else None

    async def _resolve_identities(self, request: RequestInput) -> str | None:
        """Learn every identifier the tenant's identity sources hold for the subject, so every
        system is searched by all of them; why an operator must verify first when they point at
        more than one person. The evidence (given, found, where) is sealed by the activity."""
        if not workflow.patched(RESOLUTION_PATCH):
            return None
        given = IdentityResolutionInput(
            request.request_id,
            request.tenant,
            request.request_type,
            request.subject,
            request.submitted_at,
            request.identity_sources,
        )
        try:
            resolution = await self._activity(definitions.resolve_identities, given)
        except ActivityError as err:
            # A broken identity source (a pack error no retry mends): an operator checks the
            # identities by hand; approved, the request runs on those given.
            return f"identity resolution failed ({err.cause or err}): verify the identities given"
        self._linked = resolution.linked
        return f"{resolution.conflict}: verify they are one person" if resolution.conflict else None

    def _user_verification_lapse(self, request: RequestInput) -> asyncio.Task[None] | None:
        """When the person was asked to verify with us by a time, a timer that denies the
        verification at that time unless someone decided first (the person on the verification
        page, or an operator). The denial is the workflow's own decision, recorded as such."""
        if request.user_verification_until is None or not workflow.patched(USER_VERIFICATION_PATCH):
            return None
        until = datetime.fromisoformat(request.user_verification_until)

        async def lapse() -> None:
            wait = (until - workflow.now()).total_seconds()
            if wait > 0:
                await workflow.sleep(wait)
            if self._state.verification is None:
                self._state.verification = OperatorDecision(
                    USER_VERIFICATION_LAPSED,
                    "deny",
                    f"the person did not complete the identity verification by {until.isoformat()}",
                )

        return asyncio.ensure_future(lapse())
