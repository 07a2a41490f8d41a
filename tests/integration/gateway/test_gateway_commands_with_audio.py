"""End to end, every music command through the Discord emulator, the real gateway, the real
audio component and the Lavalink emulator: each one's happy path and its main refusal, the
permission rules (the bot's channel, the requester's skip, vote-skip by two of three
listeners), ``/search`` results picked from their select menu, and replies in German for a
user whose Discord speaks German."""

from __future__ import annotations

import pytest
from gateway_audio_rig import AudioSetup, Slash, bot_in, playing, playing_title
from gateway_harness import until

from backbeat.testing.discord import DiscordEmulator
from backbeat.testing.lavalink.control_client import LavalinkControlClient

pytestmark = pytest.mark.slow


async def test_every_music_command_end_to_end(audio: AudioSetup) -> None:
    emu, place = audio.emu, audio.place
    control = emu.control
    carol = int((await control.create_user("carol", locale="de"))["id"])
    await control.put_member(place.guild, carol)
    for user in (place.alice, place.bob, carol):
        await control.move_voice(place.guild, user, place.voice)
    async with audio.rig() as rig:
        slash = Slash(emu, place)
        alice, bob = place.alice, place.bob

        # The commands Discord shows, with German descriptions (and some German names).
        synced = {c["name"]: c for c in await control.commands()}
        assert {"play", "seek", "search", "filters", "247", "settings"} <= set(synced)
        assert synced["play"]["description_localizations"]["de"].startswith("Einen Song")
        assert synced["play"]["name_localizations"]["de"] == "abspielen"
        [preset] = [o for o in synced["filters"]["options"] if o["name"] == "preset"]
        assert [c["value"] for c in preset["choices"]][:3] == ["off", "bassboost", "nightcore"]
        [time] = synced["seek"]["options"]
        assert time["description_localizations"]["de"].startswith("1:23 oder 83")
        [mode] = synced["loop"]["options"]
        assert [c["name_localizations"]["de"] for c in mode["choices"]] == [
            "aus",
            "Titel",
            "Warteschlange",
        ]

        # /play: refused outside voice, else the bot joins and plays.
        outsider = int((await control.create_user("dave"))["id"])
        await control.put_member(place.guild, outsider)
        assert "Join a voice channel" in await slash.text(outsider, "play", {"query": "lofi"})
        assert "Playing" in await slash.text(alice, "play", {"query": "house"})
        await until(lambda: bot_in(emu, place.guild, place.voice), within=20)
        first = await until(lambda: playing_title(rig.lavalink, place.guild), within=30)
        assert "Queued" in await slash.text(alice, "play", {"query": "synthwave"})
        assert "position 1" in await slash.text(alice, "playnext", {"query": "jazz"})
        assert "Queued" in await slash.text(alice, "play", {"query": "techno"})
        assert "Queued" in await slash.text(alice, "play", {"query": "rock"})
        assert "Playing **lofi" in await slash.text(alice, "playnow", {"query": "lofi radio"})
        assert "cannot seek" in await slash.text(alice, "seek", {"time": "1:23"})
        assert "Skipped" in await slash.text(alice, "skip")

        # /search: the results as a select menu; the pick is enqueued.
        record = await slash.record(alice, "search", {"query": "metal"})
        results = record["original_message"]
        assert results["embeds"][0]["title"] == "Results for metal"
        [menu] = [c for row in results["components"] for c in row["components"]]
        assert menu["custom_id"] == f"bbs:{place.guild}"
        pick = menu["options"][1]
        clicked = await control.click_component(
            message_id=results["id"],
            user_id=alice,
            custom_id=menu["custom_id"],
            values=[pick["value"]],
        )
        clicked = await control.interaction(clicked["id"], min_events=1)
        assert clicked["initial_response"]["type"] == 6  # deferred: the menu is replaced

        async def picked() -> str | None:
            content = (await control.message(results["id"])).get("content") or ""
            return content if content.startswith("➕") else None

        queued = await until(picked, within=20)
        assert "Queued" in queued
        assert pick["label"].split(". ", 1)[1][:20] in queued
        removed = await slash.text(alice, "remove", {"position": 4})  # the pick, last
        assert "Removed" in removed

        # Views.
        queue = await slash.embed(alice, "queue")
        assert queue["title"] == "Queue"
        assert "1." in queue["description"]
        assert "Now playing" in await slash.text(bob, "nowplaying")
        # In German for carol: an embed, a notice and an error reply from its code.
        german_queue = await slash.embed(carol, "queue")
        assert german_queue["title"] == "Warteschlange"
        assert "Es läuft" in await slash.text(carol, "nowplaying")
        assert await slash.text(carol, "remove", {"position": 99}) == (
            "⚠️ An dieser Position ist kein Titel."
        )

        # Controls.
        assert "Paused" in await slash.text(alice, "pause")
        assert "Resumed" in await slash.text(alice, "resume")
        assert await slash.text(alice, "seek", {"time": "1:23"}) == "⏩ Jumped to 1:23"
        assert "Jumped to" in await slash.text(alice, "seek", {"time": "+10"})
        assert "Give a time" in await slash.text(alice, "seek", {"time": "soon"})
        assert "past the end" in await slash.text(alice, "seek", {"time": "9:59:59"})
        assert "80%" in await slash.text(alice, "volume", {"percent": 80})
        assert "queue" in await slash.text(alice, "loop", {"mode": "queue"})
        assert "off" in await slash.text(alice, "loop", {"mode": "off"})
        assert "Shuffled 3" in await slash.text(alice, "shuffle")
        assert "to position 3" in await slash.text(alice, "move", {"from": 1, "to": 3})
        assert "no track at that position" in await slash.text(alice, "remove", {"position": 99})
        assert "Removed" in await slash.text(alice, "remove", {"position": 3})
        assert "nightcore" in await slash.text(alice, "filters", {"preset": "nightcore"})
        assert "Autoplay: on" in await slash.text(alice, "autoplay", {"enabled": "on"})
        assert "Autoplay: off" in await slash.text(alice, "autoplay", {"enabled": "off"})
        assert "24/7: on" in await slash.text(alice, "247", {"enabled": "on"})
        assert "24/7: off" in await slash.text(alice, "247", {"enabled": "off"})

        # Fairness: bob may not skip alice's track (German for carol), two of three vote.
        assert "/voteskip" in await slash.text(bob, "skip")
        german = await slash.text(carol, "skip")
        assert german.startswith("🗳️ Nur wer den Titel gewünscht hat"), german
        assert "1 of 2" in await slash.text(bob, "voteskip")
        now = await playing_title(rig.lavalink, place.guild)
        voted = await slash.text(carol, "voteskip")
        assert "per Abstimmung übersprungen" in voted, voted
        await until(lambda: _title_changed(rig.lavalink, place.guild, now), within=20)

        # The requester skips their own track; previous goes back.
        assert "Skipped" in await slash.text(alice, "skip")
        assert "Back to" in await slash.text(alice, "previous")
        assert "Cleared" in await slash.text(alice, "clear")

        # A listener elsewhere cannot control the player; /summon moves the bot.
        await control.move_voice(place.guild, bob, place.other_voice)
        other = await slash.text(bob, "pause")
        assert other.startswith("🔇 Join the bot's voice channel"), other
        assert f"<#{place.voice}>" in other
        await control.move_voice(place.guild, alice, place.other_voice)
        assert "Joined" in await slash.text(alice, "summon")
        await until(lambda: bot_in(emu, place.guild, place.other_voice), within=20)

        # Stop clears, disconnect leaves; nothing playing afterwards is said plainly.
        assert "Stopped" in await slash.text(alice, "stop")
        assert "Nothing is playing" in await slash.text(alice, "pause")
        assert "Left the voice channel" in await slash.text(alice, "disconnect")
        await until(lambda: _left(emu, place.guild), within=20)
        assert first  # the first track was played by Lavalink


async def _title_changed(
    lavalink: LavalinkControlClient, guild_id: int, before: str | None
) -> bool:
    player = await playing(lavalink, guild_id)
    return player is not None and player["track"]["info"]["title"] != before


async def _left(emu: DiscordEmulator, guild_id: int) -> bool:
    states = await emu.control.voice_states(guild_id)
    return not any(s["user_id"] == str(emu.bot_user_id) and s["channel_id"] for s in states)
