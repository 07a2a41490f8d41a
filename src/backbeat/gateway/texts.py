"""Plain fallbacks for replies no catalogue can render, and durations.

Every text the gateway shows comes from the translation catalogues
(:mod:`backbeat.domain.i18n`) in the user's locale. These fallbacks cover what they do not
know (a key audio sends before the catalogue has it, a template missing a value): the
notice's key and parameters said plainly, an error reply's English message.
"""

from __future__ import annotations

from collections.abc import Mapping

from backbeat.domain.i18n import duration

Param = str | int | float | bool

__all__ = ["duration", "error_text", "notice_text"]


def notice_text(key: str, params: Mapping[str, Param]) -> str:
    """A notice said plainly: ``queue.cleared`` with ``count=3`` → "Queue cleared (count: 3)"."""
    words = key.replace(".", " ").replace("_", " ").replace("-", " ").strip().capitalize()
    details = ", ".join(f"{name}: {value}" for name, value in params.items())
    return f"{words} ({details})" if details else words


def error_text(message: str) -> str:
    return f"⚠️ {message}"
