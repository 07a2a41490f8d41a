"""Reading request bodies: URL-encoded forms (bounded) and JSON objects."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request

from backbeat.panel.errors import PanelError

MAX_BODY = 64 * 1024


class BodyTooLarge(PanelError):
    status = 413
    title = "Request too large"


async def _body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyTooLarge("the request body is too large")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_form(request: Request) -> dict[str, str]:
    """The URL-encoded form (an empty body: no fields); for repeated names the last wins."""
    body = await _body(request)
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        if not body:
            return {}
        raise PanelError("a form body (application/x-www-form-urlencoded) is expected")
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[-1] for name, values in parsed.items()}


async def read_json(request: Request) -> dict[str, Any]:
    """The JSON object of the body."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise PanelError("a JSON body (application/json) is expected")
    try:
        data = json.loads(await _body(request))
    except ValueError as error:
        raise PanelError("the body is not valid JSON") from error
    if not isinstance(data, dict):
        raise PanelError("the body must be a JSON object")
    return data
