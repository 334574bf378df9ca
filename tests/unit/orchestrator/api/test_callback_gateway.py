"""The callback gateway's bookkeeping when Temporal cannot take a callback: kept, 503, applied on
the partner's retry, then a duplicate. In-memory stand-ins for the ledger and Temporal."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from temporalio.service import RPCError, RPCStatusCode

from orchestrator.api.callbacks import CallbackGateway
from schemas.vocabulary import partner_status_advances
from workers.connectors.opendsr.protocol import callback_path
from workers.connectors.opendsr.signatures import new_identity, sign

DOMAIN = "opendsr.partner.example"
KEY, CERT = new_identity(DOMAIN)
BASE = "http://controller.example"
SRID = str(uuid.uuid4())
SENT = {
    "subject_request_id": SRID,
    "request_id": str(uuid.uuid4()),
    "system": "notify-p",
    "tenant": "t",
    "partner": "p",
}


class Store:
    def __init__(self) -> None:
        self.callbacks: dict[str, bool] = {}  # digest -> applied
        self.status = "pending"

    async def partner_by_domain(self, domain: str) -> dict[str, Any] | None:
        return {"partner": "p", "certificate_pem": CERT.decode()} if domain == DOMAIN else None

    async def sent_request(self, subject_request_id: str) -> dict[str, Any] | None:
        return SENT if subject_request_id == SRID else None

    async def keep_callback(self, digest: str, *args: Any) -> bool:
        if digest not in self.callbacks:
            self.callbacks[digest] = False
            return True
        return not self.callbacks[digest]

    async def applied(self, digest: str) -> None:
        self.callbacks[digest] = True

    async def advance(self, subject_request_id: str, status: str, expected: Any = None) -> str:
        if partner_status_advances(self.status, status):
            self.status = status
        return self.status


class Ledger:
    def __init__(self) -> None:
        self.partners = Store()


class Handle:
    def __init__(self, down: list[bool]) -> None:
        self.down = down
        self.updates: list[Any] = []

    async def execute_update(self, name: str, update: Any, **kwargs: Any) -> str:
        if self.down[0]:
            raise RPCError("tcp connect error", RPCStatusCode.UNAVAILABLE, b"")
        self.updates.append(update)
        return "erased"

    async def signal(self, name: str, value: Any) -> None:
        if self.down[0]:
            raise RPCError("tcp connect error", RPCStatusCode.UNAVAILABLE, b"")


class Client:
    def __init__(self) -> None:
        self.down = [True]
        self.handle = Handle(self.down)

    def get_workflow_handle(self, workflow_id: str) -> Handle:
        return self.handle


def _callback() -> tuple[bytes, dict[str, str]]:
    body = {
        "subject_request_id": SRID,
        "request_status": "completed",
        "status_callback_url": BASE + callback_path("t", "notify-p"),
        "sent_time": datetime.now(UTC).isoformat(),
    }
    raw = json.dumps(body).encode()
    return raw, {"X-OpenDSR-Processor-Domain": DOMAIN, "X-OpenDSR-Signature": sign(KEY, raw)}


async def test_a_callback_temporal_could_not_take_is_applied_when_the_partner_sends_it_again():
    client = Client()
    gateway = CallbackGateway(Ledger(), client, BASE)  # type: ignore[arg-type]
    raw, headers = _callback()

    first = await gateway.receive("t", "notify-p", raw, headers)
    assert first.status == 503 and "send it again" in first.message
    assert client.handle.updates == []

    client.down[0] = False  # Temporal is back; the partner retries the very same callback
    second = await gateway.receive("t", "notify-p", raw, headers)
    assert (second.status, second.result) == (200, "erased"), "kept earlier, applied now"
    assert len(client.handle.updates) == 1

    third = await gateway.receive("t", "notify-p", raw, headers)
    assert (third.status, third.result) == (200, "duplicate")
    assert len(client.handle.updates) == 1, "a duplicate changes nothing"
