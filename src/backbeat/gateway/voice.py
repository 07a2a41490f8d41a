"""Voice forwarding: raw voice events to audio, op 4 on audio's request, listener counts.

Lavalink makes the voice connection, so the gateway never opens one. It registers a
:class:`ForwardingVoice` (a discord.py ``VoiceProtocol``) for each guild whose voice it
handles; discord.py hands that protocol the bot's raw ``VOICE_STATE_UPDATE`` and
``VOICE_SERVER_UPDATE`` payloads (it drops ``VOICE_SERVER_UPDATE`` for a guild without
one), and the protocol publishes them unchanged on ``to-audio``. A protocol is registered
when audio asks to join (``voice-join``) and again when ``GUILD_CREATE`` shows the bot already
in voice (after a gateway restart), so moves and disconnects by a moderator still reach audio.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Protocol

import discord

from backbeat.domain.messages import Channel, Envelope
from backbeat.domain.messages.to_audio import (
    GuildDelete,
    GuildDeletePayload,
    ListenerCount,
    ListenerCountPayload,
    VoiceServerPayload,
    VoiceServerUpdate,
    VoiceStatePayload,
    VoiceStateUpdate,
)
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)


class Publisher(Protocol):
    async def publish(self, channel: Channel, message: Envelope) -> str: ...


class ForwardingVoice(discord.VoiceProtocol):
    """A voice "client" that forwards the bot's voice events to audio and plays nothing.

    ``connect`` sends op 4 unless ``join`` is False (re-registration of a voice state the bot
    already has). ``disconnect(force=True)``, which discord.py calls when the client closes,
    leaves the bot in its channel: audio keeps playing while the gateway restarts.
    """

    def __init__(
        self,
        client: discord.Client,
        channel: discord.abc.Connectable,
        *,
        forwarder: VoiceForwarder,
        join: bool = True,
    ) -> None:
        super().__init__(client, channel)
        self._forwarder = forwarder
        self._join = join

    @property
    def guild(self) -> discord.Guild:
        channel = self.channel
        assert isinstance(channel, discord.abc.GuildChannel)
        return channel.guild

    async def on_voice_state_update(self, data: Any, /) -> None:
        await self._forwarder.forward_state(self.guild.id, data)
        if data.get("channel_id") is None:
            self.cleanup()
        else:
            moved = self.guild.get_channel(int(data["channel_id"]))
            if isinstance(moved, discord.VoiceChannel | discord.StageChannel):
                self.channel = moved

    async def on_voice_server_update(self, data: Any, /) -> None:
        await self._forwarder.forward_server(int(data["guild_id"]), data)

    async def connect(
        self,
        *,
        timeout: float,  # noqa: ASYNC109 - discord.py's VoiceProtocol signature
        reconnect: bool,
        self_deaf: bool = False,
        self_mute: bool = False,
    ) -> None:
        if self._join:
            await self.move(self.channel, self_deaf=self_deaf, self_mute=self_mute)

    async def move(
        self, channel: discord.abc.Connectable, *, self_deaf: bool, self_mute: bool
    ) -> None:
        """Send op 4 joining (or moving to) ``channel`` on the guild's shard."""
        assert isinstance(channel, discord.abc.Snowflake)
        await self.guild.change_voice_state(
            channel=channel, self_deaf=self_deaf, self_mute=self_mute
        )

    async def disconnect(self, *, force: bool) -> None:
        if not force:
            await self.guild.change_voice_state(channel=None)
        self.cleanup()


def bot_channel(guild: discord.Guild, bot_id: int) -> discord.VoiceChannel | None:
    """The voice channel the bot is in, from the guild's voice states."""
    for channel in guild.voice_channels:
        if bot_id in channel.voice_states:
            return channel
    for stage in guild.stage_channels:
        if bot_id in stage.voice_states:
            return None
    return None


def listeners_in(channel: discord.VoiceChannel, bot_id: int) -> int:
    """Non-bot members in ``channel``."""
    count = 0
    for user_id in channel.voice_states:
        if user_id == bot_id:
            continue
        member = channel.guild.get_member(user_id)
        if member is None or not member.bot:
            count += 1
    return count


