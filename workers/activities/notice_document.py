"""The notice to the data subject: what was refused or kept and why, and where to complain.

GDPR Art. 12(4): a controller that does not act on a request, in whole or in part, tells the
subject why and that they may lodge a complaint with a supervisory authority. Every refusal
the orchestrator records (a denied identity check, a rejected request, a refused objection or
rectification, data retained under an exception, a transfer or notification not possible)
becomes a line of this notice, written in the tenant's language (``controller.language``, the
language of its policy) and naming the authority its pack states (``controller.complaints``).
Pure: built from the ledger's view of the request and the pack's controller block.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

LANGUAGES = ("en", "fr", "nl")

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Answer to your {type} request",
        "granted": "{controller} acted on your request in full.",
        "partly_refused": "{controller} acted on your request in part. What it did not do, and why:",
        "refused": "{controller} did not act on your request, for this reason:",
        "open": "Your request is still being handled (status: {status}).",
        "retained": "{system}: kept until {until}, because: {basis}",
        "retained_open": "{system}: kept, because: {basis}",
        "refused_line": "{system}: not done, because: {reason}",
        "complaint": "If you disagree, you may lodge a complaint with {authority}{url}.",
        "contact": "You may also contact {contact}.",
        "law": "(GDPR Art. 12(4))",
    },
    "fr": {
        "title": "Réponse à votre demande ({type})",
        "granted": "{controller} a donné suite à l'intégralité de votre demande.",
        "partly_refused": "{controller} n'a donné suite qu'en partie à votre demande. "
        "Ce qui n'a pas été fait, et pourquoi :",
        "refused": "{controller} n'a pas donné suite à votre demande, pour le motif suivant :",
        "open": "Votre demande est en cours de traitement (statut : {status}).",
        "retained": "{system} : données conservées jusqu'au {until}, motif : {basis}",
        "retained_open": "{system} : données conservées, motif : {basis}",
        "refused_line": "{system} : non effectué, motif : {reason}",
        "complaint": "Si vous n'êtes pas d'accord, vous pouvez introduire une réclamation "
        "auprès de {authority}{url}.",
        "contact": "Vous pouvez aussi nous contacter : {contact}.",
        "law": "(RGPD, art. 12, §4)",
    },
    "nl": {
        "title": "Antwoord op uw verzoek ({type})",
        "granted": "{controller} heeft volledig gevolg gegeven aan uw verzoek.",
        "partly_refused": "{controller} heeft gedeeltelijk gevolg gegeven aan uw verzoek. "
        "Wat niet gebeurde, en waarom:",
        "refused": "{controller} heeft geen gevolg gegeven aan uw verzoek, om deze reden:",
        "open": "Uw verzoek wordt nog behandeld (status: {status}).",
        "retained": "{system}: bewaard tot {until}, omdat: {basis}",
        "retained_open": "{system}: bewaard, omdat: {basis}",
        "refused_line": "{system}: niet uitgevoerd, omdat: {reason}",
        "complaint": "Bent u het er niet mee eens, dan kunt u een klacht indienen bij {authority}{url}.",
        "contact": "U kunt ook contact opnemen via {contact}.",
        "law": "(AVG, art. 12, lid 4)",
    },
}

TYPE_NAMES: dict[str, dict[str, str]] = {
    "en": {"access": "access", "portability": "portability", "erasure": "erasure",
           "rectification": "rectification", "restriction": "restriction", "objection": "objection",
           "consent_withdrawal": "consent withdrawal"},
    "fr": {"access": "accès", "portability": "portabilité", "erasure": "effacement",
           "rectification": "rectification", "restriction": "limitation", "objection": "opposition",
           "consent_withdrawal": "retrait du consentement"},
    "nl": {"access": "inzage", "portability": "gegevensoverdraagbaarheid", "erasure": "verwijdering",
           "rectification": "correctie", "restriction": "beperking", "objection": "bezwaar",
           "consent_withdrawal": "intrekking van toestemming"},
}  # fmt: skip

CLOSED = ("completed", "rejected", "cancelled")


def language_of(controller: dict[str, Any]) -> str:
    language = str(controller.get("language") or "en")
    return language if language in LANGUAGES else "en"


def refusals(request: dict[str, Any]) -> list[dict[str, Any]]:
    """Every part of the request that was not done as asked: refused or retained systems, with
    the reason the ledger holds for each; a rejected request is one refusal of the whole."""
    found = []
    if request["status"] == "rejected":
        found.append({"system": None, "kind": "rejected", "reason": request.get("reason") or ""})
    for system in request.get("systems", []):
        if system["outcome"] == "refused":
            evidence = system.get("evidence") or {}
            reason = (
                system.get("error")
                or evidence.get("not_possible")
                or evidence.get("notification_impossible")
                or ""
            )
            found.append({"system": system["system"], "kind": "refused", "reason": str(reason)})
        elif system["outcome"] == "retained":
            found.append(
                {
                    "system": system["system"],
                    "kind": "retained",
                    "reason": system.get("legal_basis") or "",
                    "retained_until": system.get("retained_until"),
                }
            )
    return found


def build_notice(request: dict[str, Any], controller: dict[str, Any]) -> dict[str, Any]:
    """The notice as data (JSON for machines), its sentences already in the tenant's language."""
    language = language_of(controller)
    text = _TEXT[language]
    name = str(controller.get("name") or request["tenant"])
    refused = refusals(request)
    if request["status"] not in CLOSED:
        decision = "open"
    elif request["status"] == "rejected":
        decision = "refused"
    elif request["status"] == "cancelled":
        decision = "cancelled"
    elif refused:
        decision = "partly_refused"
    else:
        decision = "granted"
    lines = [_line(text, item) for item in refused]
    complaints = controller.get("complaints") or {}
    paragraphs = []
    if decision == "open":
        paragraphs.append(text["open"].format(status=request["status"]))
    elif decision in ("granted", "partly_refused", "refused"):
        paragraphs.append(text[decision].format(controller=name))
    if refused or decision == "refused":
        if complaints.get("authority"):
            url = f" ({complaints['url']})" if complaints.get("url") else ""
            paragraphs.append(
                text["complaint"].format(authority=complaints["authority"], url=url) + " " + text["law"]
            )
        if complaints.get("contact"):
            paragraphs.append(text["contact"].format(contact=complaints["contact"]))
    type_name = TYPE_NAMES[language].get(request["type"], request["type"])
    return {
        "request_id": request["request_id"],
        "tenant": request["tenant"],
        "type": request["type"],
        "status": request["status"],
        "language": language,
        "title": text["title"].format(type=type_name),
        "controller": {"name": name, "contact": controller.get("contact")},
        "decision": decision,
        "refusals": [{**item, "text": line} for item, line in zip(refused, lines, strict=True)],
        "complaint": {key: complaints[key] for key in ("authority", "url", "contact") if key in complaints}
        if refused or decision == "refused"
        else None,
        "paragraphs": paragraphs,
    }


