"""How activities are retried, the same for every workflow."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# Downstream systems go down for minutes or hours: keep retrying, but back off to a minute.
# Configuration errors (a broken pack) are not retried; an operator fixes and retries them.
CONNECTOR_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    non_retryable_error_types=["ConnectorConfigError"],
)
# Our own ledger and Kafka: retried until they are back.
LEDGER_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
