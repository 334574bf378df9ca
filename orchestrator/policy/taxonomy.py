"""One vocabulary of data and purposes: the fideslang taxonomy, its hierarchy, a pack's words (pure).

Pack ``categories`` and ``purposes`` are fideslang keys (``user.contact.email``,
``marketing.communications.email``) or a tenant's own words. A dotted key is a fideslang key
and must exist in the taxonomy unless the pack declares it in ``taxonomy_extensions``; an
undotted word is the tenant's own (``direct_marketing``) and stays as it is. The hierarchy
means what it says: a purpose names itself and everything under it, so withdrawing
``marketing`` reaches every ``marketing.*`` system, and an objection to
``marketing.advertising`` reaches the ``marketing.advertising.*`` ones (and a system that only
says ``marketing``: it may advertise).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from fideslang.default_taxonomy import DEFAULT_TAXONOMY


@cache
def fideslang_data_uses() -> frozenset[str]:
    """Every data use (purpose) of the default fideslang taxonomy."""
    return frozenset(use.fides_key for use in DEFAULT_TAXONOMY.data_use)


@cache
def fideslang_data_categories() -> frozenset[str]:
    """Every data category of the default fideslang taxonomy."""
    return frozenset(category.fides_key for category in DEFAULT_TAXONOMY.data_category)


@cache
def _human_names() -> dict[str, str]:
    uses = {use.fides_key: use.name for use in DEFAULT_TAXONOMY.data_use}
    categories = {category.fides_key: category.name for category in DEFAULT_TAXONOMY.data_category}
    return {key: name for key, name in {**uses, **categories}.items() if name}


def human_names(keys: Iterable[str]) -> dict[str, str]:
    """The fideslang names of those keys that are taxonomy keys (``user.contact.email``: "User
    Contact Email"), for the person reading an access report; the tenant's own words are left out."""
    names = _human_names()
    return {key: names[key] for key in keys if key in names}


def related(named: str, declared: str) -> bool:
    """Whether a purpose a person names and one a pack declares overlap in the hierarchy:
    the same key, or one under the other."""
    return named == declared or declared.startswith(named + ".") or named.startswith(declared + ".")


def any_related(named: Iterable[str], declared: Iterable[str]) -> bool:
    """Whether any named purpose overlaps any declared one."""
    wanted = list(named)
    return any(related(n, d) for d in declared for n in wanted)


def with_narrower(parents: Iterable[str], named: Iterable[str]) -> list[str]:
    """``parents`` and the named purposes under one of them: an objection to
    ``marketing.communications.email`` is one to ``marketing`` when ``marketing`` is absolute."""
    broad = list(parents)
    return broad + sorted({n for n in named if n not in broad and any(n.startswith(p + ".") for p in broad)})


def pack_purposes(document: dict[str, Any]) -> list[str]:
    """Every purpose a pack names (systems, their rules, recipients, objection, GPC) and the
    data uses it declares as extensions, sorted."""
    found: set[str] = set()
    for system in document.get("systems", []):
        found.update(system.get("purposes") or [])
        for rule in system.get("actions", {}).values():
            found.update(rule.get("purposes") or [])
    for recipient in document.get("recipients", []):
        found.update(recipient.get("purposes") or [])
    found.update((document.get("objection") or {}).get("absolute_purposes") or [])
    found.update((document.get("gpc") or {}).get("purposes") or [])
    found.update((document.get("taxonomy_extensions") or {}).get("data_uses") or [])
    return sorted(found)


def unknown_purposes(named: Iterable[str], known: Iterable[str]) -> list[str]:
    """The named purposes that are neither related to one the tenant knows nor a fideslang data
    use: nothing the tenant does can be meant (``marketing_email`` for
    ``marketing.communications.email``)."""
    declared = list(known)
    return sorted(
        {n for n in named if n not in fideslang_data_uses() and not any(related(n, d) for d in declared)}
    )


def refused_purposes(tenant: str, named: Iterable[str], document: dict[str, Any]) -> str | None:
    """Why a consent change or objection naming these purposes cannot be honoured (none of them
    is known: the reason and the tenant's known purposes, for the DLQ), or None."""
    known = pack_purposes(document)
    unknown = unknown_purposes(named, known)
    if not unknown:
        return None
    return (
        f"{unknown} not known to tenant {tenant!r}: neither a fideslang data use nor related to "
        f"the tenant's purposes {known}"
    )


def unknown_keys(document: dict[str, Any]) -> list[str]:
    """Where a pack uses a dotted key that is neither in the fideslang taxonomy nor declared in
    its ``taxonomy_extensions``: ``"systems/2/purposes: 'marketing.emails'"``."""
    extensions = document.get("taxonomy_extensions") or {}
    uses = fideslang_data_uses() | set(extensions.get("data_uses") or [])
    categories = fideslang_data_categories() | set(extensions.get("data_categories") or [])
    problems: list[str] = []

    def check(where: str, keys: Iterable[str], taxonomy: frozenset[str] | set[str], kind: str) -> None:
        for key in keys:
            if "." in key and key not in taxonomy:
                problems.append(f"{where}: {key!r} is not a fideslang {kind} nor in taxonomy_extensions")

    for index, system in enumerate(document.get("systems", [])):
        check(f"systems/{index}/categories", system.get("categories") or [], categories, "data category")
        check(f"systems/{index}/purposes", system.get("purposes") or [], uses, "data use")
        for request_type, rule in system.get("actions", {}).items():
            where = f"systems/{index}/actions/{request_type}/purposes"
            check(where, rule.get("purposes") or [], uses, "data use")
    for index, recipient in enumerate(document.get("recipients", [])):
        check(f"recipients/{index}/purposes", recipient.get("purposes") or [], uses, "data use")
    objection = (document.get("objection") or {}).get("absolute_purposes") or []
    check("objection/absolute_purposes", objection, uses, "data use")
    check("gpc/purposes", (document.get("gpc") or {}).get("purposes") or [], uses, "data use")
    return problems
