"""Only kafka_confirm systems answer on privacy.confirmations.v1; the registry and its class
table name the same kinds (a new kind added to one only fails at start-up)."""

from pathlib import Path
from unittest.mock import MagicMock

from workers.connectors.registry import CLASSES, ConnectorRegistry, confirms_on_topic
from workers.runtime.task_ids import TaskIds


def test_only_the_kafka_confirm_kind_answers_on_the_confirmations_topic():
    assert {kind for kind in CLASSES if confirms_on_topic(kind)} == {"kafka_confirm"}
    assert not confirms_on_topic("no-such-kind")


def test_the_registry_serves_every_kind_of_the_class_table():
    registry = ConnectorRegistry(
        MagicMock(), MagicMock(), Path("/nonexistent"), MagicMock(), "http://api", TaskIds(bytes(32))
    )
    assert registry.kinds == frozenset(CLASSES)
    assert all(type(registry.for_kind(kind)) is cls for kind, cls in CLASSES.items())
