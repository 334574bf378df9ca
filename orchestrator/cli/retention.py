"""``privacyctl retention``: what the retention sweeps would do, what they did, their schedules."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from workers.runtime.settings import Settings

DRY_RUN_TIMEOUT_SECONDS = 300


def add_retention_commands(sub: Any) -> None:
    retention = sub.add_parser(
        "retention", help="retention sweeps: dry-run (what would go), runs (evidence), schedules"
    )
    actions = retention.add_subparsers(dest="action", required=True)
    dry = actions.add_parser(
        "dry-run",
        help="count, per rule and system, what the tenant's sweeps would erase now (nothing is changed)",
    )
    dry.add_argument("tenant")
    dry.add_argument("rule", nargs="?", help="one rule of the pack (default: every rule)")
    runs = actions.add_parser("runs", help="the evidence of recent sweep runs (counts)")
    runs.add_argument("tenant")
    runs.add_argument("rule", nargs="?")
    actions.add_parser("schedules", help="the retention schedules in Temporal, paused or not")
    retention.set_defaults(func=cmd_retention)


def cmd_retention(args: argparse.Namespace, settings: Settings) -> int:
    from orchestrator.policy.packs import PackError, load_packs
    from orchestrator.schedules import SCHEDULE_PREFIX, dry_run
    from orchestrator.workflows.retention_sweep import LEDGER_SCHEDULE_ID
    from workers.ledger import Ledger
    from workers.runtime.temporal_client import connect

    async def go() -> int:
        if args.action == "runs":
            ledger = await Ledger.connect(settings.pg_dsn())
            try:
                print(json.dumps(await ledger.retention_runs.runs(args.tenant, args.rule), indent=2))
            finally:
                await ledger.close()
            return 0
        client = await connect(settings, attempts=3)
        if args.action == "schedules":
            async for listed in await client.list_schedules():
                if listed.id.startswith(SCHEDULE_PREFIX) or listed.id == LEDGER_SCHEDULE_ID:
                    described = await client.get_schedule_handle(listed.id).describe()
                    state = described.schedule.state
                    print(f"{listed.id}\t{'paused' if state.paused else 'active'}\t{state.note or ''}")
            return 0
        packs = load_packs()
        if args.tenant not in packs:
            raise PackError(f"no policy pack for tenant {args.tenant!r} (known: {sorted(packs)})")
        found = await asyncio.wait_for(
            dry_run(client, packs[args.tenant], settings.task_queue, args.rule), DRY_RUN_TIMEOUT_SECONDS
        )
        print(json.dumps([
            {"rule": r.rule, "system": r.system, "action": r.action, "cutoff": r.cutoff,
             "would_go": r.totals.acted, "held": r.totals.skipped_held, "examined": r.totals.examined}
            for r in found
        ], indent=2))  # fmt: skip
        return 0

    return asyncio.run(go())