class VoiceForwarder:
    """Publishes voice events and listener counts, and carries out audio's op 4 requests."""

    def __init__(self, bot: discord.Client, bus: Publisher) -> None:
        self._bot = bot
        self._bus = bus
        self._last_count: dict[int, tuple[int | None, int]] = {}

    @property
    def bot_id(self) -> int:
        user = self._bot.user
        assert user is not None, "the bot is logged in before voice events arrive"
        return user.id

    async def forward_state(self, guild_id: int, data: Mapping[str, Any]) -> None:
        await self._publish(
            VoiceStateUpdate(guild_id=guild_id, payload=VoiceStatePayload(data=dict(data)))
        )

    async def forward_server(self, guild_id: int, data: Mapping[str, Any]) -> None:
        await self._publish(
            VoiceServerUpdate(guild_id=guild_id, payload=VoiceServerPayload(data=dict(data)))
        )

    async def guild_removed(self, guild_id: int) -> None:
        """The bot was removed from the guild (not an outage): audio ends the session."""
        self._last_count.pop(guild_id, None)
        await self._publish(GuildDelete(guild_id=guild_id, payload=GuildDeletePayload()))

    def _protocol(self, *, join: bool) -> functools.partial[ForwardingVoice]:
        return functools.partial(ForwardingVoice, forwarder=self, join=join)

    def registered(self, guild: discord.Guild) -> ForwardingVoice | None:
        voice = guild.voice_client
        return voice if isinstance(voice, ForwardingVoice) else None

    async def reattach(self, guild: discord.Guild) -> None:
        """After GUILD_CREATE: register a protocol where the bot already is in voice."""
        channel = bot_channel(guild, self.bot_id)
        if channel is None or self.registered(guild) is not None:
            return
        await channel.connect(cls=self._protocol(join=False))
        _log.info("voice protocol re-registered", guild_id=guild.id, channel_id=channel.id)

    async def join(
        self, guild_id: int, channel_id: int, *, self_deaf: bool, self_mute: bool
    ) -> None:
        """Audio's ``voice-join``: op 4 to ``channel_id`` on the guild's shard."""
        guild = self._bot.get_guild(guild_id)
        if guild is None:
            _log.warning("voice-join for a guild this gateway does not see", guild_id=guild_id)
            return
        channel = guild.get_channel(channel_id)
        if not isinstance(channel, discord.VoiceChannel | discord.StageChannel):
            _log.warning(
                "voice-join to an unknown channel", guild_id=guild_id, channel_id=channel_id
            )
            return
        voice = self.registered(guild)
        if voice is None:
            await channel.connect(
                cls=self._protocol(join=True), self_deaf=self_deaf, self_mute=self_mute
            )
        else:
            await voice.move(channel, self_deaf=self_deaf, self_mute=self_mute)
        _log.info("voice join sent", guild_id=guild_id, channel_id=channel_id)

    async def leave(self, guild_id: int) -> None:
        """Audio's ``voice-leave``: op 4 with no channel (the protocol stays until the
        VOICE_STATE_UPDATE that confirms it has been forwarded)."""
        guild = self._bot.get_guild(guild_id)
        if guild is None:
            _log.warning("voice-leave for a guild this gateway does not see", guild_id=guild_id)
            return
        await guild.change_voice_state(channel=None)
        _log.info("voice leave sent", guild_id=guild_id)

    async def report_listeners(self, guild: discord.Guild, *, force: bool = False) -> None:
        """Publish the listener count of the bot's channel when it changed (or ``force``).

        A guild where the bot is in no voice channel is reported once, when the bot left.
        """
        channel = bot_channel(guild, self.bot_id)
        count = (None, 0) if channel is None else (channel.id, listeners_in(channel, self.bot_id))
        previous = self._last_count.get(guild.id)
        if channel is None and (previous is None or previous[0] is None):
            return  # not in voice, and audio already knows (or never heard otherwise)
        if not force and previous == count:
            return
        self._last_count[guild.id] = count
        await self._publish(
            ListenerCount(
                guild_id=guild.id,
                payload=ListenerCountPayload(channel_id=count[0], listeners=count[1]),
            )
        )

    async def _publish(self, message: Envelope) -> None:
        try:
            await self._bus.publish(Channel.TO_AUDIO, message)
        except Exception:
            _log.exception(
                "publishing to audio failed", guild_id=message.guild_id, type=message.type
            )
            raise
