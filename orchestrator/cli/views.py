"""``privacyctl views``: the operator console's saved views, as Temporal UI links for this stack."""

from __future__ import annotations

import argparse
from typing import Any

from orchestrator.console import SAVED_VIEWS, fill, view_url
from workers.runtime.settings import Settings


def add_views_command(sub: Any) -> None:
    views = sub.add_parser(
        "views",
        help="Temporal UI links for common questions (overdue erasures, due this week, ...)",
        description="Each view is a Temporal visibility query; open its link, or paste the query into the "
        "UI's filter box and save it as a view. See docs/operator-console.md.",
    )
    views.add_argument(
        "--tenant", default="upjunoo", help="tenant for the per-tenant views (default upjunoo)"
    )
    views.add_argument("--jurisdiction", default="CI", help="country for the per-country views (default CI)")
    views.set_defaults(func=cmd_views)


def cmd_views(args: argparse.Namespace, settings: Settings) -> int:
    for view in SAVED_VIEWS:
        query = fill(view.query, args.tenant, args.jurisdiction)
        print(f"{view.name}: {fill(view.question, args.tenant, args.jurisdiction)}")
        print(f"  query  {query}")
        print(f"  open   {view_url(settings.temporal_ui_url, settings.temporal_namespace, query)}")
    return 0
