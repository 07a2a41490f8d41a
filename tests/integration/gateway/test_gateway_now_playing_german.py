"""A server whose primary language is German (its server settings, ``preferred_locale``) gets
its now-playing message in German: audio's snapshots over the real bus, rendered by the real
gateway into the Discord emulator; embed and buttons, playing and paused. When the server
switches back (GUILD_UPDATE), the next snapshot is rendered in English."""

from __future__ import annotations

from typing import Any

from gateway_harness import (
    Place,
    StartGateway,
    buttons_of,
    post_now_playing,
    state,
    until,
)

from backbeat.bus.interface import Bus
from backbeat.domain.messages import Channel, NowPlayingState
from backbeat.domain.messages.common import AutoplayMode, LoopMode
from backbeat.domain.messages.ui import AutoplayReason, StatePayload, UiUpdate
from backbeat.testing.discord import DiscordEmulator


def autoplay_pick(place: Place, **changes: Any) -> NowPlayingState:
    """An autoplay pick (it shows the "not this" buttons, the only ones with words)."""
    return state(
        place,
        requester_id=None,
        is_autoplay_track=True,
        autoplay_why=AutoplayReason(kind="artist", subject="Chill Artist"),
        autoplay=True,
        autoplay_mode=AutoplayMode.ARTIST,
        loop=LoopMode.QUEUE,
        volume=80,
        queue_length=1,
        **changes,
    )


async def titled(emu: DiscordEmulator, message_id: str, title: str) -> dict[str, Any] | None:
    current = await emu.control.message(message_id)
    return current if current["embeds"][0]["title"].startswith(title) else None


def fields_of(message: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message["embeds"][0]["fields"]}


def labels_of(message: dict[str, Any], place: Place) -> tuple[str, str]:
    labels = {b["custom_id"]: b.get("label") for b in buttons_of(message)}
    return labels[f"bb:nottrack:{place.guild}"], labels[f"bb:notartist:{place.guild}"]


async def test_a_german_server_sees_its_now_playing_message_in_german(
    emu: DiscordEmulator,
    place: Place,
    gateway_bus: Bus,
    start_gateway: StartGateway,
) -> None:
    # A manager sets the server's primary language before the bot connects (GUILD_CREATE).
    await emu.control.update_guild(place.guild, preferred_locale="de")
    async with start_gateway() as gateway:
        message = await post_now_playing(emu, gateway_bus, place, autoplay_pick(place))
        [embed] = message["embeds"]
        assert embed["title"] == "🎶 Es läuft · ♾️ von Autoplay gewählt (mehr von Chill Artist)"
        assert "Begonnen <t:" in embed["description"]
        assert fields_of(message) == {
            "Künstler": "Chill Artist",
            "Lautstärke": "80%",
            "Wiederholen": "Warteschlange",
            "Autoplay": "an (Künstler)",
            "Filter": "keine",
            "Als Nächstes": "1 Titel · 6:40",
        }
        assert labels_of(message, place) == ("Nicht dieser Titel", "Nicht dieser Künstler")

        # Paused: the next snapshot edits the message, still in German.
        await gateway_bus.publish(
            Channel.UI_NOW,
            UiUpdate(
                guild_id=place.guild,
                payload=StatePayload(state_seq=2, state=autoplay_pick(place, paused=True)),
            ),
        )
        paused = await until(lambda: titled(emu, message["id"], "⏸️ Pausiert"))
        assert "⏸️ Pausiert bei 0:05 / 3:00" in paused["embeds"][0]["description"]
        assert labels_of(paused, place) == ("Nicht dieser Titel", "Nicht dieser Künstler")

        # The server switches back to English: the next snapshot is rendered in English.
        await emu.control.update_guild(place.guild, preferred_locale="en-US")
        await until(lambda: gateway.ui.locale_of(place.guild) == "en-US")
        await gateway_bus.publish(
            Channel.UI_NOW,
            UiUpdate(
                guild_id=place.guild,
                payload=StatePayload(state_seq=3, state=autoplay_pick(place)),
            ),
        )
        english = await until(lambda: titled(emu, message["id"], "🎶 Now playing"))
        assert english["embeds"][0]["title"].endswith("autoplay pick (more from Chill Artist)")
        assert fields_of(english)["Volume"] == "80%"
        assert labels_of(english, place) == ("Not this track", "Not this artist")
