"""The stand-in gateway of the audio benchmarks: it answers a worker's ``voice-join``.

A real gateway asks Discord to join and relays the two raw events Discord sends back (the
bot's voice state, then the voice server). The benchmarks have no Discord: they answer each
join with both events at once, in one publish round trip, as the gateway would relay them.
"""

from __future__ import annotations

import asyncio

from backbeat.bus.publisher import PublishesMany
from backbeat.domain.messages import Channel, Envelope
from backbeat.domain.messages.to_audio import (
    VoiceServerPayload,
    VoiceServerUpdate,
    VoiceStatePayload,
    VoiceStateUpdate,
)
from backbeat.domain.messages.to_discord import VoiceJoin

#: The voice server the stand-in names (never contacted: the emulator does not dial it).
VOICE_ENDPOINT = "c.discord.media"


def voice_events(join: VoiceJoin, bot_user_id: int) -> list[tuple[Channel, Envelope]]:
    """The voice state and voice server events Discord would send after ``join``."""
    guild = join.guild_id
    state = {
        "guild_id": str(guild),
        "user_id": str(bot_user_id),
        "session_id": f"s-{guild}",
        "channel_id": str(join.payload.channel_id),
    }
    server = {"guild_id": str(guild), "token": f"t-{guild}", "endpoint": VOICE_ENDPOINT}
    return [
        (Channel.TO_AUDIO, VoiceStateUpdate(guild_id=guild, payload=VoiceStatePayload(data=state))),
        (
            Channel.TO_AUDIO,
            VoiceServerUpdate(guild_id=guild, payload=VoiceServerPayload(data=server)),
        ),
    ]


async def answer_voice_join(bus: PublishesMany, join: VoiceJoin, bot_user_id: int) -> None:
    """Publish the answer to ``join`` (both voice events, in order, one round trip)."""
    await bus.publish_many(voice_events(join, bot_user_id))


class VoiceJoinAnswers:
    """Answers voice-joins in tasks of their own, so a tap never waits on a publish."""

    def __init__(self, bus: PublishesMany, bot_user_id: int) -> None:
        self._bus = bus
        self._bot_user_id = bot_user_id
        self._tasks: set[asyncio.Task[None]] = set()
        #: Voice-joins seen so far.
        self.joins = 0

    def offer(self, message: Envelope) -> None:
        """Answer ``message`` if it is a voice-join (anything else is ignored)."""
        if not isinstance(message, VoiceJoin):
            return
        self.joins += 1
        task = asyncio.create_task(answer_voice_join(self._bus, message, self._bot_user_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the answers under way."""
        await asyncio.gather(*self._tasks, return_exceptions=True)
