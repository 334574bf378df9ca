"""privacyctl operator commands: verify, decide objections, extend, cancel, confirm, holds, audit."""

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
    retry = command("retry", "try a failed system again (its workflow, or a new one if it was terminated)")
    retry.add_argument("request_id")
    retry.add_argument("system")
    retry.add_argument("--reason", required=True)
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
    audit = command("audit", "show a request's audit log; verify the whole chain; print its head")
    audit.add_argument(
        "target", help="a request_id, 'verify', or 'head' (count + last seal, to keep elsewhere)"
    )
    audit.add_argument(
        "--head", metavar="FILE", help="verify: also check the log still holds this exported head"
    )


def run_operator_command(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from orchestrator.operations import ActionRefused, NotFound, Operations
    from workers.ledger import Ledger
    from workers.runtime.secrets import secret_keys
    from workers.runtime.temporal_client import connect

    keys = secret_keys(settings.state_dir)
    ledger = await Ledger.connect(settings.pg_dsn(), audit_key=keys.audit)
    try:
        if args.operator == "overdue":
            return _show(await ledger.lookups.overdue())
        if args.operator == "audit":
            return await _audit(ledger, args)
        ops = Operations(await connect(settings), ledger, keys.subject_ref)
        try:
            return _show(await _act(ops, args))
        except (ActionRefused, NotFound) as exc:
            print(f"privacyctl: {exc}", file=sys.stderr)
            return 1
    finally:
        await ledger.close()


async def _audit(ledger: Any, args: argparse.Namespace) -> int:
    """``audit head`` prints where the log stands (JSON, to keep outside the ledger); ``audit
    verify [--head FILE]`` checks the chain, and that the log still reaches that head."""
    from workers.ledger.audit import AuditHead

    if args.target == "head":
        print((await ledger.audit.head()).to_json())
        return 0
    if args.target != "verify":
        return _show(await ledger.audit.entries(args.target))
    head = None
    if args.head:
        try:
            with open(args.head, encoding="utf-8") as exported:
                head = AuditHead.from_json(exported.read())
        except (OSError, ValueError) as exc:
            print(f"privacyctl: cannot read the audit head {args.head}: {exc}", file=sys.stderr)
            return 2
    broken = await ledger.audit.verify(head)
    for entry in broken:
        print(f"entry {entry.seq}: {entry.problem}", file=sys.stderr)
    print("audit log intact" if not broken else f"audit log BROKEN at {len(broken)} place(s)")
    return 0 if not broken else 1


async def _act(ops: Any, args: argparse.Namespace) -> Any:
    name = args.operator
    if name == "verify":
        return await ops.verify(args.request_id, args.decision == "approve", args.actor, args.reason)
    if name == "decide-objection":
        return await ops.decide_objection(args.request_id, args.decision == "accept", args.actor, args.reason)
    if name == "extend":
        return await ops.extend(args.request_id, args.actor, args.reason)
    if name == "cancel":
        return await ops.cancel(args.request_id, args.actor, args.reason)
    if name == "confirm":
        await ops.confirm_system(args.request_id, args.system, args.outcome, args.actor, args.note, {})
        return {"status": "confirmed"}
    if name == "retry":
        return {"asked": await ops.retry_system(args.request_id, args.system, args.actor, args.reason)}
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
