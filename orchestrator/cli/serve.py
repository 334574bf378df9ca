"""Foreground entry points of our services, as the stack launcher starts them.

Each writes ``<state>/run/<name>.ready`` once it serves, which is what ``up`` waits for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from contextlib import AsyncExitStack

from aiohttp import web

from workers.runtime.settings import Settings

log = logging.getLogger("privacyctl.serve")


def mark_ready(settings: Settings, name: str) -> None:
    run_dir = settings.state_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / f"{name}.ready").write_text("ready")


async def _until_terminated() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def serve_worker(settings: Settings) -> None:
    """One worker for the workflows and their activities, on the request task queue; the retention
    schedules are brought in line with the packs before it serves."""
    from orchestrator.policy.packs import load_packs
    from orchestrator.schedules import ensure_schedules
    from orchestrator.workflows.worker import build_workflow_worker
    from workers.runtime.temporal_client import connect
    from workers.worker import MAX_CONCURRENT_ACTIVITIES, activity_implementations

    client = await connect(settings, attempts=30)
    async with AsyncExitStack() as stack:
        # One worker for workflows and activities: eager activity dispatch (see the builder).
        activities = await activity_implementations(settings, stack)
        worker = build_workflow_worker(
            client,
            settings.task_queue,
            activities,
            MAX_CONCURRENT_ACTIVITIES,
            max_cached_workflows=settings.workflow_cache,
        )
        async with worker:
            schedules = await ensure_schedules(client, load_packs(), settings.task_queue)
            log.info("%d retention schedules in place", len(schedules))
            mark_ready(settings, "worker")
            log.info("worker polling task queue %s", settings.task_queue)
            await _until_terminated()


async def serve_api(settings: Settings) -> None:
    from orchestrator.api.app import create_app
    from orchestrator.api.auth import TokenBook
    from orchestrator.api.callbacks import CallbackGateway
    from orchestrator.api.drp import DrpGateway
    from orchestrator.api.drp_notify import StatusNotifier
    from orchestrator.api.drp_protocol import Directory
    from orchestrator.api.drp_verification import VerificationPage
    from orchestrator.operations import Directives, Operations
    from orchestrator.policy.packs import load_packs
    from workers.ledger import Ledger
    from workers.runtime.codec import codec_from_environment
    from workers.runtime.events import EventPublisher
    from workers.runtime.metrics import LedgerGauges, metrics_enabled
    from workers.runtime.secrets import secret_keys
    from workers.runtime.temporal_client import connect

    keys = secret_keys(settings.state_dir)
    codec = codec_from_environment(settings.state_dir)
    ledger = await Ledger.connect(settings.pg_dsn(), audit_key=keys.audit, sealer=codec)
    client = await connect(settings, attempts=30)
    publisher = EventPublisher(settings.kafka_bootstrap)
    await publisher.start()
    packs = load_packs()
    directives = Directives(ledger, packs, publisher.publish, keys.subject_ref)
    operations = Operations(client, ledger, keys.subject_ref)
    drp = DrpGateway(
        ledger, Directory.from_environment(settings.state_dir), publisher.publish, operations, packs,
        settings.drp_verification_base_url,
    )  # fmt: skip
    app = create_app(
        ledger,
        TokenBook.from_environment(settings.state_dir),
        operations,
        directives,
        codec=codec.for_display(),  # the UI shows plain payloads too
        ui_origins=[settings.temporal_ui_url, f"http://localhost:{settings.temporal_ui_port}"],
        callbacks=CallbackGateway(ledger, client, settings.callback_base_url, settings.callback_max_age),
        drp=drp,
        packs=packs,
        drp_verification=VerificationPage(ledger, operations, codec),
        ref_key=keys.subject_ref,
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.api_host, settings.api_port).start()
    # The ledger is read for the gauges only when metrics are exported at all.
    gauges = None
    if metrics_enabled():
        gauges = asyncio.create_task(LedgerGauges(ledger, every=settings.metrics_seconds).run())
    # DRP agents' status callbacks follow the ledger (orchestrator/api/drp_notify.py says why).
    notifier = asyncio.create_task(
        StatusNotifier(ledger, every=settings.drp_notify_seconds, context=drp.context).run()
    )
    mark_ready(settings, "api")
    log.info("API on %s", settings.api_url)
    try:
        await _until_terminated()
    finally:
        notifier.cancel()
        if gauges is not None:
            gauges.cancel()
        await runner.cleanup()
        await publisher.stop()
        await ledger.close()


async def serve_sandbox(settings: Settings) -> None:
    from infra.sandbox.async_system import serve
    from infra.sandbox.partners import start_partners
    from infra.sandbox.saas import start_saas

    partners = await start_partners(settings.sandbox_dir)
    partners += await start_saas(settings.sandbox_dir, settings.secrets_dir)
    task = asyncio.create_task(serve(settings))
    waiter = asyncio.create_task(_until_terminated())
    done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    for pending in (task, waiter):
        pending.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pending
    for runner in partners:
        await runner.cleanup()
    for finished in done:
        if finished is task and not task.cancelled() and task.exception():
            raise task.exception()  # type: ignore[misc]


def serve_intake(settings: Settings) -> None:
    from orchestrator.intake.app import run_intake

    run_intake(settings, on_ready=lambda: mark_ready(settings, "intake"))
