"""The intake's Kafka consumer, with the broker's hold on each fetch bounded.

faust asks the broker to hold every fetch up to 1.5 s (``fetch_max_wait_ms``, hard-coded, no
setting). Apache Kafka answers a held fetch as soon as a record arrives, so there it costs
nothing; Tansu, the dev stack's broker, holds it the whole wait, which put up to 1.5 s between a
request's publication and its workflow's start (measured with aiokafka on Tansu: a record waited
0.46 s at p50 with 1,500 ms, 0.012 s with 100 ms). Bounded here to ``FETCH_MAX_WAIT_MS``: an idle
intake then asks ten times a second, which neither broker notices.
"""

from __future__ import annotations

from typing import Any

import aiokafka
import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

FETCH_MAX_WAIT_MS = 100


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # Read by the consumer's fetcher when it starts (after this): the one value faust fixes.
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _Transport(faust_aiokafka.Transport):
    Consumer = _Consumer


class IntakeApp(faust.App):
    """A faust app whose consumers hold fetches ``FETCH_MAX_WAIT_MS`` at most."""

    def _new_transport(self) -> Any:
        return _Transport(self.conf.broker_consumer, self)
