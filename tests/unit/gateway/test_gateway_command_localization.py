"""The slash commands in every language: the whole tree as the gateway syncs it (discord.py's
own payload, through :class:`CommandTranslator`) has a German name, description and choice
name everywhere, each within Discord's rules; the English shown by default is the English
catalogue's; a missing key fails the sync instead of falling back."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

import discord
import pytest
from discord import app_commands

from backbeat.domain.i18n import CATALOGUES, DEFAULT_LANGUAGE, language_of
from backbeat.domain.i18n.commands_en import COMMANDS_EN
from backbeat.gateway.commands import music_commands
from backbeat.gateway.localization import (
    CommandTranslator,
    MissingCommandTextError,
    choices,
    text_key,
)
from backbeat.gateway.settings_command import settings_group

JSON = dict[str, Any]
SUBCOMMAND = 1
MAX_NAME, MAX_DESCRIPTION, MAX_CHOICE_NAME = 32, 100, 100
#: The Discord locales a catalogue other than English serves.
LOCALES = [loc.value for loc in discord.Locale if language_of(loc.value) != DEFAULT_LANGUAGE]


def is_command_name(name: str) -> bool:
    """Discord's rule for command and option names (and their localisations):
    ``^[-_\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$``, lower case where a letter has one."""

    def allowed(char: str) -> bool:
        deva_or_thai = "\u0900" <= char <= "\u097f" or "\u0e00" <= char <= "\u0e7f"
        return char in "-_" or unicodedata.category(char)[0] in "LN" or deva_or_thai

    return 1 <= len(name) <= MAX_NAME and name == name.lower() and all(map(allowed, name))


def is_text(text: str, limit: int) -> bool:
    return 1 <= len(text) <= limit


class Recording(CommandTranslator):
    """Also answers English from the English catalogue, and records the keys asked for."""

    def __init__(self, catalogues: Mapping[str, Mapping[str, str]] = CATALOGUES) -> None:
        super().__init__(catalogues)
        self.keys: set[str] = set()

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = text_key(string, context)
        self.keys.add(key)
        if locale is discord.Locale.american_english:
            return CATALOGUES["en"][key]
        return await super().translate(string, locale, context)


def tree_commands() -> list[Any]:
    flow: Any = None
    return [*music_commands(flow, flow), settings_group(flow)]


async def synced(translator: CommandTranslator) -> list[JSON]:
    """Every command's payload as ``tree.sync()`` sends it."""
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    return [await c.get_translated_payload(tree, translator) for c in tree_commands()]


def nodes(payloads: list[JSON]) -> Iterator[tuple[str, JSON, list[JSON]]]:
    """(kind, node, its siblings) for every command, subcommand, option and choice."""
    for command in payloads:
        yield "command", command, payloads
        for option in command["options"]:
            yield (
                ("subcommand" if option["type"] == SUBCOMMAND else "option"),
                option,
                command["options"],
            )
            for inner in option.get("options", []):
                yield "option", inner, option["options"]
                for choice in inner.get("choices", []):
                    yield "choice", choice, inner["choices"]
            for choice in option.get("choices", []):
                yield "choice", choice, option["choices"]


async def test_every_name_description_and_choice_has_a_text_in_every_language() -> None:
    """In each Discord locale a catalogue serves (German: ``de``), within Discord's rules."""
    payloads = await synced(CommandTranslator())
    seen = {"command": 0, "subcommand": 0, "option": 0, "choice": 0}
    assert LOCALES == ["de"]
    for kind, node, siblings in nodes(payloads):
        seen[kind] += 1
        for locale in LOCALES:
            name = node["name_localizations"][locale]
            if kind == "choice":
                assert is_text(name, MAX_CHOICE_NAME), (locale, node)
                continue
            assert is_command_name(name), (locale, node)
            others = [s["name_localizations"][locale] for s in siblings if s is not node]
            assert name not in others, (locale, node)  # Discord refuses equal names side by side
            assert is_text(node["description_localizations"][locale], MAX_DESCRIPTION), node
    assert seen["command"] == 26
    assert seen["subcommand"] == 12
    assert seen["option"] >= 24
    assert seen["choice"] >= 30


async def test_german_options_and_choices_as_discord_shows_them() -> None:
    payloads = {p["name"]: p for p in await synced(CommandTranslator())}
    volume = payloads["volume"]
    assert volume["name_localizations"]["de"] == "lautstärke"
    [percent] = volume["options"]
    assert (percent["name"], percent["name_localizations"]["de"]) == ("percent", "prozent")
    assert percent["description_localizations"]["de"] == "0 bis 200"
    move = [(o["name"], o["name_localizations"]["de"]) for o in payloads["move"]["options"]]
    assert move == [("from", "von"), ("to", "nach")]
    [mode] = payloads["loop"]["options"]
    assert [(c["value"], c["name_localizations"]["de"]) for c in mode["choices"]] == [
        ("off", "aus"),
        ("track", "Titel"),
        ("queue", "Warteschlange"),
    ]
    settings = {o["name"]: o for o in payloads["settings"]["options"]}
    [_, kind] = settings["blacklist-add"]["options"]
    assert (kind["name"], kind["name_localizations"]["de"]) == ("type", "typ")
    assert [c["value"] for c in kind["choices"]] == ["artist", "channel", "keyword", "track"]


async def test_the_declared_english_is_the_english_catalogues_and_every_key_is_used() -> None:
    translator = Recording()
    for kind, node, _ in nodes(await synced(translator)):
        assert node["name_localizations"]["en-US"] == node["name"], (kind, node)
        if kind != "choice":
            assert node["description_localizations"]["en-US"] == node["description"], node
    assert sorted(set(COMMANDS_EN) - translator.keys) == []


async def test_a_missing_key_fails_the_sync_instead_of_falling_back() -> None:
    german = {k: v for k, v in CATALOGUES["de"].items() if k != "option.volume.percent.name"}
    translator = CommandTranslator({**CATALOGUES, "de": german})
    with pytest.raises(app_commands.TranslationError) as raised:
        await synced(translator)
    assert isinstance(raised.value.__cause__, MissingCommandTextError)
    assert raised.value.__cause__.key == "option.volume.percent.name"


def test_a_choice_without_an_english_text_is_refused_when_declared() -> None:
    [on] = choices("value", ["on"])
    assert (on.name, on.value) == ("on", "on")
    with pytest.raises(MissingCommandTextError, match=r"choice\.preset\.tremolo"):
        choices("choice.preset", ["tremolo"])


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("lautstärke", True),
        ("sperrliste-hinzufügen", True),
        ("247", True),
        ("Lautstärke", False),
        ("zwei wörter", False),
        ("", False),
        ("x" * 33, False),
        ("a/b", False),
    ],
)
def test_discords_name_rule(name: str, valid: bool) -> None:
    assert is_command_name(name) is valid
