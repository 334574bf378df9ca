"""Connecting to Temporal the same way everywhere (intake, workers, API, CLI, tests)."""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor

from workers.runtime.codec import codec_from_environment, encrypted_converter
from workers.runtime.settings import Settings


async def connect(settings: Settings, *, attempts: int = 1) -> Client:
    """Connect with the encrypting payload codec, retrying while the server starts."""
    converter = encrypted_converter(codec_from_environment(settings.state_dir))
    for attempt in range(1, attempts + 1):
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                data_converter=converter,
                # Carries the trace context into workflows, children and activities (workers
                # built from this client inherit it); a no-op when no tracer is configured.
                interceptors=[TracingInterceptor()],
            )
        except RuntimeError:
            if attempt == attempts:
                raise
            await asyncio.sleep(1)
    raise AssertionError("unreachable")
