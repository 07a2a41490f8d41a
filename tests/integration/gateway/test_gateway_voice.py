"""Voice forwarding: op 4 on request, raw events to audio, re-registration after a restart,
listener counts, GUILD_DELETE (never for an outage)."""

from __future__ import annotations

import asyncio

from gateway_harness import (
    Place,
    StartGateway,
    Watch,
    gateway_settings,
    make_place,
    post_now_playing,
    until,
)

from backbeat.bus.interface import Bus
from backbeat.domain.messages import Channel
from backbeat.domain.messages.to_discord import (
    VoiceJoin,
    VoiceJoinPayload,
    VoiceLeave,
)
from backbeat.gateway.voice import ForwardingVoice
from backbeat.testing.discord import DiscordEmulator


async def test_voice_survives_a_restart_and_moderator_moves_reach_audio(
    emu: DiscordEmulator,
    place: Place,
    gateway_bus: Bus,
    start_gateway: StartGateway,
) -> None:
    control = emu.control
    bot_id = emu.bot_user_id
    await control.move_voice(place.guild, place.alice, place.voice)
    settings = gateway_settings(emu)
    async with (
        Watch(gateway_bus, Channel.TO_AUDIO) as to_audio,
        start_gateway(settings),
    ):
        await gateway_bus.publish(
            Channel.TO_DISCORD,
            VoiceJoin(
                guild_id=place.guild,
                payload=VoiceJoinPayload(channel_id=place.voice, self_deaf=True),
            ),
        )
        await to_audio.next(lambda m: m.type == "VOICE_SERVER_UPDATE")
        states = await control.voice_states(place.guild)
        mine = next(s for s in states if s["user_id"] == str(bot_id))
        assert mine["channel_id"] == str(place.voice)
        assert mine["self_deaf"] is True

    # A new gateway process: GUILD_CREATE shows the bot in voice; it must not leave it, it
    # registers its protocol again and reports the listeners on READY.
    async with (
        Watch(gateway_bus, Channel.TO_AUDIO) as to_audio,
        start_gateway(settings) as gateway,
    ):
        count = await to_audio.next(lambda m: m.type == "listener-count")
        assert (count.payload.channel_id, count.payload.listeners) == (place.voice, 1)  # type: ignore[attr-defined]
        guild = gateway.bot.get_guild(place.guild)
        assert guild is not None
        assert isinstance(guild.voice_client, ForwardingVoice)
        states = await control.voice_states(place.guild)
        assert any(s["user_id"] == str(bot_id) for s in states)

        # A moderator drags the bot to another channel: audio hears of it.
        await control.move_voice(place.guild, bot_id, place.other_voice)
        moved = await to_audio.next(
            lambda m: m.type == "VOICE_STATE_UPDATE" and m.payload.data["user_id"] == str(bot_id)  # type: ignore[attr-defined]
        )
        assert moved.payload.data["channel_id"] == str(place.other_voice)  # type: ignore[attr-defined]
        count = await to_audio.next(lambda m: m.type == "listener-count")
        assert (count.payload.channel_id, count.payload.listeners) == (place.other_voice, 0)  # type: ignore[attr-defined]

        # Audio asks to leave: op 4 with no channel, the leave forwarded, the protocol gone.
        await gateway_bus.publish(Channel.TO_DISCORD, VoiceLeave(guild_id=place.guild))
        left = await to_audio.next(
            lambda m: m.type == "VOICE_STATE_UPDATE" and m.payload.data["user_id"] == str(bot_id)  # type: ignore[attr-defined]
        )
        assert left.payload.data["channel_id"] is None  # type: ignore[attr-defined]
        await until(lambda: guild.voice_client is None)
        states = await control.voice_states(place.guild)
        assert all(s["user_id"] != str(bot_id) for s in states)

    # The gateway stopping never took the bot out of voice (checked above by the restart).


async def test_guild_delete_is_forwarded_but_an_outage_is_not(
    emu: DiscordEmulator,
    gateway_bus: Bus,
    start_gateway: StartGateway,
) -> None:
    outage = await make_place(emu)
    kicked = await make_place(emu)
    async with (
        Watch(gateway_bus, Channel.TO_AUDIO) as to_audio,
        start_gateway(),
    ):
        await emu.control.guild_unavailable(outage.guild)
        await emu.control.remove_member(kicked.guild, emu.bot_user_id)
        deleted = await to_audio.next(lambda m: m.type == "GUILD_DELETE")
        assert deleted.guild_id == kicked.guild
        await asyncio.sleep(0.2)
        assert to_audio.of_type("GUILD_DELETE") == []


async def test_only_listeners_in_the_bots_channel_use_its_buttons(
    emu: DiscordEmulator,
    place: Place,
    gateway_bus: Bus,
    start_gateway: StartGateway,
) -> None:
    control = emu.control
    await control.move_voice(place.guild, place.alice, place.voice)
    await control.move_voice(place.guild, place.bob, place.other_voice)
    async with (
        Watch(gateway_bus, Channel.TO_AUDIO) as to_audio,
        Watch(gateway_bus, Channel.COMMANDS) as commands,
        start_gateway(),
    ):
        await gateway_bus.publish(
            Channel.TO_DISCORD,
            VoiceJoin(guild_id=place.guild, payload=VoiceJoinPayload(channel_id=place.voice)),
        )
        await to_audio.next(lambda m: m.type == "VOICE_SERVER_UPDATE")
        message = await post_now_playing(emu, gateway_bus, place)
        custom_id = f"bb:pause:{place.guild}"
        refused = await control.click_component(
            message_id=str(message["id"]), user_id=place.bob, custom_id=custom_id
        )
        record = await control.interaction(refused["id"], min_events=2)
        [followup] = record["followups"]
        assert followup["flags"] & 64
        assert "voice channel" in followup["content"]
        await control.click_component(
            message_id=str(message["id"]), user_id=place.alice, custom_id=custom_id
        )
        pause = await commands.next(lambda m: m.type == "pause")
        assert pause.context.user_id == place.alice  # type: ignore[attr-defined]
        assert commands.of_type("pause") == []
