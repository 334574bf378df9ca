"""One vocabulary of data and purposes: the fideslang taxonomy, its hierarchy, a pack's words (pure).

Pack ``categories`` and ``purposes`` are fideslang keys (``user.contact.email``,
``marketing.communications.email``): each must exist in the default taxonomy or be declared,
with a name and a description, under an existing parent in the pack's ``taxonomy_extensions``
(``essential.service.sos_alerts``) — a tenant extends the vocabulary explicitly, never by a
free word. The hierarchy means what it says: a purpose names itself and everything under it, so
withdrawing ``marketing`` reaches every ``marketing.*`` system, and an objection to
``marketing.advertising`` reaches the ``marketing.advertising.*`` ones (and a system that only
says ``marketing``: it may advertise).

Events in the wild may still name the words the packs used before (``direct_marketing``,
``newsletter``): a pack's ``purpose_aliases`` maps each to the data use it means, and the
intake records the canonical key (``canonical_purposes``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
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


def human_names(keys: Iterable[str], extensions: dict[str, str] | None = None) -> dict[str, str]:
    """The human names of those keys (``user.contact.email``: "User Contact Email"; a pack's
    extension by its own name, the seed's words), for the person reading an access report."""
    names = {**_human_names(), **(extensions or {})}
    return {key: names[key] for key in keys if key in names}


def extensions(document: dict[str, Any], kind: str) -> list[dict[str, str]]:
    """A pack's declared ``taxonomy_extensions`` of one kind (``data_uses``,
    ``data_categories``), each as ``{"fides_key", "name"?, "description"?}`` (a bare key is
    accepted for packs written before extensions carried a name)."""
    declared = (document.get("taxonomy_extensions") or {}).get(kind) or []
    return [{"fides_key": item} if isinstance(item, str) else item for item in declared]


def extension_names(document: dict[str, Any]) -> dict[str, str]:
    """The names a pack gives its extensions, by key."""
    return {
        item["fides_key"]: item["name"]
        for kind in ("data_uses", "data_categories")
        for item in extensions(document, kind)
        if item.get("name")
    }


def _declared_keys(document: dict[str, Any], kind: str) -> set[str]:
    return {item["fides_key"] for item in extensions(document, kind)}


def purpose_aliases(document: dict[str, Any]) -> dict[str, str]:
    """The words events may still name for a pack's data uses (``newsletter`` →
    ``marketing.communications.email``)."""
    aliases: dict[str, str] = document.get("purpose_aliases") or {}
    return aliases


def canonical_purposes(named: Iterable[str], document: dict[str, Any]) -> list[str]:
    """The named purposes as the pack's data uses: an alias becomes the key it stands for,
    anything else stays as named; in order, each once."""
    aliases = purpose_aliases(document)
    return list(dict.fromkeys(aliases.get(name, name) for name in named))


def canonical_details(details: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """A request's details with its ``purposes`` as the pack's data uses; when an older word
    was named, the words as named are kept beside them (``purposes_as_named``), as evidence."""
    named = list(details.get("purposes") or [])
    canonical = canonical_purposes(named, document)
    if canonical == named:
        return details
    return {**details, "purposes": canonical, "purposes_as_named": named}


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


def _purpose_places(document: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """Where a pack names purposes, and which: systems, their rules, recipients, objection, GPC."""
    for index, system in enumerate(document.get("systems", [])):
        yield f"systems/{index}/purposes", system.get("purposes") or []
        for request_type, rule in system.get("actions", {}).items():
            yield f"systems/{index}/actions/{request_type}/purposes", rule.get("purposes") or []
    for index, recipient in enumerate(document.get("recipients", [])):
        yield f"recipients/{index}/purposes", recipient.get("purposes") or []
    yield "objection/absolute_purposes", (document.get("objection") or {}).get("absolute_purposes") or []
    yield "gpc/purposes", (document.get("gpc") or {}).get("purposes") or []


def pack_purposes(document: dict[str, Any]) -> list[str]:
    """Every purpose a pack names and the data uses it declares as extensions, sorted."""
    found = {purpose for _, purposes in _purpose_places(document) for purpose in purposes}
    return sorted(found | _declared_keys(document, "data_uses"))


def unknown_purposes(named: Iterable[str], document: dict[str, Any]) -> list[str]:
    """The named purposes that are neither an alias, a fideslang data use, nor related to one
    the tenant knows: nothing the tenant does can be meant (``marketing_email`` for
    ``marketing.communications.email``)."""
    declared = pack_purposes(document)
    aliases = purpose_aliases(document)
    return sorted(
        {
            n
            for n in named
            if n not in aliases
            and n not in fideslang_data_uses()
            and not any(related(n, d) for d in declared)
        }
    )


def refused_purposes(tenant: str, named: Iterable[str], document: dict[str, Any]) -> str | None:
    """Why a consent change or objection naming these purposes cannot be honoured (none of them
    is known: the reason, the tenant's known purposes and the older words it still accepts,
    for the DLQ), or None."""
    unknown = unknown_purposes(named, document)
    if not unknown:
        return None
    aliases = sorted(purpose_aliases(document))
    also = f", or the older words {aliases}" if aliases else ""
    return (
        f"{unknown} not known to tenant {tenant!r}: neither a fideslang data use nor related to "
        f"the tenant's purposes {pack_purposes(document)}{also}"
    )


def unknown_keys(document: dict[str, Any]) -> list[str]:
    """Where a pack's vocabulary is wrong: a category or purpose that is neither a fideslang
    key nor declared in ``taxonomy_extensions`` (``"systems/2/purposes: 'marketing.emails' …"``),
    an extension that is already a fideslang key or has no parent, an alias to no data use."""
    uses = fideslang_data_uses() | _declared_keys(document, "data_uses")
    categories = fideslang_data_categories() | _declared_keys(document, "data_categories")
    problems = _extension_problems(document)

    def check(where: str, keys: Iterable[str], taxonomy: frozenset[str] | set[str], kind: str) -> None:
        for key in keys:
            if key not in taxonomy:
                problems.append(f"{where}: {key!r} is not a fideslang {kind} nor in taxonomy_extensions")

    for index, system in enumerate(document.get("systems", [])):
        check(f"systems/{index}/categories", system.get("categories") or [], categories, "data category")
    for where, purposes in _purpose_places(document):
        check(where, purposes, uses, "data use")
    for word, key in purpose_aliases(document).items():
        if key not in uses:
            problems.append(
                f"purpose_aliases/{word}: {key!r} is not a fideslang data use nor in taxonomy_extensions"
            )
        elif word in uses:
            problems.append(
                f"purpose_aliases/{word}: {word!r} is a data use itself, it cannot stand for {key!r}"
            )
    return problems


def _extension_problems(document: dict[str, Any]) -> list[str]:
    """An extension must be new (not a fideslang key) and sit under an existing parent."""
    problems: list[str] = []
    for kind, taxonomy in (
        ("data_uses", fideslang_data_uses()),
        ("data_categories", fideslang_data_categories()),
    ):
        known = taxonomy | _declared_keys(document, kind)
        for index, item in enumerate(extensions(document, kind)):
            key = item["fides_key"]
            where = f"taxonomy_extensions/{kind}/{index}"
            if key in taxonomy:
                problems.append(f"{where}: {key!r} is a fideslang key already: use it, do not declare it")
            elif "." not in key or key.rsplit(".", 1)[0] not in known:
                problems.append(
                    f"{where}: {key!r} has no parent in the fideslang taxonomy nor the extensions"
                )
    return problems
