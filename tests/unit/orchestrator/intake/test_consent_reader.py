"""The consent reader: windows of at most PRIVACY_CONSENT_BATCH_MAX changes, offsets committed
only for windows handled (and every one before them), a failed window read again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import TopicPartition

from orchestrator.intake.consent_reader import ConsentReader, ConsentRecord, TakeOverFromFaust
from schemas import CONSENT_TOPIC
from workers.runtime.settings import Settings


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    value: bytes


@dataclass
class FakeConsumer:
    """Serves each partition's messages from its position on; commits and seeks are recorded."""

    log: dict[int, list[bytes]]
    position: dict[int, int] = field(default_factory=dict)
    commits: list[dict[TopicPartition, int]] = field(default_factory=list)
    committed_at: dict[int, int] = field(default_factory=dict)

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Message]]:
        out: dict[TopicPartition, list[Message]] = {}
        for partition, values in self.log.items():
            start = self.position.get(partition, 0)
            taken = values[start : start + max_records - sum(len(v) for v in out.values())]
            if taken:
                out[TopicPartition(CONSENT_TOPIC, partition)] = [
                    Message(CONSENT_TOPIC, partition, start + i, v) for i, v in enumerate(taken)
                ]
                self.position[partition] = start + len(taken)
        if not out:
            await asyncio.sleep(min(timeout_ms, 20) / 1000)
        return out

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(dict(offsets))
        for tp, offset in offsets.items():
            self.committed_at[tp.partition] = offset

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(CONSENT_TOPIC, p) for p in self.log}

    async def committed(self, tp: TopicPartition) -> int | None:
        return self.committed_at.get(tp.partition)

    async def seek_to_beginning(self, tp: TopicPartition) -> None:
        self.position[tp.partition] = 0

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.position[tp.partition] = offset


async def eventually(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def reader(monkeypatch: pytest.MonkeyPatch, handle: Any, batch_max: int) -> ConsentReader:
    monkeypatch.setenv("PRIVACY_CONSENT_BATCH_MAX", str(batch_max))
    monkeypatch.setenv("PRIVACY_CONSENT_WINDOW_SECONDS", "0.05")
    made = ConsentReader(Settings(), handle)
    made.rewind_pause = 0.01

    async def no_faust_offsets(partitions: set[TopicPartition]) -> dict[TopicPartition, int]:
        return {}  # no faust agent of an earlier release ever read the topic

    monkeypatch.setattr(made, "faust_offsets", no_faust_offsets)
    return made


async def serving(consent_reader: ConsentReader, consumer: FakeConsumer) -> asyncio.Task[None]:
    return asyncio.create_task(consent_reader.serve(consumer))  # type: ignore[arg-type]


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_windows_hold_at_most_the_maximum_and_every_change_once(monkeypatch: pytest.MonkeyPatch):
    windows: list[list[ConsentRecord]] = []

    async def handle(window: list[ConsentRecord]) -> None:
        windows.append(window)

    consumer = FakeConsumer({0: [b"a%d" % i for i in range(7)], 1: [b"b%d" % i for i in range(5)]})
    task = await serving(reader(monkeypatch, handle, batch_max=5), consumer)
    await eventually(lambda: consumer.committed_at == {0: 7, 1: 5})
    await stop(task)
    assert all(len(w) <= 5 for w in windows)
    seen = [(r.partition, r.offset, r.raw) for w in windows for r in w]
    assert sorted(seen) == sorted(
        [(0, i, b"a%d" % i) for i in range(7)] + [(1, i, b"b%d" % i) for i in range(5)]
    )


async def test_a_window_is_committed_only_after_every_window_before_it(monkeypatch: pytest.MonkeyPatch):
    release_first = asyncio.Event()
    handled: list[int] = []

    async def handle(window: list[ConsentRecord]) -> None:
        if window[0].offset == 0:
            await release_first.wait()  # the first window is slow; the second finishes before it
        handled.append(window[0].offset)

    consumer = FakeConsumer({0: [b"x"] * 4})
    task = await serving(reader(monkeypatch, handle, batch_max=2), consumer)
    await eventually(lambda: handled == [2])
    await asyncio.sleep(0.1)
    assert consumer.commits == []  # the second window is done, but the first is not: nothing committed
    release_first.set()
    await eventually(lambda: consumer.committed_at == {0: 4})
    await stop(task)
    assert [c[TopicPartition(CONSENT_TOPIC, 0)] for c in consumer.commits] == [2, 4]


async def test_a_window_that_failed_is_read_again_and_not_committed_before(monkeypatch: pytest.MonkeyPatch):
    attempts: list[int] = []

    async def handle(window: list[ConsentRecord]) -> None:
        attempts.append(window[0].offset)
        if len(attempts) == 1:
            raise ConnectionError("the DLQ could not be reached")

    consumer = FakeConsumer({0: [b"x"] * 3})
    task = await serving(reader(monkeypatch, handle, batch_max=5), consumer)
    await eventually(lambda: consumer.committed_at == {0: 3})
    await stop(task)
    assert attempts == [0, 0]  # read again from the start: nothing had been committed
    assert [c[TopicPartition(CONSENT_TOPIC, 0)] for c in consumer.commits] == [3]


async def test_a_partition_never_committed_starts_where_the_faust_agent_stopped(
    monkeypatch: pytest.MonkeyPatch,
):
    async def handle(window: list[ConsentRecord]) -> None:
        return None

    made = reader(monkeypatch, handle, batch_max=5)
    consumer = FakeConsumer({0: [b"x"] * 10, 1: [b"y"] * 10, 2: [b"z"] * 10})
    consumer.committed_at = {1: 7}  # this group committed partition 1 already

    async def faust_offsets(partitions: set[TopicPartition]) -> dict[TopicPartition, int]:
        read = {0: 4, 1: 2}  # faust never read partition 2
        return {p: read[p.partition] for p in partitions if p.partition in read}

    monkeypatch.setattr(made, "faust_offsets", faust_offsets)
    listener = TakeOverFromFaust(made, consumer)  # type: ignore[arg-type]
    await listener.on_partitions_assigned({TopicPartition(CONSENT_TOPIC, p) for p in (0, 1, 2)})
    assert consumer.position == {0: 4}  # 1: its own commit stands; 2: from the start
