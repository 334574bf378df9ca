"""The page where a person verifies their identity for an agent's request (DRP 1.0, 3.02.1).

``GET  /v1/drp/verification/{request_id}?request_id=…&redirect_to=…``  the form
``POST /v1/drp/verification/{request_id}``                            the answer (a form post)

The agent vouched for fewer identities than the tenant's rule asks, so the status said
``need_user_verification`` with this page as ``user_verification_url``; the agent sends the
person here with ``request_id`` (checked against the page's own request, as the spec says) and
``redirect_to``.

How a person proves who they are without an account with us: by a detail the business's own
records hold for them and the agent did not send — a customer number, a phone number — found by
identity resolution in the tenant's identity sources before the request waited, and kept sealed
in the ledger. The CCPA regulations (§7062) verify a person by matching data points they give
against data points the business maintains; knowing someone's e-mail does not give their
customer number. A match is the person's approval, recorded through the very audited Update an
operator's verification is (``Operations.verify``, actor ``data subject (DRP verification
page)``); ``MAX_ATTEMPTS`` wrong answers deny it (DRP ``denied``/``insuf_verification``), and so
does the workflow when ``expires_at`` passes. Where the identity sources found nothing to ask
for, the page says so and the request waits for an operator's ``verify``, as any agent's
request does. The person goes back to ``redirect_to`` on success only (the spec: never after a
failure). Nothing the person types is logged or shown back.
"""

from __future__ import annotations

import contextlib
import hmac
import html
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any, NoReturn
from urllib.parse import urlsplit

from aiohttp import web

from orchestrator.api.drp_protocol import VERIFICATION_PATH, needs_user_verification
from orchestrator.operations import ActionRefused, NotFound, Operations
from schemas.identity import normalise_identity
from workers.ledger import Ledger
from workers.ledger.copies import Sealer

log = logging.getLogger("privacy.drp.verification")

MAX_ATTEMPTS = 5
ACTOR = "data subject (DRP verification page)"
LABELS = {"customer_id": "customer number", "phone": "phone number", "email": "e-mail address"}


class Answer(Exception):
    """A page to show instead of the form: HTTP status and what the person reads."""

    def __init__(self, status: int, title: str, text: str) -> None:
        super().__init__(title)
        self.status, self.title, self.text = status, title, text


class VerificationPage:
    def __init__(self, ledger: Ledger, operations: Operations, sealer: Sealer) -> None:
        self._ledger = ledger
        self._operations = operations
        self._sealer = sealer

    async def waiting(self, request_id: str, named: str) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """The agent's request, checked to be this page's and to wait for the person; and the
        details the business holds that the person may give (kind → values, sealed in the ledger)."""
        try:
            request_id = str(uuid.UUID(request_id))
        except ValueError:
            raise Answer(404, "No such request", "This verification link is not valid.") from None
        if named != request_id:
            raise Answer(400, "Wrong request", "This link does not belong to the request you were sent for.")
        row = await self._ledger.drp.request(request_id)
        if row is None:
            raise Answer(404, "No such request", "This verification link is not valid.")
        if row["user_verification_until"] is None or not needs_user_verification(row):
            raise Answer(409, "Nothing to verify", "This request does not wait for a verification any more.")
        if datetime.now(UTC) >= row["user_verification_until"]:
            raise Answer(410, "Too late", "The time to verify this request has passed.")
        if row["user_verification_attempts"] >= MAX_ATTEMPTS:
            raise Answer(403, "Not verified", "Too many wrong answers: the request is closed.")
        return row, await self._held(request_id)

    async def _held(self, request_id: str) -> dict[str, list[str]]:
        sealed = await self._ledger.identities.sealed(request_id)
        if sealed is None:
            return {}
        try:
            found = json.loads(self._sealer.unseal(sealed[0], sealed[1], request_id)).get("found", {})
        except Exception as exc:  # noqa: BLE001 - a key no longer held: nothing to ask, an operator checks
            log.warning("drp verification: sealed identifiers unreadable (%s)", type(exc).__name__)
            return {}
        return {kind: [v["value"] for v in values] for kind, values in found.items() if values}

    async def answer(self, request_id: str, form: dict[str, str]) -> str:
        """Check the detail given; returns where to send the person on success."""
        row, held = await self.waiting(request_id, form.get("request_id", ""))
        kind, given = form.get("kind", ""), form.get("value", "")
        if kind not in held:
            raise Answer(400, "Choose a detail", "Choose one of the details listed on the form.")
        wanted = normalise_identity(kind, given).encode()
        matched = False
        for value in held[kind]:  # every value compared, in constant time each
            matched |= hmac.compare_digest(wanted, normalise_identity(kind, value).encode())
        if not matched:
            await self._wrong(row)
        await self._ledger.drp.user_verified(row["request_id"])
        try:
            await self._operations.verify(
                row["request_id"],
                True,
                ACTOR,
                f"the person gave the {LABELS.get(kind, kind)} the business holds",
            )
        except (ActionRefused, NotFound) as exc:
            await self._ledger.drp.user_verified(row["request_id"], False)
            raise Answer(409, "Not recorded", f"Your verification could not be recorded: {exc}") from None
        log.info("drp person verified: request_id=%s kind=%s", row["request_id"], kind)
        return form.get("redirect_to", "")

    async def _wrong(self, row: dict[str, Any]) -> NoReturn:
        attempts = await self._ledger.drp.user_verification_failed(row["request_id"])
        log.warning("drp person verification failed: request_id=%s attempt=%d", row["request_id"], attempts)
        if attempts < MAX_ATTEMPTS:
            left = MAX_ATTEMPTS - attempts
            raise Answer(403, "Not matched", f"That does not match our records. {left} tries left.")
        reason = f"the details given on the verification page did not match the business's records ({attempts} tries)"  # noqa: E501
        with contextlib.suppress(ActionRefused, NotFound):  # decided meanwhile: that decision stands
            await self._operations.verify(row["request_id"], False, ACTOR, reason)
        raise Answer(403, "Not verified", "That does not match our records. The request is closed.")


