"""Sandbox SaaS tools reached over HTTP: a billing tool, a mailing tool, a support desk.

Each tenant that uses one has ``infra/sandbox/<tenant>/saas_<name>.json``: which ``api`` it is,
its quirks (``throttle_every``, ``retry_after``, ``lag_seconds``) and its demo people. Every
instance listens on its own loopback port (kept in the state folder) inside the ``sandbox``
service; ``seed_saas`` restores the demo people, like the SQL sandboxes' upserts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from infra.sandbox.saas import billing, mailing, support
from infra.sandbox.saas.store import SaasInstance

log = logging.getLogger("sandbox.saas")
SANDBOX_ROOT = Path(__file__).resolve().parent.parent


def _by_id(collection: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def keyed(document: dict[str, Any]) -> dict[str, Any]:
        return {collection: {str(r["id"]): r for r in document.get(collection, [])}}

    return keyed


def _billing_seed(document: dict[str, Any]) -> dict[str, Any]:
    return {**_by_id("customers")(document), **_by_id("invoices")(document)}


def _support_seed(document: dict[str, Any]) -> dict[str, Any]:
    return {**_by_id("users")(document), **_by_id("tickets")(document), "deleted_users": {}}


APIS: dict[
    str, tuple[Callable[[SaasInstance], list[web.RouteDef]], Callable[[dict[str, Any]], dict[str, Any]]]
] = {
    "billing": (billing.routes, _billing_seed),
    "mailing": (mailing.routes, mailing.seeded),
    "support": (support.routes, _support_seed),
}


def load_instances(sandbox_dir: Path) -> list[SaasInstance]:
    """Every tenant's SaaS account described under ``infra/sandbox/<tenant>/saas_*.json``."""
    instances = []
    for path in sorted(SANDBOX_ROOT.glob("*/saas_*.json")):
        spec = json.loads(path.read_text("utf-8"))
        if spec["api"] not in APIS:
            raise ValueError(f"{path}: unknown api {spec['api']!r} (known: {', '.join(APIS)})")
        instances.append(
            SaasInstance(
                name=spec["name"],
                api=spec["api"],
                folder=sandbox_dir / "saas" / spec["name"],
                seed=APIS[spec["api"]][1](spec["data"]),
                throttle_every=int(spec.get("throttle_every", 0)),
                retry_after=int(spec.get("retry_after", 1)),
                lag_seconds=float(spec.get("lag_seconds", 0)),
            )
        )
    return instances


def seed_saas(sandbox_dir: Path) -> int:
    """Restore every instance's demo people on disk; the running tools read it on their next call."""
    instances = load_instances(sandbox_dir)
    for instance in instances:
        instance.reseed()
    return len(instances)


async def start_saas(sandbox_dir: Path, secrets_dir: Path) -> list[web.AppRunner]:
    """Every sandbox SaaS instance listening on its port; its key and URL in the secrets folder."""
    runners = []
    for instance in load_instances(sandbox_dir):
        instance.prepare(secrets_dir)
        app = web.Application(middlewares=[instance.front])
        app.add_routes(APIS[instance.api][0](instance))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", instance.port).start()
        runners.append(runner)
        log.info("sandbox %s (%s) listening on %s", instance.name, instance.api, instance.base_url)
    return runners
