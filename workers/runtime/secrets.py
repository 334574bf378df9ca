"""Secret keys that are not payload-encryption keys: the subject-reference key and the audit key.

Subject references are HMAC-SHA-256 under ``PRIVACY_SUBJECT_REF_KEY``: without the key, an
e-mail address or a phone number cannot be found again by hashing candidates. The operators'
audit chain is sealed with HMAC-SHA-256 under ``PRIVACY_AUDIT_KEY``: whoever can write to the
ledger but does not hold the key cannot re-seal an edited log. Both are base64 of at least 32
random bytes. On the dev stack, when unset, each is generated once into
``<state>/secret-keys.json`` (mode 0600), as the payload codec keys are. Keys are never logged.

Changing the subject-reference key changes every reference: requests, holds and suppressions
recorded under the old key no longer match new ones (a dev ledger: start afresh).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from pathlib import Path

SUBJECT_REF_KEY_ENV = "PRIVACY_SUBJECT_REF_KEY"
AUDIT_KEY_ENV = "PRIVACY_AUDIT_KEY"
DEV_FILE = "secret-keys.json"
MIN_KEY_BYTES = 32


class SecretKeyError(ValueError):
    """A key given in the environment is unusable; the message names the variable, never the key."""


@dataclass(frozen=True, repr=False)
class SecretKeys:
    """The process's keys; ``repr`` shows no key material."""

    subject_ref: bytes
    audit: bytes

    def __repr__(self) -> str:
        return "SecretKeys(<redacted>)"


def decode_key(variable: str, encoded: str) -> bytes:
    """Base64 of at least 32 bytes, or a SecretKeyError naming the variable."""
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SecretKeyError(f"{variable} is not valid base64") from None
    if len(key) < MIN_KEY_BYTES:
        raise SecretKeyError(f"{variable} must hold at least {MIN_KEY_BYTES} bytes (base64 of random bytes)")
    return key


def _dev_keys(state_dir: Path) -> dict[str, str]:
    path = state_dir / DEV_FILE
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        fresh = {name: base64.b64encode(os.urandom(32)).decode() for name in ("subject_ref", "audit")}
        # Written whole to a private file, then linked into place: a process of the stack that
        # starts at the same moment sees either no file or a complete one, and the first wins.
        draft = path.with_name(f".{DEV_FILE}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(fresh, out)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink(missing_ok=True)
    stored: dict[str, str] = json.loads(path.read_text())
    return stored


def secret_keys(state_dir: Path) -> SecretKeys:
    """The keys from the environment, else the dev stack's generated ones."""
    given = {
        "subject_ref": os.environ.get(SUBJECT_REF_KEY_ENV),
        "audit": os.environ.get(AUDIT_KEY_ENV),
    }
    dev = _dev_keys(state_dir) if not all(given.values()) else {}
    subject_ref = given["subject_ref"] or dev["subject_ref"]
    audit = given["audit"] or dev["audit"]
    return SecretKeys(
        subject_ref=decode_key(SUBJECT_REF_KEY_ENV, subject_ref),
        audit=decode_key(AUDIT_KEY_ENV, audit),
    )
