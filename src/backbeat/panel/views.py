"""Rendering pages: Jinja2 templates from this package, autoescaped, one base layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
STATIC_DIR = Path(__file__).parent / "static"


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """The page ``template`` with ``context`` (``session`` and ``csrf`` filled in when known)."""
    values: dict[str, Any] = {"session": getattr(request.state, "session", None)}
    values.update(context or {})
    return TEMPLATES.TemplateResponse(request, template, values, status_code=status)
