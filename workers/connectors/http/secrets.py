"""Secrets by reference: a pack names where a credential is, never the credential itself.

``env:NAME`` reads the worker's environment variable; ``file:NAME`` reads ``NAME`` in the
secrets folder (``PRIVACY_SECRETS_DIR``), which must be readable by its owner only (0600), as
ssh does for keys. The value is resolved in the worker, at the moment of the call, so it never
travels through Temporal payloads, the ledger, logs or traces; errors name the reference only.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from workers.connectors.base import ConnectorError

_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class SecretStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def resolve(self, reference: str) -> str:
        """The value a reference points at; ConnectorError (not retryable) naming the reference."""
        scheme, _, name = reference.partition(":")
        if scheme == "env" and _ENV_NAME.match(name):
            value = os.environ.get(name)
            if not value:
                raise ConnectorError(f"secret {reference}: the variable is not set", retryable=False)
            return value
        if scheme == "file" and _FILE_NAME.match(name):
            return self._read(reference, self.folder / name)
        # Not echoed: a malformed reference may be the secret itself, pasted into the pack.
        raise ConnectorError(
            "a secret reference must be env:VARIABLE or file:NAME, never the secret itself", retryable=False
        )

    def resolve_url(self, value: str) -> str:
        """A base URL: written in the pack (``https://…``) or, like a secret, by reference."""
        if value.startswith(("http://", "https://")):
            return value.rstrip("/")
        url = self.resolve(value).strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConnectorError(f"base_url {value}: not an http(s) URL", retryable=False)
        return url

    @staticmethod
    def _read(reference: str, path: Path) -> str:
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise ConnectorError(
                f"secret {reference}: no such file in the secrets folder", retryable=False
            ) from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConnectorError(
                f"secret {reference}: the file must be readable by its owner only (chmod 600)",
                retryable=False,
            )
        value = path.read_text("utf-8").strip()
        if not value:
            raise ConnectorError(f"secret {reference}: the file is empty", retryable=False)
        return value
