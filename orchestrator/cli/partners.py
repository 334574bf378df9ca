"""``privacyctl partners``: register OpenDSR partners and see who is registered."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from workers.runtime.settings import Settings


def add_partner_commands(sub: Any) -> None:
    partners = sub.add_parser(
        "partners",
        help="OpenDSR partners: register one (its discovery and certificate are checked) or list them",
    )
    actions = partners.add_subparsers(dest="action", required=True)
    register = actions.add_parser(
        "register",
        help="register a partner by its OpenDSR base URL; its certificate is fetched, checked and pinned",
    )
    register.add_argument("partner", help="the name policy packs use in connector.partner")
    register.add_argument("base_url", help="where the partner serves /discovery and /requests")
    actions.add_parser("list", help="registered partners (name, address, certificate domain)")
    partners.set_defaults(func=cmd_partners)


def cmd_partners(args: argparse.Namespace, settings: Settings) -> int:
    from workers.connectors.opendsr.client import PartnerRefused, PartnerUnavailable
    from workers.connectors.opendsr.registration import register_partner
    from workers.ledger import Ledger

    async def go() -> int:
        ledger = await Ledger.connect(settings.pg_dsn())
        try:
            if args.action == "list":
                print(json.dumps(await ledger.partners.partners(), indent=2))
                return 0
            try:
                print(
                    json.dumps(await register_partner(ledger.partners, args.partner, args.base_url), indent=2)
                )
            except (PartnerRefused, PartnerUnavailable) as exc:
                print(f"privacyctl: cannot register {args.partner}: {exc}", file=sys.stderr)
                return 2
            return 0
        finally:
            await ledger.close()

    return asyncio.run(go())
