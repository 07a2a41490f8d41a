"""HTTP responses written as Lavalink writes them.

Lavalink (Spring) answers JSON with ``Content-Type: application/json`` exactly (no charset;
lavalink.py compares the header) and errors with ``{timestamp, status, error, message, path}``
(plus ``trace`` when the request carried ``?trace=true``).
"""

from __future__ import annotations

import json
import time
from http import HTTPStatus
from typing import Any

from aiohttp import web

API_VERSION_HEADER = "Lavalink-Api-Version"
API_VERSION = "4"


class ApiError(Exception):
    """Raised by a handler to answer with Lavalink's error body."""

    def __init__(self, status: int, message: str, *, trace: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.trace = trace


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON body with exactly ``Content-Type: application/json``."""
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode("utf-8"),
        status=status,
        headers={"Content-Type": "application/json"},
    )


def no_content() -> web.Response:
    return web.Response(status=204)


def error_body(
    request: web.Request, status: int, message: str, trace: str | None
) -> dict[str, Any]:
    """Spring's error attributes as Lavalink configures them (message always included)."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    body: dict[str, Any] = {
        "timestamp": int(time.time() * 1000),
        "status": status,
        "error": reason,
    }
    if request.query.get("trace") == "true":
        body["trace"] = trace or f"org.springframework.web.server.ResponseStatusException: {status}"
    body["message"] = message
    body["path"] = request.path
    return body


def error_response(
    request: web.Request, status: int, message: str, trace: str | None = None
) -> web.Response:
    return json_response(error_body(request, status, message, trace), status=status)
