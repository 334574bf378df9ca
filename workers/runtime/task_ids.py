"""Task ids for asynchronous systems: unguessable, issued with the task, checked on the answer.

Anyone who can publish on ``privacy.confirmations.v1`` could otherwise settle any system of
any request. A task id is a keyed HMAC-SHA-256 of (scope, tenant, request or batch, system):
the orchestrator issues it with the task on ``privacy.system-tasks.v1``, the system echoes it,
the intake recomputes it and compares in constant time. Deterministic, so a task re-sent after
a retry carries the same id (the system de-duplicates on it) and nothing needs storing.

The key comes from ``PRIVACY_TASK_ID_KEY`` (base64 of 32 bytes) or, on the dev stack, from
``<state>/task-id-key``, created once with mode 0600. Worker and intake must share it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

KEY_ENV = "PRIVACY_TASK_ID_KEY"
PREFIX = "t1."  # the id's version: a new derivation would be t2.

REQUEST_TASK = "request"
CONSENT_BATCH_TASK = "consent-batch"


class TaskIds:
    """Issue and check task ids with one secret key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError(f"{KEY_ENV}: the key must be at least 32 bytes")
        self._key = key

    def issue(self, scope: str, tenant: str, request_id: str, system: str) -> str:
        """The id of the task for ``system`` in ``request_id`` (a request, or a consent batch)."""
        message = "\n".join((scope, tenant, request_id.lower(), system)).encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def matches(self, task_id: str, scope: str, tenant: str, request_id: str, system: str) -> bool:
        """Whether ``task_id`` is the one issued for that task (constant-time comparison)."""
        expected = self.issue(scope, tenant, request_id, system)
        return hmac.compare_digest(task_id.encode("utf-8", "replace"), expected.encode())


def _dev_key(state_dir: Path) -> bytes:
    """The dev stack's key, created once; a process losing the creation race reads the winner's."""
    path = state_dir / "task-id-key"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        draft = state_dir / f".task-id-key.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(base64.b64encode(os.urandom(32)).decode())
        try:
            os.link(draft, path)  # atomic: the file appears whole, or not at all
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return base64.b64decode(path.read_text().strip())


def task_ids_from_environment(state_dir: Path) -> TaskIds:
    spec = os.environ.get(KEY_ENV)
    return TaskIds(base64.b64decode(spec) if spec else _dev_key(state_dir))