PAGE = web.AppKey("drp_verification_page", VerificationPage)


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = (
        "<!doctype html><html><head><meta charset='utf-8'><title>"
        f"{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:2em;max-width:40em}}"
        f"</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return web.Response(text=text, status=status, content_type="text/html")


async def show_form(request: web.Request) -> web.Response:
    path_id = request.match_info["request_id"]
    try:
        _, held = await request.app[PAGE].waiting(path_id, request.query.get("request_id", ""))
    except Answer as answer:
        return _page(answer.title, f"<p>{html.escape(answer.text)}</p>", answer.status)
    if not held:
        return _page(
            "Verification by the business",
            "<p>We hold no detail we could ask you for here. The business will check your identity "
            "itself and may contact you; the agent will be told when the request goes on.</p>",
        )
    options = "".join(
        f"<option value='{html.escape(kind)}'>{html.escape(LABELS.get(kind, kind))}</option>"
        for kind in sorted(held)
    )
    action = html.escape(VERIFICATION_PATH.format(request_id=path_id))
    named, back_to = (html.escape(request.query.get(k, "")) for k in ("request_id", "redirect_to"))
    form = (
        "<p>To go on with the request your agent made for you, give one detail of your account "
        "with the business.</p>"
        f"<form method='post' action='{action}'>"
        f"<input type='hidden' name='request_id' value='{named}'>"
        f"<input type='hidden' name='redirect_to' value='{back_to}'>"
        f"<p><label>Detail <select name='kind'>{options}</select></label></p>"
        "<p><label>Value <input name='value' autocomplete='off' required></label></p>"
        "<p><button type='submit'>Verify</button></p></form>"
    )
    return _page("Verify your identity", form)


async def submit_answer(request: web.Request) -> web.Response:
    try:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    except ValueError:  # a body that is not a form
        return _page("Not a form", "<p>Send the form on the verification page.</p>", 400)
    try:
        back_to = await request.app[PAGE].answer(request.match_info["request_id"], form)
    except Answer as answer:
        return _page(answer.title, f"<p>{html.escape(answer.text)}</p>", answer.status)
    if urlsplit(back_to).scheme in ("http", "https"):
        raise web.HTTPSeeOther(back_to)  # the spec: back to the agent after a successful verification
    return _page("Verified", "<p>Thank you: the request goes on. Your agent will tell you how it ends.</p>")


def add_verification_routes(app: web.Application, page: VerificationPage) -> None:
    """Public: the person has no token; the request's own link and their answer are what count."""
    app[PAGE] = page
    app.router.add_get(VERIFICATION_PATH, show_form)
    app.router.add_post(VERIFICATION_PATH, submit_answer)
