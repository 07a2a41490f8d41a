"""Slash-command names, descriptions, option names and descriptions and choice names in every
catalogue's language (discord.py fills each ``name_localizations`` /
``description_localizations`` of the synced commands from :class:`CommandTranslator`).

Every translatable text of the tree has a catalogue key (:func:`text_key`, the scheme is in
:mod:`backbeat.domain.i18n.commands_en`): a command's, group's or option's from where it
stands, a choice's from its ``locale_str`` (:func:`choices`). A key missing in a catalogue
raises :class:`MissingCommandTextError` (the sync fails; a unit test translates the whole
tree), never a silent English. Localisation changes only what Discord shows: interactions
carry the canonical (English) names and the choices' values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import discord
from discord import app_commands

from backbeat.domain.i18n import CATALOGUES, DEFAULT_LANGUAGE, language_of

_Where = app_commands.TranslationContextLocation


class MissingCommandTextError(LookupError):
    """A catalogue has no text for a key of the command tree (a bug: a test finds it)."""

    def __init__(self, language: str, key: str) -> None:
        super().__init__(f"no {language} text for {key!r}")
        self.language = language
        self.key = key


def choices(prefix: str, values: Iterable[str]) -> list[app_commands.Choice[str]]:
    """Choices of ``values``, each named by the catalogue key ``<prefix>.<value>`` (its
    English text is the name Discord shows by default)."""
    keys = {value: f"{prefix}.{value}" for value in values}
    return [
        app_commands.Choice(name=app_commands.locale_str(_english(key), key=key), value=value)
        for value, key in keys.items()
    ]


def _english(key: str) -> str:
    text = CATALOGUES[DEFAULT_LANGUAGE].get(key)
    if text is None:
        raise MissingCommandTextError(DEFAULT_LANGUAGE, key)
    return text


def _path(command: app_commands.Command[Any, ..., Any] | app_commands.Group) -> str:
    return command.qualified_name.replace(" ", ".")


def text_key(string: app_commands.locale_str, context: app_commands.TranslationContextTypes) -> str:
    """The catalogue key of a text of the command tree."""
    where, data = context.location, context.data
    if isinstance(data, app_commands.Parameter):
        part = "name" if where is _Where.parameter_name else "description"
        return f"option.{_path(data.command)}.{data.display_name}.{part}"
    if isinstance(data, app_commands.Command | app_commands.Group):
        kind = "name" if where in (_Where.command_name, _Where.group_name) else "cmd"
        return f"{kind}.{_path(data)}"
    key = string.extras.get("key")
    if not isinstance(key, str):
        raise MissingCommandTextError(DEFAULT_LANGUAGE, f"<no key for {string.message!r}>")
    return key


class CommandTranslator(app_commands.Translator):
    """discord.py's translator hook over Backbeat's catalogues (English is the declared text)."""

    def __init__(self, catalogues: Mapping[str, Mapping[str, str]] = CATALOGUES) -> None:
        self._catalogues = catalogues

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        language = language_of(locale.value)
        if language == DEFAULT_LANGUAGE:
            return None
        key = text_key(string, context)
        text = self._catalogues[language].get(key)
        if text is None:
            raise MissingCommandTextError(language, key)
        return text
