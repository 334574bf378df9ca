"""Consent changes in a window, grouped into one batch per tenant: which systems stop what. Pure.

The faust agent reads ``privacy.consent.v1`` a short window at a time; each window's valid
changes become, per tenant, one ``ConsentBatch``: the changes in order, and for each system
that processes one of the withdrawn purposes (the pack's consent-withdrawal rules, plus the
recipients told of withdrawals) the events it must act on. The batch id is derived from the
events it holds, so a window delivered twice starts the same workflow, not a second one.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC

from orchestrator.policy.gpc import gpc_due, gpc_purposes, gpc_refusal
from orchestrator.policy.packs import PolicyPack
from orchestrator.policy.plan import plan_request
from orchestrator.policy.taxonomy import canonical_purposes, refused_purposes
from schemas import ContractViolation
from schemas.identity import subject_refs
from schemas.models import ConsentChange
from workers.messages.consent import ConsentBatch, ConsentEntry, SystemShare
from workers.messages.requests import SystemStep

MEMO_LIMIT = 1024
BATCH_NAMESPACE = uuid.UUID("7b3f5e0c-1d2a-4c59-9d0e-2f6a1c8b4e17")


def batch_id(tenant: str, event_ids: list[str]) -> str:
    return str(uuid.uuid5(BATCH_NAMESPACE, tenant + "\n" + "\n".join(sorted(event_ids))))


def admit_consent(
    change: ConsentChange,
    packs: dict[str, PolicyPack],
    memo: dict[tuple[str, tuple[str, ...]], str | None] | None = None,
) -> None:
    """ContractViolation when no pack can honour the change (unknown tenant, no such purpose).

    ``memo`` keeps each (tenant, purposes) verdict: at stream speed most changes name the same
    few purposes, and walking the pack and the taxonomy for each was a tenth of the intake's CPU."""
    pack = packs.get(change.tenant)
    if pack is None:
        raise ContractViolation("unknown_tenant", f"tenant: no policy pack for {change.tenant!r}")
    if change.signal == "gpc":  # Global Privacy Control: the pack decides (orchestrator/policy/gpc.py)
        if change.action != "withdraw":
            raise ContractViolation("gpc_not_a_withdrawal", "signal: a gpc signal can only withdraw")
        refusal = gpc_refusal(pack)
        if refusal:
            raise ContractViolation("gpc_not_honoured", f"signal: {refusal}")
        return
    key = (change.tenant, tuple(change.purposes))
    if memo is not None and key in memo:
        refusal = memo[key]
    else:
        refusal = refused_purposes(pack.tenant, change.purposes, pack.document)
        if memo is not None and len(memo) < MEMO_LIMIT:  # bounded: fuzzed purposes are endless
            memo[key] = refusal
    if refusal:
        raise ContractViolation("unknown_purpose", f"purposes: {refusal}")


def group_changes(
    changes: list[ConsentChange], packs: dict[str, PolicyPack], ref_key: bytes
) -> list[tuple[ConsentBatch, list[ConsentEntry]]]:
    """One batch (and its changes) per tenant; changes are admitted already. Duplicates of one
    event_id count once."""
    by_tenant: dict[str, dict[str, ConsentChange]] = defaultdict(dict)
    for change in changes:
        by_tenant[change.tenant].setdefault(change.event_id, change)
    batches = []
    for tenant, unique in sorted(by_tenant.items()):
        ordered = sorted(unique.values(), key=lambda c: (c.occurred_at, c.event_id))
        gpc = gpc_purposes(packs[tenant])
        entries = [
            ConsentEntry(
                event_id=c.event_id,
                subject=c.subject,
                subject_refs=subject_refs(ref_key, tenant, c.subject),
                # A GPC signal withdraws the purposes the tenant's pack maps it to, by a legal date;
                # an older word (``newsletter``) is recorded as the data use it stands for.
                purposes=gpc if c.signal == "gpc" else canonical_purposes(c.purposes, packs[tenant].document),
                action=c.action,
                occurred_at=c.occurred_at.astimezone(UTC).isoformat(),
                due_at=gpc_due(c.occurred_at).astimezone(UTC).isoformat() if c.signal == "gpc" else None,
            )
            for c in ordered
        ]
        shares: dict[str, SystemShare] = {}
        plans: dict[tuple[str, ...], list[SystemStep]] = {}  # many changes name the same purposes
        for index, entry in enumerate(entries):
            if entry.action != "withdraw":
                continue
            key = tuple(sorted(entry.purposes))
            if key not in plans:
                plans[key] = plan_request(packs[tenant], "consent_withdrawal", {"purposes": list(key)})
            for step in plans[key]:
                share = shares.setdefault(step.system, SystemShare(step=step))
                share.entry_indexes.append(index)
        batch = ConsentBatch(
            batch_id=batch_id(tenant, list(unique)),
            tenant=tenant,
            changes=len(entries),
            systems=list(shares.values()),
        )
        batches.append((batch, entries))
    return batches
