"""privacyctl operator commands: verify, decide objections and rectifications, extend, cancel, confirm,
holds, audit."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from typing import Any

from workers.runtime.settings import Settings


def add_operator_commands(sub: Any) -> None:
    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
        parser.add_argument("--actor", default=getpass.getuser(), help="who acts (audited); default: you")
        parser.set_defaults(func=run_operator_command, operator=name)
        return parser

    verify = command("verify", "approve or deny a request's identity verification")
    verify.add_argument("request_id")
    verify.add_argument("decision", choices=["approve", "deny"])
    verify.add_argument("--reason", default="")
    objection = command("decide-objection", "accept or refuse an objection, with reasons")
    objection.add_argument("request_id")
    objection.add_argument("decision", choices=["accept", "refuse"])
    objection.add_argument("--reason", required=True)
    rectification = command("decide-rectification", "accept or refuse a rectification, with reasons")
    rectification.add_argument("request_id")
    rectification.add_argument("decision", choices=["accept", "refuse"])
    rectification.add_argument("--reason", default="")
    extend = command("extend", "extend a request's deadline once, inside the first period")
    extend.add_argument("request_id")
    extend.add_argument("--reason", required=True)
    cancel = command("cancel", "cancel an open request")
    cancel.add_argument("request_id")
    cancel.add_argument("--reason", required=True)
    confirm = command("confirm", "confirm a manual system's step with its outcome")
    confirm.add_argument("request_id")
    confirm.add_argument("system")
    confirm.add_argument("--outcome", required=True)
    confirm.add_argument("--note", default="")
    hold = command("hold", "place a legal hold on a subject (blocks erasure until released)")
    hold.add_argument("--tenant", required=True)
    hold.add_argument("--email")
    hold.add_argument("--phone")
    hold.add_argument("--customer-id")
    hold.add_argument("--reason", required=True)
    release = command("release", "release a legal hold")
    release.add_argument("hold_id")
    release.add_argument("--reason", required=True)
    overdue = command("overdue", "list open requests past their due date")
    del overdue
    audit = command("audit", "show the audit log of a request, or verify the whole chain")
    audit.add_argument("target", help="a request_id, or 'verify'")


def run_operator_command(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from orchestrator.operations import ActionRefused, NotFound, Operations
    from workers.ledger import Ledger
    from workers.runtime.temporal_client import connect

    ledger = await Ledger.connect(settings.pg_dsn())
    try:
        if args.operator == "overdue":
            return _show(await ledger.lookups.overdue())
        if args.operator == "audit":
            if args.target == "verify":
                broken = await ledger.audit.verify()
                for entry in broken:
                    print(f"entry {entry.seq}: {entry.problem}", file=sys.stderr)
                print("audit log intact" if not broken else f"audit log BROKEN at {len(broken)} place(s)")
                return 0 if not broken else 1
            return _show(await ledger.audit.entries(args.target))
        ops = Operations(await connect(settings), ledger)
        try:
            return _show(await _act(ops, args))
        except (ActionRefused, NotFound) as exc:
            print(f"privacyctl: {exc}", file=sys.stderr)
            return 1
    finally:
        await ledger.close()


async def _act(ops: Any, args: argparse.Namespace) -> Any:
    name = args.operator
    if name == "verify":
        return await ops.verify(args.request_id, args.decision == "approve", args.actor, args.reason)
    if name == "decide-objection":
        return await ops.decide_objection(args.request_id, args.decision == "accept", args.actor, args.reason)
    if name == "decide-rectification":
        return await ops.decide_rectification(
            args.request_id, args.decision == "accept", args.actor, args.reason
        )
    if name == "extend":
        return await ops.extend(args.request_id, args.actor, args.reason)
    if name == "cancel":
        return await ops.cancel(args.request_id, args.actor, args.reason)
    if name == "confirm":
        await ops.confirm_system(args.request_id, args.system, args.outcome, args.actor, args.note, {})
        return {"status": "confirmed"}
    if name == "hold":
        subject = {
            k: v
            for k, v in (("email", args.email), ("phone", args.phone), ("customer_id", args.customer_id))
            if v
        }
        return {"hold_id": await ops.place_hold(args.tenant, subject, args.actor, args.reason)}
    if name == "release":
        return {"requests_told": await ops.release_hold(args.hold_id, args.actor, args.reason)}
    raise AssertionError(name)


def _show(value: Any) -> int:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=lambda o: getattr(o, "__dict__", str(o))))
    return 0
