"""Every rule in every pack cites a sentence that really is in the tenant's seed policy."""

import re
from pathlib import Path

import pytest

from orchestrator.policy.packs import load_packs

SEEDS = Path(__file__).resolve().parents[5] / "shared" / "seeds"
PACKS = load_packs()


def _normalise(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u00a0", " ").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip().lower()


def _citations(node, where=""):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "citation":
                yield where, value
            else:
                yield from _citations(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _citations(value, f"{where}/{i}")


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared/seeds is not beside this checkout")
@pytest.mark.parametrize("tenant", sorted(PACKS))
def test_every_citation_is_a_sentence_of_the_seed(tenant):
    pack = PACKS[tenant]
    seed = _normalise((SEEDS / pack.document["controller"]["seed"]).read_text("utf-8"))
    missing = []
    for where, citation in _citations(pack.document):
        for part in _normalise(citation).split("[...]"):
            if part.strip(" .") and part.strip(" .") not in seed:
                missing.append(f"{where}: {part.strip()[:90]}")
    assert not missing, "citations not found in the seed:\n" + "\n".join(missing)


def test_every_tenant_of_the_seeds_has_a_pack():
    assert sorted(PACKS) == ["j2s", "jsm", "jump", "nexio", "upjunoo"]
