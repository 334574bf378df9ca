"""Identities of a subject: the one normalised form every part compares, and pseudonymous
references to find one person's requests and holds without keeping their identities in the
ledger (a SHA-256 per (tenant, identity kind, normalised value))."""

from __future__ import annotations

import hashlib
import re


def normalise_identity(kind: str, value: str) -> str:
    """An identity as everything compares it: e-mail trimmed and lower-cased, a phone number as
    its digits and ``+``, anything else trimmed."""
    if kind == "email":
        return value.strip().lower()
    if kind == "phone":
        return re.sub(r"[^0-9+]", "", value)
    return value.strip()


def same_identity(kind: str, given: str, held: str) -> bool:
    """Whether two values of one identity kind name the same person."""
    return normalise_identity(kind, given) == normalise_identity(kind, held)


def subject_refs(tenant: str, subject: dict[str, str]) -> list[str]:
    return sorted(
        hashlib.sha256(f"{tenant}|{kind}|{normalise_identity(kind, value)}".encode()).hexdigest()
        for kind, value in subject.items()
    )