def _line(text: dict[str, str], item: dict[str, Any]) -> str:
    system = item["system"] or "—"
    if item["kind"] == "retained":
        until = item.get("retained_until")
        if until:
            return text["retained"].format(system=system, until=_day(until), basis=item["reason"])
        return text["retained_open"].format(system=system, basis=item["reason"])
    if item["kind"] == "rejected":
        return item["reason"]
    return text["refused_line"].format(system=system, reason=item["reason"])


def _day(value: str) -> str:
    try:
        return datetime.fromisoformat(value).date().isoformat()
    except ValueError:
        return value


def render_notice_html(notice: dict[str, Any]) -> str:
    """The notice as a page for the subject, every value escaped, in the notice's language."""
    e = html.escape
    parts = [
        f"<!doctype html><html lang='{e(notice['language'])}'><head><meta charset='utf-8'>",
        f"<title>{e(notice['title'])}</title></head><body>",
        f"<h1>{e(notice['title'])}</h1>",
        notice_section(notice),
        "</body></html>",
    ]
    return "\n".join(parts)


def notice_section(notice: dict[str, Any]) -> str:
    """The refusals and the complaint route as an HTML fragment (also part of the access report)."""
    e = html.escape
    paragraphs = list(notice["paragraphs"])
    parts = [f"<section class='notice' lang='{e(notice['language'])}'>"]
    if paragraphs:
        parts.append(f"<p>{e(paragraphs.pop(0))}</p>")
    if notice["refusals"]:
        parts.append("<ul>" + "".join(f"<li>{e(r['text'])}</li>" for r in notice["refusals"]) + "</ul>")
    parts.extend(f"<p>{e(p)}</p>" for p in paragraphs)
    parts.append("</section>")
    return "\n".join(parts)
