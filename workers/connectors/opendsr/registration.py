"""Registering a partner: read its discovery document, fetch and check its certificate, keep both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workers.connectors.opendsr.client import PartnerClient
from workers.ledger.partners import PartnerStore


async def register_partner(store: PartnerStore, partner: str, base_url: str) -> dict[str, Any]:
    """Register ``partner`` at ``base_url``; raises PartnerUnavailable/PartnerRefused with the reason."""
    domain, certificate, discovery = await PartnerClient().discover(base_url)
    await store.register(partner, base_url, domain, certificate)
    return {
        "partner": partner,
        "base_url": base_url.rstrip("/"),
        "domain": domain,
        "supported_subject_request_types": discovery.get("supported_subject_request_types", []),
    }


async def register_directory(store: PartnerStore, directory_file: Path) -> list[dict[str, Any]]:
    """Register every partner of a directory file ({name: {"base_url": ...}}), as the sandbox writes."""
    directory = json.loads(directory_file.read_text())
    return [
        await register_partner(store, name, entry["base_url"]) for name, entry in sorted(directory.items())
    ]
