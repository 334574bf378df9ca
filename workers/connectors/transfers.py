"""HTTP delivery of a portability export to another provider named by the subject."""

from __future__ import annotations

from typing import Any

import aiohttp


class HttpTransfers:
    def __init__(self, timeout_seconds: float = 20) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def post(self, url: str, export: dict[str, Any]) -> int:
        """POST the export as JSON; the HTTP status, or OSError when the provider cannot be reached."""
        if not url.startswith(("http://", "https://")):
            raise OSError(f"not an HTTP address: {url!r}")
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.post(url, json=export) as reply,
            ):
                return reply.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise OSError(str(exc) or type(exc).__name__) from exc
