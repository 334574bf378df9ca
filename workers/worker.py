"""Wiring of the activities: ledger, Kafka publisher, connectors, the bound methods a worker registers."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

from workers.activities.consent import ConsentActivities
from workers.activities.definitions import IMPLEMENTS
from workers.activities.evidence import Evidence
from workers.activities.identities import IdentityActivities
from workers.activities.reports import ReportActivities
from workers.activities.requests import RequestActivities
from workers.activities.retention import RetentionActivities
from workers.connectors.pools import DatabasePools
from workers.connectors.registry import ConnectorRegistry
from workers.connectors.transfers import HttpTransfers
from workers.ledger import Ledger
from workers.runtime.codec import codec_from_environment
from workers.runtime.events import EventPublisher
from workers.runtime.secrets import secret_keys
from workers.runtime.settings import Settings
from workers.runtime.task_ids import task_ids_from_environment


def activities_of(*holders: object) -> list[Callable[..., Any]]:
    """Every bound method of ``holders`` that implements an activity (marked ``@implements``)."""
    found: list[Callable[..., Any]] = []
    for holder in holders:
        for _, method in inspect.getmembers(holder, inspect.ismethod):
            if getattr(method, IMPLEMENTS, None):
                found.append(method)
    return found


async def build_activities(settings: Settings, stack: AsyncExitStack) -> list[Callable[..., Any]]:
    """Every activity, bound to its resources (ledger, Kafka publisher, connectors), which close
    with ``stack``. They are registered on the same worker as the workflows: a workflow's own
    bookkeeping steps run there as local activities (``orchestrator.workflows.ledger_steps``)."""
    codec = codec_from_environment(settings.state_dir)
    keys = secret_keys(settings.state_dir)
    ledger = await Ledger.connect(settings.pg_dsn(), sealer=codec)
    stack.push_async_callback(ledger.close)
    publisher = EventPublisher(settings.kafka_bootstrap)
    await publisher.start()
    stack.push_async_callback(publisher.stop)
    pools = DatabasePools(settings.pg_dsn)
    stack.push_async_callback(pools.close)
    connectors = ConnectorRegistry(
        pools,
        publisher,
        settings.sandbox_dir,
        ledger.partners,
        settings.callback_base_url,
        task_ids_from_environment(settings.state_dir),
        settings.secrets_dir,
    )
    stack.push_async_callback(connectors.http.close)
    evidence = Evidence(ledger, publisher)
    return activities_of(
        RequestActivities(evidence, connectors, keys.subject_ref),
        ReportActivities(evidence, HttpTransfers()),
        ConsentActivities(ledger.consent, codec, evidence, connectors),
        IdentityActivities(ledger.identities, codec, connectors),
        RetentionActivities(evidence, connectors, keys.subject_ref),
    )
