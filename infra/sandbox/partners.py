"""Sandbox partner companies speaking OpenDSR v2 over HTTP, each with its own signing key.

One listener per partner on its own loopback port (kept across restarts with its key, so
its registration stays valid). Behaviours, from infra/sandbox/partners.json:
``immediate`` calls back ``in_progress`` then ``completed`` at once; ``slow`` completes after
``delay_seconds`` (PRIVACY_SANDBOX_PARTNER_DELAY overrides); ``flaky`` answers 503 to the
first ``failures`` submissions, then sends every callback twice and ``completed`` before
``in_progress``; ``silent`` accepts requests and never calls back (status stays pending).
Requests are kept in ``requests.jsonl`` (a line per change) so a restarted partner remembers them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from infra.processes import free_port
from workers.connectors.opendsr.signatures import new_identity, sign

log = logging.getLogger("sandbox.partners")
CONFIG = Path(__file__).with_name("partners.json")
CONTROLLER_ID = "privacy-orchestrator"


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class SandboxPartner:
    partner: str
    domain: str
    behaviour: str
    folder: Path
    delay_seconds: float = 20.0
    failures: int = 2
    port: int = 0
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    submissions: int = 0
    _key: bytes = b""
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def load(self) -> None:
        """Key, certificate, port and remembered requests: made on first start, then reused."""
        self.folder.mkdir(parents=True, exist_ok=True)
        key_file, cert_file, port_file = (self.folder / n for n in ("key.pem", "cert.pem", "port"))
        if not key_file.exists():
            key, cert = new_identity(self.domain)
            cert_file.write_bytes(cert)
            key_file.write_bytes(key)
            key_file.chmod(0o600)
        self._key = key_file.read_bytes()
        if not port_file.exists():
            port_file.write_text(str(free_port()))
        self.port = int(port_file.read_text())
        self.requests = {}
        journal = self.folder / "requests.jsonl"
        if journal.exists():  # each line: one request as it was last changed (the last line wins)
            for line in journal.read_text().splitlines():
                if line.strip():
                    entry = json.loads(line)
                    self.requests[entry.pop("subject_request_id")] = entry

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _save(self, request_id: str) -> None:
        """Append the request's new state to the journal: one line per change, not the whole
        book rewritten each time (thousands of open requests made that quadratic)."""
        line = json.dumps({"subject_request_id": request_id, **self.requests[request_id]})
        with (self.folder / "requests.jsonl").open("a") as journal:
            journal.write(line + "\n")

    def _signed(self, body: dict[str, Any], status: int = 200) -> web.Response:
        raw = json.dumps(body).encode()
        headers = {"X-OpenDSR-Processor-Domain": self.domain, "X-OpenDSR-Signature": sign(self._key, raw)}
        return web.Response(body=raw, status=status, headers=headers, content_type="application/json")

    # -- the OpenDSR endpoints ---------------------------------------------------------------
    async def discovery(self, request: web.Request) -> web.Response:
        return self._signed(
            {
                "api_version": "2.0",
                "supported_identities": [
                    {"identity_type": "email", "identity_format": "raw"},
                    {"identity_type": "controller_customer_id", "identity_format": "raw"},
                ],
                "supported_subject_request_types": ["access", "portability", "erasure"],
                "processor_certificate": f"{self.base_url}/cert.pem",
            }
        )

    async def certificate(self, request: web.Request) -> web.Response:
        return web.Response(
            body=(self.folder / "cert.pem").read_bytes(), content_type="application/x-pem-file"
        )

    async def submit(self, request: web.Request) -> web.Response:
        self.submissions += 1
        if self.behaviour == "flaky" and self.submissions <= self.failures:
            return web.json_response({"error": {"code": 503, "message": "try again later"}}, status=503)
        try:
            body = await request.json()
            request_id = str(body["subject_request_id"])
            callbacks = list(body.get("status_callback_urls") or [])
        except (ValueError, KeyError, TypeError):
            return web.json_response(
                {"error": {"code": 400, "message": "subject_request_id is required"}}, status=400
            )
        expected = datetime.now(UTC) + timedelta(
            seconds=self.delay_seconds if self.behaviour == "slow" else 1
        )
        known = self.requests.get(request_id)
        if known is None:  # a repeated submission is the same request, not a second one
            known = self.requests[request_id] = {
                "status": "pending",
                "callbacks": callbacks,
                "expected": expected.isoformat(),
                "received": _now(),
                "type": body.get("subject_request_type"),
            }
            self._save(request_id)
            if self.behaviour != "silent":
                self._spawn(self._work(request_id))
        return self._signed(
            {
                "controller_id": CONTROLLER_ID,
                "expected_completion_time": known["expected"],
                "received_time": known["received"],
                "subject_request_id": request_id,
            },
            status=201,
        )

    async def status(self, request: web.Request) -> web.Response:
        known = self.requests.get(request.match_info["id"])
        if known is None:
            return web.json_response({"error": {"code": 404, "message": "no such request"}}, status=404)
        return self._signed(self._status_body(request.match_info["id"], known))

    async def cancel(self, request: web.Request) -> web.Response:
        request_id = request.match_info["id"]
        known = self.requests.get(request_id)
        if known is None:
            return web.json_response({"error": {"code": 404, "message": "no such request"}}, status=404)
        if known["status"] != "completed":
            known["status"] = "cancelled"
            self._save(request_id)
        return self._signed(
            {"controller_id": CONTROLLER_ID, "subject_request_id": request_id, "received_time": _now()},
            status=202,
        )

    # -- doing the work and calling back --------------------------------------------------------
    def _status_body(self, request_id: str, known: dict[str, Any], callback_url: str = "") -> dict[str, Any]:
        body = {
            "controller_id": CONTROLLER_ID,
            "expected_completion_time": known["expected"],
            "subject_request_id": request_id,
            "request_status": known["status"],
            "api_version": "2.0",
            "sent_time": _now(),
        }
        if callback_url:
            body["status_callback_url"] = callback_url
        return body

    def resume(self) -> int:
        """After a restart, carry on with what was received and not finished (as a real partner
        with a persistent queue would); the number of requests resumed."""
        if self.behaviour == "silent":
            return 0
        unfinished = [
            rid for rid, known in self.requests.items() if known["status"] in ("pending", "in_progress")
        ]
        for request_id in unfinished:
            self._spawn(self._work(request_id))
        return len(unfinished)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _work(self, request_id: str) -> None:
        known = self.requests[request_id]
        if self.behaviour == "flaky":
            # Out of order and twice: completed first, then a late in_progress, each sent twice.
            for status in ("completed", "in_progress"):
                if known["status"] != "cancelled":
                    await self._report(request_id, status, times=2)
            return
        await self._report(request_id, "in_progress")
        await asyncio.sleep(self.delay_seconds if self.behaviour == "slow" else 0.2)
        await self._report(request_id, "completed")

    async def _report(self, request_id: str, status: str, times: int = 1) -> None:
        known = self.requests[request_id]
        if known["status"] == "cancelled":
            return
        order = ("pending", "in_progress", "completed")
        if order.index(status) > order.index(known["status"]):
            known["status"] = status
            self._save(request_id)
        for url in known["callbacks"]:
            raw = json.dumps({**self._status_body(request_id, known, url), "request_status": status}).encode()
            headers = {
                "Content-Type": "application/json",
                "X-OpenDSR-Processor-Domain": self.domain,
                "X-OpenDSR-Signature": sign(self._key, raw),
            }
            delivered = [await _deliver(url, raw, headers) for _ in range(times)]
            if all(delivered) and order.index(status) >= order.index(known.get("delivered", "pending")):
                known["delivered"] = status
                self._save(request_id)


async def _deliver(url: str, raw: bytes, headers: dict[str, str], attempts: int = 10) -> bool:
    """POST a callback, retrying failures (no answer, 5xx) with back-off as the protocol asks;
    True once the controller took it (a 4xx refusal is final too: retrying would not help)."""
    delay = 0.5
    for _ in range(attempts):
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session,
                session.post(url, data=raw, headers=headers) as reply,
            ):
                if reply.status < 500:
                    if reply.status >= 400:
                        log.warning("callback refused by the controller: HTTP %s", reply.status)
                    return True
        except (aiohttp.ClientError, TimeoutError):
            pass
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10.0)
    return False


def load_partners(sandbox_dir: Path) -> list[SandboxPartner]:
    delay = os.environ.get("PRIVACY_SANDBOX_PARTNER_DELAY")
    partners = []
    for spec in json.loads(CONFIG.read_text())["partners"]:
        partner = SandboxPartner(
            partner=spec["partner"],
            domain=spec["domain"],
            behaviour=spec["behaviour"],
            folder=sandbox_dir / "partners" / spec["partner"],
            delay_seconds=float(delay or spec.get("delay_seconds", 20)),
            failures=int(spec.get("failures", 2)),
        )
        partner.load()
        partners.append(partner)
    return partners


async def start_partners(sandbox_dir: Path) -> list[web.AppRunner]:
    """Every sandbox partner listening on its port; the directory file tells where."""
    runners = []
    directory = {}
    for partner in load_partners(sandbox_dir):
        app = web.Application()
        app.router.add_get("/discovery", partner.discovery)
        app.router.add_get("/cert.pem", partner.certificate)
        app.router.add_post("/requests", partner.submit)
        app.router.add_get("/requests/{id}", partner.status)
        app.router.add_delete("/requests/{id}", partner.cancel)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", partner.port).start()
        runners.append(runner)
        directory[partner.partner] = {"base_url": partner.base_url, "behaviour": partner.behaviour}
        resumed = partner.resume()
        if resumed:
            log.info("%s resumed %d unfinished request(s)", partner.partner, resumed)
    (sandbox_dir / "partners" / "directory.json").write_text(json.dumps(directory, indent=2))
    log.info(
        "sandbox partners listening: %s", ", ".join(f"{n} {d['base_url']}" for n, d in directory.items())
    )
    return runners
