"""Web security: response headers on every answer, safe post-login targets, same-origin checks.

The Content-Security-Policy allows scripts and styles from the panel's own origin only (no
inline script, no CDN), forbids framing and restricts form targets to the panel itself.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS: Final[dict[str, str]] = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS: Final = "max-age=31536000"
MAX_NEXT_LENGTH: Final = 512


class SecurityHeaders:
    """ASGI middleware: the headers above on every response (HSTS too when https);
    ``Cache-Control: no-store`` on everything but static files."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = dict(HEADERS)
                if self.https:
                    extra["Strict-Transport-Security"] = HSTS
                if not static:
                    extra["Cache-Control"] = "no-store"
                for name, value in extra.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else ``/guilds`` (no open redirects).

    Accepted: an absolute path starting with a single ``/``, without a scheme, host,
    backslash or control character, at most 512 characters.
    """
    fallback = "/guilds"
    if not target or len(target) > MAX_NEXT_LENGTH:
        return fallback
    if not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


def same_origin(origin: str | None, public_url: str) -> bool:
    """True when a request's ``Origin`` (absent counts as same) is the panel's public origin."""
    if origin is None:
        return True
    return origin.rstrip("/") == public_url.rstrip("/")
