"""Secret keys: from the environment when given (checked), else generated once for the dev stack."""

from __future__ import annotations

import base64
import stat

import pytest

from workers.runtime.secrets import AUDIT_KEY_ENV, SUBJECT_REF_KEY_ENV, SecretKeyError, secret_keys


@pytest.fixture(autouse=True)
def no_keys_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SUBJECT_REF_KEY_ENV, raising=False)
    monkeypatch.delenv(AUDIT_KEY_ENV, raising=False)


def test_the_dev_stack_generates_its_keys_once_readable_only_by_us(tmp_path):
    first = secret_keys(tmp_path)
    again = secret_keys(tmp_path)
    assert first == again
    assert len(first.subject_ref) == 32 and first.subject_ref != first.audit
    assert stat.S_IMODE((tmp_path / "secret-keys.json").stat().st_mode) == 0o600
    assert "redacted" in repr(first) and base64.b64encode(first.audit).decode() not in repr(first)


def test_keys_from_the_environment_win(tmp_path, monkeypatch):
    ref, audit = b"r" * 32, b"a" * 48
    monkeypatch.setenv(SUBJECT_REF_KEY_ENV, base64.b64encode(ref).decode())
    monkeypatch.setenv(AUDIT_KEY_ENV, base64.b64encode(audit).decode())
    keys = secret_keys(tmp_path)
    assert (keys.subject_ref, keys.audit) == (ref, audit)
    assert not (tmp_path / "secret-keys.json").exists()


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
def test_an_unusable_key_is_refused_naming_the_variable_not_the_value(tmp_path, monkeypatch, value):
    monkeypatch.setenv(AUDIT_KEY_ENV, value)
    with pytest.raises(SecretKeyError) as refused:
        secret_keys(tmp_path)
    assert AUDIT_KEY_ENV in str(refused.value) and value not in str(refused.value)
