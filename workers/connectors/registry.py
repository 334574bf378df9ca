"""Pick the connector for a pack's ``connector.kind``."""

from __future__ import annotations

from pathlib import Path

from workers.connectors.base import Connector, ConnectorError
from workers.connectors.files import FilesConnector
from workers.connectors.kafka_confirm import KafkaConfirmConnector
from workers.connectors.manual import ManualConnector, UnreachableRecipient
from workers.connectors.opendsr import OpenDsrConnector
from workers.connectors.pools import DatabasePools
from workers.connectors.sql import SqlConnector
from workers.events import EventPublisher
from workers.opendsr.client import PartnerClient
from workers.opendsr.store import PartnerStore


class ConnectorRegistry:
    def __init__(
        self,
        pools: DatabasePools,
        publisher: EventPublisher,
        data_root: Path,
        partners: PartnerStore,
        callback_base_url: str,
    ) -> None:
        self.opendsr = OpenDsrConnector(partners, PartnerClient(), callback_base_url)
        self._by_kind: dict[str, Connector] = {
            "opendsr": self.opendsr,
            "sql": SqlConnector(pools),
            "files": FilesConnector(pools, data_root),
            "kafka_confirm": KafkaConfirmConnector(publisher),
            "manual": ManualConnector(),
            "none": UnreachableRecipient(),
        }

    def for_kind(self, kind: str) -> Connector:
        try:
            return self._by_kind[kind]
        except KeyError:
            raise ConnectorError(f"no connector of kind {kind!r}", retryable=False) from None
