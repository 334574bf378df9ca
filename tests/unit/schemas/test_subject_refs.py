"""Subject references are keyed: stable under one key, different under another, and not the
plain hash an attacker could compute from a guessed e-mail or phone number."""

from __future__ import annotations

import hashlib

import pytest

from schemas.identity import subject_refs

KEY = b"a-secret-subject-reference-key!!"
OTHER_KEY = b"another-secret-subject-ref-key!!"


def test_the_same_person_gets_the_same_refs_under_one_key():
    given = {"email": " Ada@Example.org", "phone": "+225 07 00 00 00 01"}
    held = {"phone": "+2250700000001", "email": "ada@example.org"}
    assert subject_refs(KEY, "upjunoo", given) == subject_refs(KEY, "upjunoo", held)


def test_refs_depend_on_the_key_and_the_tenant():
    subject = {"phone": "+2250700000001"}
    assert subject_refs(KEY, "upjunoo", subject) != subject_refs(OTHER_KEY, "upjunoo", subject)
    assert subject_refs(KEY, "upjunoo", subject) != subject_refs(KEY, "jump", subject)


def test_a_ref_is_not_the_plain_hash_of_the_identity():
    # Brute force over Ivorian mobile numbers finds a plain SHA-256 in minutes; not an HMAC.
    plain = hashlib.sha256(b"upjunoo|phone|+2250700000001").hexdigest()
    assert plain not in subject_refs(KEY, "upjunoo", {"phone": "+2250700000001"})


def test_no_key_no_refs():
    with pytest.raises(ValueError, match="secret key"):
        subject_refs(b"", "upjunoo", {"email": "ada@example.org"})
