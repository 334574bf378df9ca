"""The systems of a consent batch act at the same time: its changes are read and decrypted once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from workers.activities.consent import ConsentActivities
from workers.messages.consent import ConsentEntry, entries_to_json

ENTRIES = [
    ConsentEntry(
        "e1", {"email": "ada@example.org"}, ["r1"], ["marketing"], "withdraw", "2026-01-01T00:00:00+00:00"
    )
]


class Store:
    def __init__(self) -> None:
        self.reads = 0
        self.missing = False

    async def sealed_batch(self, batch_id: str) -> tuple[str, bytes] | None:
        self.reads += 1
        await asyncio.sleep(0.05)  # a round trip: the other systems ask meanwhile
        return None if self.missing else ("k1", entries_to_json(ENTRIES))


class Codec:
    def unseal(self, key_id: str, sealed: bytes, associated: str) -> bytes:
        return sealed


def activities(store: Store) -> ConsentActivities:
    codec: Any = Codec()
    return ConsentActivities(store, codec, evidence=None, connectors=None)  # type: ignore[arg-type]


async def test_systems_acting_at_once_share_one_read_of_the_batch():
    store = Store()
    acts = activities(store)
    results = await asyncio.gather(*(acts._entries("b1") for _ in range(3)))
    assert store.reads == 1
    assert results == [ENTRIES, ENTRIES, ENTRIES]
    await acts._entries("b1")
    assert store.reads == 1  # still cached


async def test_a_failed_read_is_not_kept():
    store = Store()
    store.missing = True
    acts = activities(store)
    with pytest.raises(ApplicationError, match="no changes in the ledger"):
        await acts._entries("b2")
    store.missing = False
    assert await acts._entries("b2") == ENTRIES
    assert store.reads == 2
