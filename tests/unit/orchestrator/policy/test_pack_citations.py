"""Every rule in every pack cites a sentence of the tenant's seed policy, taken from the section
of the seed about that right or period (a rule about erasure cites the erasure section, a
retention period the retention section, an objection the objection section, ...)."""

import re
from pathlib import Path

import pytest

from orchestrator.policy.packs import load_packs

PACKS = load_packs()


def _seeds_folder() -> Path | None:
    """``shared/seeds`` beside the checkout (``/work/main`` or a worktree under ``/work/wt``)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "seeds").is_dir():
            return parent / "shared" / "seeds"
    return None


SEEDS = _seeds_folder()

# Seed file -> section -> (first line, last line, heading text found on the first line).
SECTIONS: dict[str, dict[str, tuple[int, int, str]]] = {
    "000_e29b14c58e09ff02.txt": {  # Jump (fr)
        "introduction": (5, 12, "Politique de confidentialité"),
        "données": (13, 24, "Quelles données collectons-nous"),
        "prestataires": (41, 52, "Où conservons-nous vos données"),
        "accès": (57, 76, "Accessibilité"),
        "rectification": (77, 84, "Rectification"),
        "limitation": (85, 90, "Limitation"),
        "opposition": (91, 100, "Opposition"),
        "portabilité": (101, 108, "Portabilité"),
        "effacement": (109, 118, "Droit à l’effacement"),
    },
    "001_c9cd5d49ae0779bb.txt": {  # UPJUNOO (fr)
        "contact": (7, 12, "POUR NOUS CONTACTER"),
        "description": (43, 148, "3. DESCRIPTION DES DONNEES PERSONNELLES"),
        "traitement": (149, 174, "2. Les données collectées directement"),
        "partage": (175, 194, "CONDITIONS DE PARTAGE"),
        "accès": (197, 200, "1. Accès"),
        "effacement": (201, 204, "2. Effacement"),
        "suppression": (205, 210, "3. Suppression de compte"),
        "rectification": (211, 214, "4. Rectification"),
        "limitation": (215, 218, "5. Traitement limité"),
        "portabilité": (219, 222, "6. Informations traitées"),
        "refus": (223, 226, "7. Refus"),
        "réclamations": (227, 232, "8. Réclamations"),
    },
    "002_de27e8eb41b681c3.txt": {  # JSM (nl)
        "bewaring": (110, 119, "7. Hoe lang we persoonsgegevens bewaren"),
        "minderjarigen": (120, 125, "8. Bijzondere en/of gevoelige persoonsgegevens"),
        "derden": (126, 135, "9. Worden persoonsgegevens gedeeld met derde partijen"),
        "rechten": (142, 160, "11. Welke rechten heeft de betrokkene"),
        "klachten": (161, 174, "12. Wijzigingen en vragen"),
    },
    "003_676f03cd0fdf07c0.txt": {  # J2S (en)
        "rights": (38, 49, "Exercise of the rights of the data subjects"),
        "storage": (100, 105, "Storage of personal data"),
        "recipients": (106, 115, "Recipients of personal data and transfers"),
    },
    "004_c3e550c100a741a0.txt": {  # Nexio (fr)
        "utilisation": (17, 44, "Utilisation de vos données personnelles"),
        "tiers": (47, 54, "Transmission de données personnelles à des tiers"),
        "mineurs": (69, 72, "Informations provenant de mineurs"),
        "droits": (81, 109, "Vos droits"),
        "questions": (112, 114, "Questions"),
    },
}

_RIGHTS = (
    "access", "portability", "erasure", "rectification", "restriction", "objection", "consent_withdrawal",
)  # fmt: skip

# Tenant -> kind of rule -> the sections its citation may come from.
ALLOWED: dict[str, dict[str, set[str]]] = {
    "jump": {
        "access": {"accès"}, "portability": {"portabilité"}, "erasure": {"effacement"},
        "retention": {"effacement"}, "rectification": {"rectification"}, "restriction": {"limitation"},
        "objection": {"opposition", "données"}, "objection_rule": {"opposition"},
        "consent_withdrawal": {"données"},
        "deadline": {"accès"}, "identity": {"accès"}, "recipients": {"prestataires"},
        "complaints": {"introduction"},
    },
    "upjunoo": {
        "access": {"accès"}, "portability": {"portabilité"}, "erasure": {"effacement", "suppression"},
        "retention": {"suppression", "traitement"}, "rectification": {"rectification"},
        "restriction": {"limitation"}, "objection": {"refus"}, "consent_withdrawal": {"traitement"},
        "objection_rule": {"traitement", "refus"}, "deadline": {"réclamations"}, "identity": {"contact"},
        "recipients": {"partage"}, "complaints": {"réclamations"},
        "gpc": {"partage"},  # a browser's opt-out of sharing ad identifiers with partners
        "identity_source": {"description"},
    },
    "jsm": {
        **{right: {"rechten"} for right in _RIGHTS}, "consent_withdrawal": {"derden", "rechten"},
        "retention": {"bewaring"}, "recipients": {"derden"}, "transfers": {"derden"},
        "minors": {"minderjarigen"}, "complaints": {"klachten"},
    },
    "j2s": {
        **{right: {"rights"} for right in _RIGHTS}, "retention": {"storage"}, "recipients": {"recipients"},
    },
    "nexio": {
        **{right: {"droits"} for right in _RIGHTS}, "objection": {"droits", "utilisation"},
        "consent_withdrawal": {"droits", "utilisation"}, "retention": {"droits", "utilisation"},
        "recipients": {"tiers", "utilisation"}, "minors": {"mineurs"}, "identity": {"questions"},
    },
}  # fmt: skip
# Rules about the whole request are cited from the rights section unless a tenant says otherwise.
_RIGHTS_SECTION = {
    "jump": "accès", "upjunoo": "réclamations", "jsm": "rechten", "j2s": "rights", "nexio": "droits",
}  # fmt: skip


def _normalise(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u00a0", " ").replace("\u201c", '"').replace("\u201d", '"')
    text = text.replace("**", "")
    return re.sub(r"\s+", " ", text).strip().lower()


def _citations(node, where=""):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "citation":
                yield where, node, value
            else:
                yield from _citations(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _citations(value, f"{where}/{i}")


def _kind(where: str, rule: dict) -> str:
    """What a citation is about, from where it sits in the pack."""
    parts = where.strip("/").split("/")
    if parts[0] == "systems" and len(parts) >= 3 and parts[2] == "identity_source":
        return "identity_source"  # which identifiers a system holds: the data described
    if parts[0] == "systems" and len(parts) >= 4 and parts[2] == "actions":
        kept = rule.get("action") == "retain" or rule.get("keep_recent")
        return "retention" if kept else parts[3]
    named = {
        "controller": "complaints", "objection": "objection_rule", "rectification_review": "rectification",
        "post_mortem_directives": "access", "retention": "retention",
    }  # fmt: skip
    return named.get(parts[0], parts[0])


def _lines_citing(seed_lines: list[str], citation: str) -> list[int]:
    first = _normalise(citation).split("[...]")[0].strip(" .")
    return [number for number, line in enumerate(seed_lines, 1) if first in _normalise(line)]


needs_seeds = pytest.mark.skipif(SEEDS is None, reason="shared/seeds is not beside this checkout")


@needs_seeds
@pytest.mark.parametrize("tenant", sorted(PACKS))
def test_every_citation_is_a_sentence_of_the_seed(tenant):
    pack = PACKS[tenant]
    seed = _normalise((SEEDS / pack.document["controller"]["seed"]).read_text("utf-8"))
    missing = []
    for where, _, citation in _citations(pack.document):
        for part in _normalise(citation).split("[...]"):
            if part.strip(" .") and part.strip(" .") not in seed:
                missing.append(f"{where}: {part.strip()[:90]}")
    assert not missing, "citations not found in the seed:\n" + "\n".join(missing)


@needs_seeds
@pytest.mark.parametrize("seed", sorted(SECTIONS))
def test_the_table_of_sections_still_matches_the_seed(seed):
    lines = (SEEDS / seed).read_text("utf-8").splitlines()
    for name, (first, _, heading) in SECTIONS[seed].items():
        assert _normalise(heading) in _normalise(lines[first - 1]), f"{seed}: section {name} moved"


@needs_seeds
@pytest.mark.parametrize("tenant", sorted(PACKS))
def test_every_citation_comes_from_the_section_about_its_right_or_period(tenant):
    pack = PACKS[tenant]
    seed = pack.document["controller"]["seed"]
    lines = (SEEDS / seed).read_text("utf-8").splitlines()
    sections = SECTIONS[seed]
    wrong = []
    for where, rule, citation in _citations(pack.document):
        kind = _kind(where, rule)
        allowed = ALLOWED[tenant].get(kind, {_RIGHTS_SECTION[tenant]})
        ranges = [sections[name] for name in allowed]
        found = _lines_citing(lines, citation)
        if not any(first <= n <= last for n in found for first, last, _ in ranges):
            wrong.append(f"{where} ({kind}) cites line(s) {found}, outside {sorted(allowed)}")
    assert not wrong, "citations outside the section of their right or period:\n" + "\n".join(wrong)


def test_every_tenant_of_the_seeds_has_a_pack():
    assert sorted(PACKS) == ["j2s", "jsm", "jump", "nexio", "upjunoo"]
