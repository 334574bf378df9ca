"""Calls to one HTTP system as a careful client makes them: authenticated, paced, retried.

Per system (tenant + name) the pack may set ``limits`` (``per_second`` requests, at most
``concurrency`` at once; shared by every task of this worker), ``timeout_seconds`` per call,
and ``retries`` (``attempts``, ``backoff_seconds``, ``max_wait_seconds``). A 429 waits the
``Retry-After`` it names (seconds or an HTTP date), a 5xx or a broken connection backs off
exponentially; both are bounded, and then the failure is retryable for Temporal to try later.
A refused credential (401/403) or a bad request (other 4xx) is not retryable: the pack or the
secret must be mended. Error messages name the method and the path template, never the
rendered URL (it may hold an e-mail or its hash) and never a credential.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from multidict import CIMultiDict

from workers.connectors.base import ConnectorError
from workers.connectors.http.secrets import SecretStore


@dataclass
class Reply:
    """One HTTP answer: status, parsed JSON body (None when empty or not JSON), headers."""

    status: int
    body: Any
    headers: Mapping[str, str]


@dataclass
class Pace:
    """One system's pacing in this worker: a concurrency bound and a minimum spacing."""

    concurrency: asyncio.Semaphore
    interval: float
    next_at: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def turn(self) -> None:
        """Wait for this system's next free slot (leaky bucket of ``1 / per_second``)."""
        if self.interval <= 0:
            return
        async with self.lock:
            now = time.monotonic()
            wait = self.next_at - now
            self.next_at = max(now, self.next_at) + self.interval
        if wait > 0:
            await asyncio.sleep(wait)


def retry_after(value: str | None, default: float) -> float:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date)."""
    if not value:
        return default
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return default


class HttpSystems:
    """The HTTP client of every ``http`` system; one session, one pace per system."""

    def __init__(self, secrets: SecretStore) -> None:
        self.secrets = secrets
        self._paces: dict[str, Pace] = {}
        self._session: aiohttp.ClientSession | None = None

    def _pace(self, key: str, spec: Mapping[str, Any]) -> Pace:
        limits = spec.get("limits", {})
        pace = self._paces.get(key)
        if pace is None:
            per_second = float(limits.get("per_second", 0) or 0)
            pace = self._paces[key] = Pace(
                asyncio.Semaphore(int(limits.get("concurrency", 4))), 1 / per_second if per_second else 0.0
            )
        return pace

    def _headers(self, spec: Mapping[str, Any]) -> dict[str, str]:
        auth = spec.get("auth")
        headers = {"Accept": "application/json", "User-Agent": "privacy-orchestrator"}
        if not auth:
            return headers
        secret = self.secrets.resolve(auth["secret"])
        kind = auth.get("type", "bearer")
        if kind == "bearer":
            headers["Authorization"] = f"Bearer {secret}"
        elif kind == "basic":
            user = auth.get("username", "")
            pair = f"{user}:{secret}" if user else secret
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        elif kind == "header":
            headers[auth["header"]] = secret
        else:
            raise ConnectorError(f"unknown auth type {kind!r}", retryable=False)
        return headers

    async def call(
        self,
        system: str,
        spec: Mapping[str, Any],
        method: str,
        url: str,
        *,
        shown: str,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        form: Mapping[str, str] | None = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> Reply:
        """One call with pacing and bounded retries. ``shown`` is what errors may say of it
        (method and path template). 2xx, and any status in ``ok_statuses``, are answers."""
        retries = spec.get("retries", {})
        attempts = int(retries.get("attempts", 5))
        backoff = float(retries.get("backoff_seconds", 0.5))
        cap = float(retries.get("max_wait_seconds", 10))
        timeout = aiohttp.ClientTimeout(total=float(spec.get("timeout_seconds", 10)))
        pace = self._pace(system, spec)
        headers = self._headers(spec)
        problem = "no answer"
        for attempt in range(attempts):
            await pace.turn()
            wait = min(backoff * 2**attempt, cap)
            try:
                async with pace.concurrency:
                    reply = await self._send(method, url, headers, query, body, form, timeout)
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = f"{type(exc).__name__}"
            else:
                if 200 <= reply.status < 300 or reply.status in ok_statuses:
                    return reply
                if reply.status in (401, 403):
                    raise ConnectorError(
                        f"{shown}: credentials refused (HTTP {reply.status})", retryable=False
                    )
                if reply.status == 429:
                    asked = retry_after(reply.headers.get("Retry-After"), wait)
                    if asked > cap:
                        raise ConnectorError(f"{shown}: rate limited for {asked:.0f} s (HTTP 429)")
                    wait = asked
                    problem = "HTTP 429"
                elif reply.status >= 500 or reply.status in (408, 409):
                    problem = f"HTTP {reply.status}"
                else:
                    raise ConnectorError(f"{shown}: refused (HTTP {reply.status})", retryable=False)
            if attempt + 1 < attempts:
                await asyncio.sleep(wait)
        raise ConnectorError(f"{shown}: {problem} after {attempts} attempts")

    async def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        query: Mapping[str, str] | None,
        body: Any,
        form: Mapping[str, str] | None,
        timeout: aiohttp.ClientTimeout,
    ) -> Reply:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        async with self._session.request(
            method, url, headers=headers, params=dict(query or {}) or None, json=body,
            data=dict(form) if form is not None else None, timeout=timeout, allow_redirects=False,
        ) as response:  # fmt: skip
            raw = await response.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            return Reply(response.status, parsed, CIMultiDict(response.headers))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
