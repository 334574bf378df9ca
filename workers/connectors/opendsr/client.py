"""HTTP calls to an OpenDSR partner: submit, ask the status, cancel, and read its discovery.

Every answer a partner signs is checked against the certificate registered for it. Errors
are classified for the caller: ``PartnerUnavailable`` (no answer, 5xx: try again later) and
``PartnerRefused`` (4xx: the partner will not take this request as it is).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from opentelemetry import propagate, trace

from workers.connectors.opendsr.signatures import certificate_problem, read_headers, verify

TRACER = trace.get_tracer("privacy.opendsr")


class PartnerUnavailable(Exception):
    """The partner did not answer usefully (timeout, connection refused, 5xx)."""


class PartnerRefused(Exception):
    """The partner answered 4xx: the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


@dataclass(frozen=True)
class PartnerAnswer:
    status: int
    body: dict[str, Any]
    signed: bool  # carried a signature that the registered certificate verifies


@dataclass(frozen=True)
class Partner:
    name: str
    base_url: str
    domain: str
    certificate_pem: str


def _error_message(body: Any, fallback: str) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or fallback)
    return fallback


class PartnerClient:
    def __init__(self, timeout_seconds: float = 10) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def _call(self, partner: Partner, method: str, path: str, body: Any = None) -> PartnerAnswer:
        url = f"{partner.base_url}{path}"
        headers: dict[str, str] = {"Accept": "application/json"}
        with TRACER.start_as_current_span(
            f"opendsr {method} {path.split('/')[1]}",
            attributes={"privacy.partner": partner.name, "http.request.method": method},
        ) as span:
            propagate.inject(headers)  # the partner call joins the request's trace
            try:
                async with (
                    aiohttp.ClientSession(timeout=self._timeout) as session,
                    session.request(method, url, json=body, headers=headers) as reply,
                ):
                    raw = await reply.read()
                    span.set_attribute("http.response.status_code", reply.status)
                    signed = read_headers(reply.headers)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise PartnerUnavailable(f"{partner.name}: {type(exc).__name__} {exc}".strip()) from exc
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {}
        if reply.status >= 500:
            raise PartnerUnavailable(f"{partner.name}: HTTP {reply.status}")
        if reply.status >= 400 and reply.status != 404:
            raise PartnerRefused(reply.status, _error_message(parsed, raw[:200].decode(errors="replace")))
        verified = signed.signature is not None and verify(
            partner.certificate_pem.encode(), raw, signed.signature
        )
        if signed.signature is not None and not verified:
            # A forged or corrupted answer is no answer: ask again later.
            raise PartnerUnavailable(f"{partner.name}: the answer's signature does not verify")
        return PartnerAnswer(reply.status, parsed if isinstance(parsed, dict) else {}, verified)

    async def submit(self, partner: Partner, body: dict[str, Any]) -> PartnerAnswer:
        return await self._call(partner, "POST", "/requests", body)

    async def status(self, partner: Partner, subject_request_id: str) -> PartnerAnswer:
        return await self._call(partner, "GET", f"/requests/{subject_request_id}")

    async def cancel(self, partner: Partner, subject_request_id: str) -> PartnerAnswer:
        return await self._call(partner, "DELETE", f"/requests/{subject_request_id}")

    async def discover(self, base_url: str) -> tuple[str, str, dict[str, Any]]:
        """(domain, certificate PEM, discovery document) of the partner at ``base_url``."""
        base_url = base_url.rstrip("/")
        try:
            async with aiohttp.ClientSession(timeout=self._timeout) as session:
                async with session.get(f"{base_url}/discovery") as reply:
                    if reply.status != 200:
                        raise PartnerRefused(reply.status, "discovery failed")
                    discovery = await reply.json(content_type=None)
                    domain = read_headers(reply.headers).domain or ""
                cert_url = str(discovery.get("processor_certificate") or "")
                if not cert_url:
                    raise PartnerRefused(200, "the discovery document names no processor_certificate")
                async with session.get(cert_url) as reply:
                    if reply.status != 200:
                        raise PartnerRefused(reply.status, f"certificate download from {cert_url} failed")
                    pem = await reply.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PartnerUnavailable(f"{base_url}: {type(exc).__name__} {exc}".strip()) from exc
        if not domain:
            raise PartnerRefused(200, "the discovery answer has no X-OpenDSR-Processor-Domain header")
        problem = certificate_problem(pem.encode(), domain)
        if problem:
            raise PartnerRefused(200, problem)
        return domain, pem, discovery
