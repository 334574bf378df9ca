"""Secrets by reference and the client's reading of Retry-After: pure pieces, no server."""

from __future__ import annotations

import os
from email.utils import formatdate
from pathlib import Path
from time import time

import pytest

from workers.connectors.base import ConnectorError
from workers.connectors.http.client import retry_after
from workers.connectors.http.secrets import SecretStore


def test_retry_after_reads_seconds_or_an_http_date():
    assert retry_after("3", default=0.5) == 3
    assert 8 < retry_after(formatdate(time() + 10, usegmt=True), default=0.5) <= 10
    assert retry_after(None, default=0.5) == 0.5
    assert retry_after("soon", default=0.5) == 0.5


def test_a_secret_is_read_from_the_environment_or_a_private_file(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TEST_BILLING_TOKEN", "s3cret-env")
    store = SecretStore(tmp_path)
    assert store.resolve("env:TEST_BILLING_TOKEN") == "s3cret-env"
    private = tmp_path / "billing_token"
    private.write_text("s3cret-file\n")
    os.chmod(private, 0o600)
    assert store.resolve("file:billing_token") == "s3cret-file"
    assert store.resolve_url("https://api.example.com/") == "https://api.example.com"


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("env:NOT_SET_ANYWHERE_42", "not set"),
        ("file:../etc/passwd", "must be env:VARIABLE or file:NAME"),
        ("file:missing", "no such file"),
        ("sk_live_literal_value", "must be env:VARIABLE or file:NAME"),
        ("file:shared", "chmod 600"),
    ],
)
def test_a_bad_reference_is_a_configuration_error_that_names_only_the_reference(
    tmp_path: Path, reference: str, reason: str
):
    shared = tmp_path / "shared"
    shared.write_text("readable-by-all")
    os.chmod(shared, 0o644)
    with pytest.raises(ConnectorError) as refused:
        SecretStore(tmp_path).resolve(reference)
    assert reason in str(refused.value) and not refused.value.retryable
    assert "readable-by-all" not in str(refused.value) and "sk_live" not in str(refused.value)
