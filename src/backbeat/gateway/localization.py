"""Command names and descriptions in every catalogue's language, synced with the commands
(discord.py fills ``name_localizations`` / ``description_localizations`` from this).

Command descriptions come from the catalogue's ``cmd.<name>`` entries, option and
subcommand descriptions and choice names from ``COMMAND_TEXTS`` (keyed by their English
text); a few commands also have a name of their own in a language (:data:`NAMES`). Option
names stay English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import discord
from discord import app_commands

from backbeat.domain.i18n import COMMAND_TEXTS, DEFAULT_LANGUAGE, Translator, language_of

#: Localised command names by language (lower case, unique within a language).
NAMES: Final[Mapping[str, Mapping[str, str]]] = {
    "de": {
        "play": "abspielen",
        "skip": "überspringen",
        "stop": "stopp",
        "queue": "warteschlange",
        "volume": "lautstärke",
        "shuffle": "mischen",
        "settings": "einstellungen",
    },
}


class CommandTranslator(app_commands.Translator):
    """discord.py's translator hook over Backbeat's catalogues."""

    def __init__(self, translator: Translator) -> None:
        self._tr = translator

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        language = language_of(locale.value)
        if language == DEFAULT_LANGUAGE:
            return None
        where = context.location
        data = context.data
        if where is app_commands.TranslationContextLocation.command_name:
            name = getattr(data, "qualified_name", string.message)
            return NAMES.get(language, {}).get(name)
        texts = COMMAND_TEXTS.get(language, {})
        if where is app_commands.TranslationContextLocation.command_description:
            name = getattr(data, "qualified_name", "")
            key = f"cmd.{name}"
            if not self._tr.has(key) or self._tr.lookup(DEFAULT_LANGUAGE, key) != string.message:
                return texts.get(string.message)  # a subcommand's, or none
            text = self._tr.lookup(locale.value, key)
            return text if text != string.message else None
        if where in (
            app_commands.TranslationContextLocation.parameter_description,
            app_commands.TranslationContextLocation.choice_name,
        ):
            return texts.get(string.message)
        if where is app_commands.TranslationContextLocation.group_name:
            return NAMES.get(language, {}).get(getattr(data, "qualified_name", string.message))
        if where is app_commands.TranslationContextLocation.group_description:
            key = f"cmd.{getattr(data, 'qualified_name', '')}"
            text = self._tr.lookup(locale.value, key) if self._tr.has(key) else None
            return text if text != string.message else None
        return None
