"""``privacyctl drp``: our Data Rights Protocol service-directory entry, and the agents we trust.

``business-entry [ID]`` prints our ``businesses.json`` entry (all of them without ID), generated
from ``PRIVACY_DRP_BUSINESSES``; ``trust-agent FILE`` adds an agent's service-directory entry
(its id and Ed25519 verify key) to ``PRIVACY_DRP_AGENTS``, which the API re-reads on change;
``agents`` lists them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from orchestrator.api.drp_protocol import Directory, business_entry, check_agent_entry
from workers.runtime.settings import Settings


def add_drp_commands(sub: Any) -> None:
    drp = sub.add_parser("drp", help="Data Rights Protocol: our directory entry, the agents we trust")
    actions = drp.add_subparsers(dest="action", required=True)
    entry = actions.add_parser("business-entry", help="our businesses.json entry, from configuration")
    entry.add_argument("business_id", nargs="?", help="one business id (default: every one configured)")
    trust = actions.add_parser("trust-agent", help="trust an agent: add its service-directory entry")
    trust.add_argument("file", help="the agent's directory entry (JSON object, or a list of them)")
    actions.add_parser("agents", help="the agents we trust (id, name, verify key)")
    drp.set_defaults(func=cmd_drp)


def cmd_drp(args: argparse.Namespace, settings: Settings) -> int:
    directory = Directory.from_environment(settings.state_dir)
    if args.action == "business-entry":
        configured = directory.businesses.entries()
        if not configured:
            print(f"privacyctl: no DRP business configured in {directory.businesses.path}", file=sys.stderr)
            return 2
        if args.business_id and args.business_id not in configured:
            print(f"privacyctl: no DRP business {args.business_id!r} configured", file=sys.stderr)
            return 2
        chosen = [configured[args.business_id]] if args.business_id else list(configured.values())
        entries = [business_entry(c) for c in chosen]
        print(json.dumps(entries[0] if args.business_id else entries, indent=2))
        return 0
    if args.action == "agents":
        print(json.dumps(list(directory.agents.entries().values()), indent=2))
        return 0
    try:
        trusted = trust_agents(directory.agents.path, json.loads(Path(args.file).read_text()))
    except (OSError, ValueError) as exc:
        print(f"privacyctl: cannot trust the agent in {args.file}: {exc}", file=sys.stderr)
        return 2
    print(f"trusted: {', '.join(trusted)} (in {directory.agents.path})")
    return 0


def trust_agents(path: Path, document: Any) -> list[str]:
    """Add (or replace, by id) agents' checked directory entries in the trusted-agents file."""
    entries = [check_agent_entry(e) for e in (document if isinstance(document, list) else [document])]
    current = json.loads(path.read_text()).get("agents", []) if path.exists() else []
    ids = {e["id"] for e in entries}
    agents = [a for a in current if a.get("id") not in ids] + entries
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"agents": agents}, indent=2))
    os.replace(temporary, path)  # the API never reads half a file
    return sorted(ids)
