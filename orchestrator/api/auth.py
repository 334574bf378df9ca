"""API tokens and roles: who may read statuses, who may act, who may read personal data.

Roles are ordered: ``viewer`` (statuses, lists) < ``operator`` (act on requests) < ``dpo``
(reports with personal data, legal holds, directives, audit, decrypted payloads). Tokens come
from ``PRIVACY_API_TOKENS`` (``token:name:role,...``) or, on the dev stack, from
``<state>/api-tokens.json``, created once with one token per role (mode 0600).
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

ROLES = ("viewer", "operator", "dpo")
TOKENS_ENV = "PRIVACY_API_TOKENS"


@dataclass(frozen=True)
class Principal:
    name: str
    role: str

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


PRINCIPAL = web.RequestKey("principal", Principal)


class TokenBook:
    def __init__(self, tokens: dict[str, Principal]) -> None:
        self._tokens = tokens

    def find(self, token: str) -> Principal | None:
        for known, principal in self._tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return principal
        return None

    @classmethod
    def parse(cls, spec: str) -> TokenBook:
        tokens = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            token, _, rest = item.partition(":")
            name, _, role = rest.partition(":")
            if role not in ROLES or not name or len(token) < 16:
                raise ValueError(f"{TOKENS_ENV}: entries are token(16+ chars):name:{'|'.join(ROLES)}")
            tokens[token] = Principal(name, role)
        return cls(tokens)

    @classmethod
    def from_environment(cls, state_dir: Path) -> TokenBook:
        spec = os.environ.get(TOKENS_ENV)
        if spec:
            return cls.parse(spec)
        stored = dev_tokens(state_dir)
        return cls({t: Principal(p["name"], p["role"]) for t, p in stored.items()})


def dev_tokens(state_dir: Path) -> dict[str, dict[str, str]]:
    """The dev stack's local tokens, one per role; created on first use."""
    path = state_dir / "api-tokens.json"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(
                {secrets.token_urlsafe(24): {"name": f"local-{r}", "role": r} for r in ROLES}, out, indent=2
            )
    tokens: dict[str, dict[str, str]] = json.loads(path.read_text())
    return tokens


def token_for(state_dir: Path, role: str) -> str:
    return next(t for t, p in dev_tokens(state_dir).items() if p["role"] == role)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def require(role: str, handler: Handler) -> Handler:
    """Wrap a route: 401 without a valid token, 403 when the token's role is too low."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        principal = request.get(PRINCIPAL)
        if principal is None:
            return web.json_response(
                {"error": "missing or unknown API token (Authorization: Bearer <token>)"},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not principal.may(role):
            return web.json_response(
                {"error": f"{principal.name} is a {principal.role}; this needs the {role} role"}, status=403
            )
        return await handler(request)

    return guarded


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolve the bearer token (or a codec path token) to a principal; routes decide what it may do."""
    book: TokenBook = request.app[TOKEN_BOOK]
    header = request.headers.get("Authorization", "")
    token = (
        header[7:].strip() if header.lower().startswith("bearer ") else request.match_info.get("token", "")
    )
    principal = book.find(token) if token else None
    if principal is not None:
        request[PRINCIPAL] = principal
    return await handler(request)


TOKEN_BOOK = web.AppKey("token_book", TokenBook)
