"""Identities of a subject: the one normalised form every part compares, and pseudonymous
references to find one person's requests and holds without keeping their identities in the
ledger: an HMAC-SHA-256 per (tenant, identity kind, normalised value) under a secret key, so a
reference cannot be turned back into an e-mail or a phone number by hashing candidates (a plain
hash of a mobile number is found by trying the few billion numbers there are). The key comes
from the process's settings (``workers.runtime.secrets``); a new key means new references."""

from __future__ import annotations

import hashlib
import hmac
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


def subject_refs(key: bytes, tenant: str, subject: dict[str, str]) -> list[str]:
    """One pseudonymous reference per identity given, sorted; the same for the same person
    (identities normalised) under the same key and tenant."""
    if not key:
        raise ValueError("subject references need a secret key")
    return sorted(  # hmac.digest: the one-shot C path, the same value as hmac.new(...).hexdigest()
        hmac.digest(key, f"{tenant}|{kind}|{normalise_identity(kind, value)}".encode(), hashlib.sha256).hex()
        for kind, value in subject.items()
    )
