"""What every sandbox SaaS API shares: its data on disk, its key, its port, and real APIs' quirks.

Each instance (``infra/sandbox/<tenant>/saas_<name>.json``) keeps its data in
``<sandbox>/saas/<name>/state.json``, read on every request and replaced atomically on every
write, so a test reads exactly what the vendor holds, as an auditor would. On first start it
makes an API key and a port, and writes them for the worker, as an operator would, to the
secrets folder: ``<name>_token`` and ``<name>_url`` (mode 0600), which the pack references as
``file:<name>_token``. Quirks: every ``throttle_every``-th request is answered 429 with
``Retry-After``, and a record deleted less than ``lag_seconds`` ago still shows in searches
(``visible``): search indexes lag behind writes.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from infra.processes import free_port

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def write_private(path: Path, value: str) -> None:
    """A file readable by its owner only (secrets, and endpoints referenced like secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(value)
    path.chmod(0o600)


@dataclass
class SaasInstance:
    """One tenant's account at one sandbox SaaS tool."""

    name: str
    api: str
    folder: Path
    seed: dict[str, Any]
    throttle_every: int = 0
    retry_after: int = 1
    lag_seconds: float = 0.0
    port: int = 0
    token: str = ""
    _served: int = field(default=0, repr=False)

    @property
    def state_file(self) -> Path:
        return self.folder / "state.json"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def prepare(self, secrets_dir: Path) -> None:
        """Key and port, made on first start and kept (the worker's secrets stay valid)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        key_file, port_file = self.folder / "token", self.folder / "port"
        if not key_file.exists():
            write_private(key_file, secrets.token_urlsafe(24))
        if not port_file.exists():
            port_file.write_text(str(free_port()))
        self.token = key_file.read_text().strip()
        self.port = int(port_file.read_text())
        write_private(secrets_dir / f"{self.name}_token", self.token)
        write_private(secrets_dir / f"{self.name}_url", self.base_url)
        if not self.state_file.exists():
            self.reseed()

    # -- the data on disk ------------------------------------------------------------------------
    def load(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads(self.state_file.read_text("utf-8"))
        return state

    def save(self, state: dict[str, Any]) -> None:
        """Write the state; a search index's stale copies older than the lag are gone for good."""
        now = time.time()
        for collection, gone in state.get("deleted", {}).items():
            state["deleted"][collection] = {k: g for k, g in gone.items() if now - g["at"] < self.lag_seconds}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1), "utf-8")
        tmp.replace(self.state_file)

    def reseed(self) -> None:
        """Restore the demo people (and drop what the tool did since); counters are kept."""
        self.folder.mkdir(parents=True, exist_ok=True)
        stats = self.load().get("stats", {}) if self.state_file.exists() else {}
        self.save({**json.loads(json.dumps(self.seed)), "deleted": {}, "jobs": {}, "stats": stats})

    @staticmethod
    def delete(state: dict[str, Any], collection: str, key: str) -> dict[str, Any]:
        """Remove a record, keeping a tombstone so searches can lag behind for a moment."""
        record: dict[str, Any] = state[collection].pop(key)
        state["deleted"].setdefault(collection, {})[key] = {"at": time.time(), "record": record}
        return record

    def visible(self, state: dict[str, Any], collection: str) -> list[dict[str, Any]]:
        """What a search sees: the records, plus those deleted less than ``lag_seconds`` ago."""
        now = time.time()
        lagging = [
            gone["record"]
            for gone in state["deleted"].get(collection, {}).values()
            if now - gone["at"] < self.lag_seconds
        ]
        return [*state[collection].values(), *lagging]

    # -- the HTTP front: key check and throttling ------------------------------------------------
    def authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if header == f"Bearer {self.token}":
            return True
        if header.startswith("Basic "):
            try:
                _, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return False
            return secrets.compare_digest(password, self.token)
        return False

    @web.middleware
    async def front(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Refuse a missing key, throttle now and then, count what was served."""
        if not self.authorised(request):
            return web.json_response({"error": "invalid API key"}, status=401)
        self._served += 1
        state = self.load()
        stats = state.setdefault("stats", {})
        stats["requests"] = stats.get("requests", 0) + 1
        if self.throttle_every and self._served % self.throttle_every == 0:
            stats["throttled"] = stats.get("throttled", 0) + 1
            self.save(state)
            return web.json_response(
                {"error": "rate limit exceeded"}, status=429, headers={"Retry-After": str(self.retry_after)}
            )
        self.save(state)
        return await handler(request)


def not_found(message: str = "no such resource") -> web.Response:
    return web.json_response({"error": {"message": message}}, status=404)
