"""Pick the connector for a pack's ``connector.kind``: the one place kinds are named in code.

A new kind of system is a module in this package, one line here and its entry in the pack
schema; everything else asks the connector what it can do.
"""

from __future__ import annotations

from pathlib import Path

from workers.connectors.base import Connector, ConnectorError
from workers.connectors.files import FilesConnector
from workers.connectors.http.client import HttpSystems
from workers.connectors.http.connector import HttpConnector
from workers.connectors.http.secrets import SecretStore
from workers.connectors.kafka_confirm import KafkaConfirmConnector
from workers.connectors.manual import ManualConnector, UnreachableRecipient
from workers.connectors.opendsr.client import PartnerClient
from workers.connectors.opendsr.connector import OpenDsrConnector
from workers.connectors.pools import DatabasePools
from workers.connectors.sql import SqlConnector
from workers.ledger.partners import PartnerStore
from workers.runtime.events import EventPublisher
from workers.runtime.task_ids import TaskIds

# Each kind's class, for what its systems can do without a live connector (the intake asks).
CLASSES: dict[str, type[Connector]] = {
    "opendsr": OpenDsrConnector,
    "sql": SqlConnector,
    "files": FilesConnector,
    "kafka_confirm": KafkaConfirmConnector,
    "manual": ManualConnector,
    "none": UnreachableRecipient,
    "http": HttpConnector,
}


def confirms_on_topic(kind: str) -> bool:
    """Whether systems of ``kind`` answer on privacy.confirmations.v1 (no other answer is taken there)."""
    return kind in CLASSES and CLASSES[kind].confirms_on_topic


def answers_later(kind: str) -> bool:
    """Whether systems of ``kind`` answer after the call (a confirmation, a callback, an
    operator), so a request must wait for them; an unknown kind is assumed to."""
    return kind not in CLASSES or CLASSES[kind].answers_later


# The kinds whose connector can sweep a retention rule (asked before any connector exists: at
# start-up, when the schedules are made from the packs).
_CLASSES: dict[str, type[Connector]] = {
    "opendsr": OpenDsrConnector, "sql": SqlConnector, "files": FilesConnector,
    "kafka_confirm": KafkaConfirmConnector, "manual": ManualConnector, "none": UnreachableRecipient,
    "http": HttpConnector,
}  # fmt: skip
SWEEPING_KINDS = frozenset(kind for kind, cls in _CLASSES.items() if cls.sweeps)


class ConnectorRegistry:
    def __init__(
        self,
        pools: DatabasePools,
        publisher: EventPublisher,
        data_root: Path,
        partners: PartnerStore,
        callback_base_url: str,
        task_ids: TaskIds,
        secrets_dir: Path | None = None,
    ) -> None:
        self.http = HttpSystems(SecretStore(secrets_dir or data_root / "secrets"))
        self._by_kind: dict[str, Connector] = {
            "opendsr": OpenDsrConnector(partners, PartnerClient(), callback_base_url),
            "sql": SqlConnector(pools),
            "files": FilesConnector(pools, data_root),
            "kafka_confirm": KafkaConfirmConnector(publisher, task_ids),
            "manual": ManualConnector(),
            "none": UnreachableRecipient(),
            "http": HttpConnector(self.http),
        }
        if {kind: type(c) for kind, c in self._by_kind.items()} != CLASSES:
            raise RuntimeError("ConnectorRegistry and CLASSES disagree: add a new kind to both")

    @staticmethod
    def can_sweep(kind: str) -> bool:
        """Whether systems of this kind can carry out retention rules (their rows carry dates)."""
        return kind in SWEEPING_KINDS

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._by_kind)

    def for_kind(self, kind: str) -> Connector:
        try:
            return self._by_kind[kind]
        except KeyError:
            raise ConnectorError(f"no connector of kind {kind!r}", retryable=False) from None
