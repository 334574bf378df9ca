"""privacyctl — run the stack, the services and the demo; look at requests.

Exits with os._exit after flushing: a process that used the Temporal client can crash
while the interpreter finalises (temporalio sdk-python #300), which must not fail CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from typing import Any

from workers.runtime.settings import Settings


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def cmd_stack(args: argparse.Namespace, settings: Settings) -> int:
    from infra.stack import Stack
    from orchestrator.workflows.search import REGISTRATION

    stack = Stack(settings, REGISTRATION)
    if args.action == "up":
        started = stack.up()
        _bootstrap(settings)
        print("stack up:", ", ".join(started) or "already running")
    elif args.action == "down":
        from infra.services import stop_services

        stopped = stop_services(settings) + stack.down()
        print("stopped:", ", ".join(stopped) or "nothing was running")
    else:
        _print_status(settings)
    return 0


def _bootstrap(settings: Settings) -> None:
    from infra.bootstrap import ensure_database, ensure_topics
    from infra.sandbox.seed import seed_all

    async def go() -> None:
        await ensure_database(settings, settings.pg_database)
        await ensure_topics(settings)
        await seed_all(settings)

    asyncio.run(go())


def _print_status(settings: Settings) -> None:
    from infra.processes import ProcessSupervisor
    from infra.services import SERVICES
    from infra.stack import INFRA_PARTS

    supervisor = ProcessSupervisor(settings.state_dir)
    for name in (*INFRA_PARTS, *SERVICES):
        pid = supervisor.pid(name)
        line = f"  {name:9} {'running, pid ' + str(pid) if pid else 'stopped'}"
        kept = supervisor.keeper_status(name)
        if kept is not None and (kept.restarts or kept.state in ("restarting", "backing_off", "gave_up")):
            # A server or service kept up by infra.keeper: how often it crashed, how it last ended.
            line += f"  ({kept.state}; {kept.restarts} restart(s)"
            line += f", last exit {kept.last_exit} at {kept.last_exit_at})"
        print(line)


def _where_to_look(settings: Settings) -> None:
    query = "PrivacyTenant%3D%22upjunoo%22"
    print()
    print("Where to look:")
    workflows = f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}/workflows"
    print(f"  Temporal UI   {workflows}?query={query}")
    print("                saved views for common questions: privacyctl views (docs/operator-console.md)")
    print(f"  HTTP API      {settings.api_url}/v1/requests  (GET /v1/requests/<request_id>[/report])")
    print(f"  Kafka broker  {settings.kafka_bootstrap}   PostgreSQL {settings.pg_host}:{settings.pg_port}")
    if os.environ.get("PRIVACY_API_TOKENS"):
        print("  API tokens    from PRIVACY_API_TOKENS (Authorization: Bearer <token>)")
    else:
        from orchestrator.api.auth import dev_tokens, token_for

        dev_tokens(settings.state_dir)
        print(f"  API tokens    {settings.state_dir / 'api-tokens.json'} (one each: viewer, operator, dpo)")
        print(
            f"                e.g. curl -H 'Authorization: Bearer {token_for(settings.state_dir, 'viewer')}' "
            f"{settings.api_url}/v1/requests"
        )
        print(
            f"  Decrypted payloads in the Temporal UI: set its codec endpoint to "
            f"{settings.api_url}/codec/<dpo token>"
        )
    print(f"  Logs          {settings.log_dir}")
    print("  Stop with     make stop")


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    from infra.bootstrap import register_sandbox_partners
    from infra.services import start_services
    from infra.stack import Stack
    from orchestrator.cli.demo import run_demo
    from orchestrator.workflows.search import REGISTRATION

    print("Starting the embedded stack (PostgreSQL, Tansu broker, Temporal dev server)...")
    Stack(settings, REGISTRATION).up()
    _bootstrap(settings)
    print("Starting our services (sandbox systems, worker, intake, API)...")
    start_services(settings)
    asyncio.run(register_sandbox_partners(settings))
    _print_status(settings)
    code = 0
    if not args.no_demo:
        code = asyncio.run(run_demo(settings))
    _where_to_look(settings)
    return code


def cmd_down(args: argparse.Namespace, settings: Settings) -> int:
    return cmd_stack(argparse.Namespace(action="down"), settings)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from orchestrator.cli import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from workers.runtime.metrics import setup_metrics
    from workers.runtime.telemetry import setup_tracing

    setup_tracing(args.service)
    setup_metrics(args.service)
    if args.service == "intake":
        serve.serve_intake(settings)
    else:
        runner = {"worker": serve.serve_worker, "api": serve.serve_api, "sandbox": serve.serve_sandbox}
        asyncio.run(runner[args.service](settings))
    return 0


def cmd_submit(args: argparse.Namespace, settings: Settings) -> int:
    from orchestrator.cli.demo import publish

    if args.file == "-":
        text = sys.stdin.read()
    else:
        with open(args.file, encoding="utf-8") as source:
            text = source.read()
    values = [line.encode() for line in text.splitlines() if line.strip()]
    asyncio.run(publish(settings, list(values), topic=args.topic))
    print(f"published {len(values)} event(s) on {args.topic}")
    return 0


def cmd_request(args: argparse.Namespace, settings: Settings) -> int:
    from workers.ledger import Ledger
    from workers.runtime.codec import codec_from_environment

    async def go() -> int:
        ledger = await Ledger.connect(settings.pg_dsn(), sealer=codec_from_environment(settings.state_dir))
        try:
            if args.action == "list":
                _print_json(await ledger.lookups.list_requests(status=args.status))
                return 0
            if args.action == "show":
                found = await ledger.request(args.request_id)
                if found is None:
                    print(f"no request with request_id {args.request_id}", file=sys.stderr)
                    return 1
                _print_json(found)
                return 0
            stored = await ledger.stored_report(args.request_id)
            if stored is not None and stored.purged_at is not None:
                print(f"the report was purged at {stored.purged_at}: {stored.purge_reason}", file=sys.stderr)
                return 1
            report = await ledger.report(args.request_id)
            if report is None:
                print(f"no report for request_id {args.request_id}", file=sys.stderr)
                return 1
            if args.html:
                print(report[1])
            else:
                _print_json(report[0])
            return 0
        finally:
            await ledger.close()

    return asyncio.run(go())


def build_parser() -> argparse.ArgumentParser:
    from orchestrator.cli.drp import add_drp_commands
    from orchestrator.cli.operator import add_operator_commands
    from orchestrator.cli.partners import add_partner_commands
    from orchestrator.cli.retention import add_retention_commands
    from orchestrator.cli.views import add_views_command
    from schemas import REQUESTS_TOPIC

    parser = argparse.ArgumentParser(
        prog="privacyctl",
        description="Privacy-request orchestrator: run the embedded stack and look at requests. "
        "Addresses come from PRIVACY_* environment variables (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    stack = sub.add_parser("stack", help="the embedded servers: PostgreSQL, Tansu broker, Temporal")
    stack.add_argument("action", choices=["up", "down", "status"])
    stack.set_defaults(func=cmd_stack)
    up = sub.add_parser("up", help="start stack + services, run the demo, print where to look")
    up.add_argument("--no-demo", action="store_true", help="start everything but submit nothing")
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help="stop everything `up` started, and nothing else")
    down.set_defaults(func=cmd_down)
    status = sub.add_parser("status", help="what runs, with pids")
    status.set_defaults(func=lambda a, s: cmd_stack(argparse.Namespace(action="status"), s))
    serve = sub.add_parser("serve", help="run one service in the foreground")
    serve.add_argument("service", choices=["intake", "worker", "api", "sandbox"])
    serve.set_defaults(func=cmd_serve)
    submit = sub.add_parser("submit", help="publish JSON events (one per line) from a file or -")
    submit.add_argument("file")
    submit.add_argument("--topic", default=REQUESTS_TOPIC)
    submit.set_defaults(func=cmd_submit)
    request = sub.add_parser("request", help="look at requests in the ledger")
    request_sub = request.add_subparsers(dest="action", required=True)
    listing = request_sub.add_parser("list", help="recent requests")
    listing.add_argument("--status")
    show = request_sub.add_parser("show", help="one request with every system's outcome")
    show.add_argument("request_id")
    report = request_sub.add_parser("report", help="the access report of a request")
    report.add_argument("request_id")
    report.add_argument("--html", action="store_true")
    request.set_defaults(func=cmd_request)
    add_operator_commands(sub)
    add_partner_commands(sub)
    add_retention_commands(sub)
    add_views_command(sub)
    add_drp_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args, Settings())
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # noqa: BLE001 - a clear one-line error, not a traceback
        from infra.processes import StackError
        from orchestrator.policy.packs import PackError

        if not isinstance(exc, StackError | PackError):
            raise
        print(f"privacyctl: {exc}", file=sys.stderr)
        code = 2
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
