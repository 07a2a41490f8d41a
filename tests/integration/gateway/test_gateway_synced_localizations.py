"""The commands the real gateway syncs to the Discord emulator carry German names and
descriptions for their options and subcommands and German names for their choices; a German
user's interaction still names its options canonically (as Discord sends them) and the
handlers get the same values as in English."""

from __future__ import annotations

from typing import Any

from gateway_harness import Place, StartGateway, Watch

from backbeat.bus.interface import Bus
from backbeat.domain.messages import Channel
from backbeat.domain.messages.commands import Loop, Move, Volume
from backbeat.domain.messages.common import LoopMode
from backbeat.testing.discord import DiscordEmulator


def german(node: dict[str, Any]) -> tuple[str, str, str]:
    """A command's or option's canonical name, German name and German description."""
    return (
        node["name"],
        node["name_localizations"]["de"],
        node["description_localizations"]["de"],
    )


def by_name(nodes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in nodes}


async def test_synced_options_and_choices_are_german_and_canonical_names_still_work(
    emu: DiscordEmulator, place: Place, gateway_bus: Bus, start_gateway: StartGateway
) -> None:
    control = emu.control
    carol = int((await control.create_user("carol", locale="de"))["id"])
    await control.put_member(place.guild, carol)
    await control.move_voice(place.guild, carol, place.voice)
    async with (
        Watch(gateway_bus, Channel.COMMANDS) as commands,
        start_gateway(),
    ):
        synced = by_name(await control.commands())
        [percent] = synced["volume"]["options"]
        assert german(synced["volume"])[1] == "lautstärke"
        assert german(percent) == ("percent", "prozent", "0 bis 200")
        assert [german(o)[:2] for o in synced["move"]["options"]] == [
            ("from", "von"),
            ("to", "nach"),
        ]
        [mode] = synced["loop"]["options"]
        assert german(mode) == ("mode", "modus", "aus, Titel oder Warteschlange")
        assert [
            (c["value"], c["name"], c["name_localizations"]["de"]) for c in mode["choices"]
        ] == [
            ("off", "off", "aus"),
            ("track", "track", "Titel"),
            ("queue", "queue", "Warteschlange"),
        ]
        settings = by_name(synced["settings"]["options"])
        add = settings["blacklist-add"]
        assert german(add)[1] == "sperrliste-hinzufügen"
        entry, kind = add["options"]
        assert german(entry)[:2] == ("entry", "eintrag")
        assert german(kind)[:2] == ("type", "typ")
        assert [c["name_localizations"]["de"] for c in kind["choices"]] == [
            "Künstler",
            "Kanal",
            "Stichwort",
            "Titel",
        ]
        stay = by_name(settings["247"]["options"])["enabled"]
        assert german(stay) == ("enabled", "zustand", "an oder aus")

        # Carol's Discord shows /lautstärke prozent:…, but sends the canonical names.
        async def run(name: str, options: dict[str, Any]) -> None:
            await control.invoke_command(
                guild_id=place.guild,
                channel_id=place.text,
                user_id=carol,
                name=name,
                options=options,
            )

        await run("volume", {"percent": 50})
        volume = await commands.next(lambda m: m.type == "volume")
        assert isinstance(volume, Volume)
        assert volume.payload.percent == 50
        assert volume.context.locale == "de"
        await run("loop", {"mode": "track"})
        loop = await commands.next(lambda m: m.type == "loop")
        assert isinstance(loop, Loop)
        assert loop.payload.mode is LoopMode.TRACK
        await run("move", {"from": 3, "to": 1})
        move = await commands.next(lambda m: m.type == "move")
        assert isinstance(move, Move)
        assert (move.payload.from_position, move.payload.to_position) == (3, 1)
