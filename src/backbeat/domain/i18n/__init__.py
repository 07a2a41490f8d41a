"""Backbeat's translations: message keys to text in the user's locale.

Audio and the gateway speak in *keys* with parameters (``notice``: ``play.queued`` with
``title``…; ``error-reply``: its ``code``); :class:`Translator` turns them into text in the
user's Discord locale. Catalogues: English (``en``, the fallback, complete by definition) and
German (``de``, complete: a test checks it has every English key with the same fields).
The slash commands' own names, descriptions, options and choices are keys too
(:mod:`backbeat.domain.i18n.commands_en`).

Parameters are prepared before formatting: booleans become the locale's "on"/"off",
``<name>_ms`` durations also give ``<name>_time`` (``m:ss``), and a string parameter whose
value has an entry ``value.<name>.<value>`` (loop modes, autoplay modes) is translated.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from backbeat.domain.i18n.catalog_de import GERMAN
from backbeat.domain.i18n.catalog_en import ENGLISH

Param = str | int | float | bool

DEFAULT_LANGUAGE: Final = "en"

CATALOGUES: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType({"en": ENGLISH, "de": GERMAN})
"""Every catalogue by language code."""


def language_of(locale: str | None) -> str:
    """The catalogue for a Discord locale (``de``, ``en-US``, ``pt-BR``…); English otherwise."""
    if not locale:
        return DEFAULT_LANGUAGE
    language = locale.split("-", 1)[0].lower()
    return language if language in CATALOGUES else DEFAULT_LANGUAGE


def fields_of(template: str) -> frozenset[str]:
    """The ``{field}`` names a template uses."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def duration(ms: int | float) -> str:
    """``m:ss`` or ``h:mm:ss``."""
    seconds = max(0, int(ms)) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Translator:
    """Looks keys up in the user's language, falling back to English, then to the key."""

    def __init__(self, catalogues: Mapping[str, Mapping[str, str]] = CATALOGUES) -> None:
        self._catalogues = catalogues

    def has(self, key: str) -> bool:
        return key in self._catalogues[DEFAULT_LANGUAGE]

    def lookup(self, locale: str | None, key: str) -> str | None:
        """The raw template of ``key`` in ``locale`` (English when missing there), or None."""
        language = language_of(locale)
        template = self._catalogues.get(language, {}).get(key)
        if template is None:
            template = self._catalogues[DEFAULT_LANGUAGE].get(key)
        return template

    def text(
        self, locale: str | None, key: str, params: Mapping[str, Param] | None = None, /
    ) -> str | None:
        """``key`` in ``locale`` filled with ``params``; None when no catalogue knows it or a
        field the template needs is missing (the caller says it plainly instead)."""
        template = self.lookup(locale, key)
        if template is None:
            return None
        values = self._prepared(locale, params or {})
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):
            return None

    def __call__(self, locale: str | None, key: str, /, **params: Param) -> str:
        """``key`` in ``locale``, or the key itself when it is unknown (never raises)."""
        return self.text(locale, key, params) or key

    def _prepared(self, locale: str | None, params: Mapping[str, Param]) -> dict[str, object]:
        values: dict[str, object] = {}
        for name, value in params.items():
            if isinstance(value, bool):
                values[name] = self.lookup(locale, "value.on" if value else "value.off")
                continue
            if isinstance(value, str):
                translated = self.lookup(locale, f"value.{name}.{value}")
                values[name] = translated if translated is not None else value
            else:
                values[name] = value
            if name.endswith("_ms") and isinstance(value, int | float):
                values[name[:-3] + "_time"] = duration(value)
        return values


__all__ = [
    "CATALOGUES",
    "DEFAULT_LANGUAGE",
    "Translator",
    "duration",
    "fields_of",
    "language_of",
]
