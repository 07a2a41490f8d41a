"""The stand-in gateway answers a voice-join with the bot's voice state, then the voice
server, on the joined guild's to-audio partition; other messages get no answer."""

from __future__ import annotations

import asyncio

from backbeat.benchmark.standin import VoiceJoinAnswers
from backbeat.bus import memory_bus
from backbeat.domain.messages import Channel, Envelope
from backbeat.domain.messages.to_audio import VoiceServerUpdate, VoiceStateUpdate
from backbeat.domain.messages.to_discord import VoiceJoin, VoiceJoinPayload, VoiceLeave

BOT = 4242


async def test_a_voice_join_is_answered_with_state_then_server() -> None:
    bus = memory_bus()
    answers = VoiceJoinAnswers(bus, BOT)
    seen: list[Envelope] = []
    async with bus.tap(Channel.TO_AUDIO) as tap:

        async def collect() -> None:
            async for message in tap:
                seen.append(message)
                if len(seen) == 2:
                    return

        collecting = asyncio.create_task(collect())
        answers.offer(VoiceLeave(guild_id=7))
        answers.offer(VoiceJoin(guild_id=7, payload=VoiceJoinPayload(channel_id=90)))
        await answers.drain()
        await asyncio.wait_for(collecting, 5)
    await bus.close()

    assert answers.joins == 1
    state, server = seen
    assert isinstance(state, VoiceStateUpdate)
    assert isinstance(server, VoiceServerUpdate)
    assert state.guild_id == server.guild_id == 7
    assert state.payload.data["user_id"] == str(BOT)
    assert state.payload.data["channel_id"] == "90"
    assert server.payload.data["guild_id"] == "7"
