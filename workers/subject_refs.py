"""Pseudonymous references to a subject, to find one person's requests and holds without
keeping their identities in the ledger: a SHA-256 per (tenant, identity kind, normalised value)."""

from __future__ import annotations

import hashlib
import re


def _normalise(kind: str, value: str) -> str:
    if kind == "email":
        return value.strip().lower()
    if kind == "phone":
        return re.sub(r"[^0-9+]", "", value)
    return value.strip()


def subject_refs(tenant: str, subject: dict[str, str]) -> list[str]:
    return sorted(
        hashlib.sha256(f"{tenant}|{kind}|{_normalise(kind, value)}".encode()).hexdigest()
        for kind, value in subject.items()
    )
