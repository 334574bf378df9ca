"""Wiring of the activity worker: ledger, Kafka publisher, connectors, registered activities."""

from __future__ import annotations

from contextlib import AsyncExitStack

from temporalio.client import Client
from temporalio.worker import Worker

from workers.activities import RequestActivities
from workers.codec import codec_from_environment
from workers.connectors.pools import DatabasePools
from workers.connectors.registry import ConnectorRegistry
from workers.consent_activities import ConsentActivities
from workers.events import EventPublisher
from workers.ledger import Ledger
from workers.settings import Settings
from workers.transfers import HttpTransfers


async def build_activity_worker(client: Client, settings: Settings, stack: AsyncExitStack) -> Worker:
    """An activity-only worker on the request task queue; resources close with ``stack``."""
    ledger = await Ledger.connect(settings.pg_dsn())
    stack.push_async_callback(ledger.close)
    publisher = EventPublisher(settings.kafka_bootstrap)
    await publisher.start()
    stack.push_async_callback(publisher.stop)
    pools = DatabasePools(settings.pg_dsn)
    stack.push_async_callback(pools.close)
    connectors = ConnectorRegistry(
        pools, publisher, settings.sandbox_dir, ledger.partners, settings.callback_base_url
    )
    activities = RequestActivities(ledger, publisher, connectors, HttpTransfers())
    consent = ConsentActivities(
        ledger.consent, codec_from_environment(settings.state_dir), publisher, connectors
    )
    return Worker(
        client,
        task_queue=settings.task_queue,
        activities=[
            activities.record_request_status,
            activities.apply_system_action,
            activities.record_system_outcome,
            activities.compile_report,
            activities.legal_holds_for,
            activities.count_previous_copies,
            activities.discard_identity_document,
            activities.alert_operator,
            activities.acknowledge_receipt,
            activities.transfer_export,
            activities.erase_after_retention,
            activities.match_identities,
            activities.find_duplicate,
            activities.cancel_partner_request,
            consent.record_consent_batch,
            consent.apply_consent_batch,
            consent.record_consent_outcome,
        ],
        max_concurrent_activities=50,
    )
