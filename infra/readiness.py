"""Real readiness of the stack's servers, beyond an open port: PostgreSQL answers a query, the
Temporal namespace is registered and described, the broker answers a metadata request.

An open port is not readiness: right after a restart PostgreSQL accepts connections and refuses
them with "the database system is starting up" (CannotConnectNowError); Temporal's frontend
listens before its namespace exists. Each check is one short attempt, False on any failure; the
supervisor polls it until its deadline. Sync (the supervisor is), each runs its own event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg
from aiokafka.client import AIOKafkaClient
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

log = logging.getLogger(__name__)
ATTEMPT_SECONDS = 3.0


def _answers(check: Callable[[], Awaitable[object]]) -> bool:
    async def attempt() -> object:
        return await asyncio.wait_for(check(), ATTEMPT_SECONDS)

    try:
        asyncio.run(attempt())
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
        log.debug("not ready yet: %s", type(exc).__name__)
        return False
    return True


def postgres_ready(host: str, port: int, user: str) -> bool:
    """PostgreSQL accepts a connection and answers ``SELECT 1`` (not merely "starting up")."""

    async def query() -> object:
        conn = await asyncpg.connect(
            host=host, port=port, user=user, database="postgres", timeout=ATTEMPT_SECONDS
        )
        try:
            return await conn.fetchval("SELECT 1")
        finally:
            await conn.close()

    return _answers(query)


def temporal_ready(address: str, namespace: str) -> bool:
    """The frontend answers and the namespace our workers use is registered."""

    async def describe() -> object:
        client = await Client.connect(address, namespace=namespace)
        return await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))

    return _answers(describe)


def broker_ready(bootstrap: str) -> bool:
    """The Kafka-protocol broker answers a metadata request."""

    async def metadata() -> object:
        client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=int(ATTEMPT_SECONDS * 1000))
        try:
            await client.bootstrap()
            return client.cluster.brokers()
        finally:
            await client.close()

    return _answers(metadata)
