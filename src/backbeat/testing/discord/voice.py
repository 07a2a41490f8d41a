"""Voice: the bot's op 4 and users moving between voice channels.

When the bot sends op 4 with a channel, its voice state changes, VOICE_STATE_UPDATE (with the
member and the gateway session id) and VOICE_SERVER_UPDATE (token, guild id, endpoint) go to
the owning shard, and the issued credentials are recorded in a
:class:`~backbeat.testing.voice.VoiceCredentialRegistry` (shared with the Lavalink emulator).
op 4 with ``channel_id: null`` leaves and revokes them. Scripted users joining, moving and
leaving produce the same VOICE_STATE_UPDATE.
"""

from __future__ import annotations

import secrets

from backbeat.observability.logging import get_logger
from backbeat.testing.discord.events import Events
from backbeat.testing.discord.gateway import GatewaySession
from backbeat.testing.discord.world import (
    CONNECT,
    JSON,
    VIEW_CHANNEL,
    VOICE_CHANNEL_TYPES,
    Guild,
    VoiceState,
    World,
    WorldError,
)
from backbeat.testing.voice import VoiceCredentialRegistry, VoiceCredentials

log = get_logger(__name__)

DEFAULT_VOICE_ENDPOINT = "emulator.discord.media:443"


class VoiceService:
    """Keeps voice states and issues voice server credentials."""

    def __init__(
        self,
        world: World,
        events: Events,
        registry: VoiceCredentialRegistry,
        endpoint: str = DEFAULT_VOICE_ENDPOINT,
    ) -> None:
        self.world = world
        self.events = events
        self.registry = registry
        self.endpoint = endpoint

    async def on_bot_voice_state(self, session: GatewaySession, data: JSON) -> None:
        """Handle the bot's op 4 (gateway callback)."""
        try:
            guild = self.world.guild(int(data["guild_id"]))
            channel_id = None if data.get("channel_id") is None else int(data["channel_id"])
        except (KeyError, TypeError, ValueError, WorldError) as exc:
            log.info("op 4 ignored", reason=str(exc))
            return
        if not session.owns(guild.id):
            log.info("op 4 on a shard that does not own the guild ignored", guild_id=guild.id)
            return
        bot_id = self.world.bot.id
        if channel_id is None:
            self.leave(guild, bot_id)
            return
        channel = guild.channels.get(channel_id)
        if channel is None or channel.type not in VOICE_CHANNEL_TYPES:
            log.info("op 4 to a channel that is not a voice channel ignored", channel_id=channel_id)
            return
        needed = CONNECT | VIEW_CHANNEL
        if self.world.permissions_for(guild.id, bot_id, channel_id) & needed != needed:
            log.info("op 4 without the Connect permission ignored", channel_id=channel_id)
            return
        before = guild.voice_states.get(bot_id)
        guild.voice_states[bot_id] = VoiceState(
            user_id=bot_id,
            channel_id=channel_id,
            session_id=session.session_id,
            self_mute=bool(data.get("self_mute")),
            self_deaf=bool(data.get("self_deaf")),
        )
        self.world.touch()
        self.events.voice_state(guild, bot_id)
        if before is None or before.channel_id != channel_id:
            credentials = VoiceCredentials(
                guild_id=guild.id,
                user_id=bot_id,
                channel_id=channel_id,
                session_id=session.session_id,
                token=secrets.token_hex(8),
                endpoint=self.endpoint,
            )
            self.registry.issue(credentials)
            self.events.voice_server(guild, credentials.token, credentials.endpoint)

    def leave(self, guild: Guild, user_id: int) -> None:
        """A user (or the bot) leaves voice in a guild."""
        if guild.voice_states.pop(user_id, None) is None:
            return
        self.registry.revoke(guild.id, user_id)
        self.world.touch()
        self.events.voice_state(guild, user_id)

    def move_user(self, guild_id: int, user_id: int, channel_id: int | None) -> JSON:
        """A scripted user joins, moves to, or (``None``) leaves a voice channel."""
        guild = self.world.guild(guild_id)
        self.world.member(guild_id, user_id)
        if channel_id is None:
            self.leave(guild, user_id)
            return self.world.voice_state_json(guild, None, user_id)
        channel = self.world.channel(channel_id)
        if channel.guild_id != guild_id or channel.type not in VOICE_CHANNEL_TYPES:
            raise WorldError(400, 50024, "Cannot execute action on this channel type")
        state = guild.voice_states.get(user_id)
        if state is None:
            state = VoiceState(
                user_id=user_id, channel_id=channel_id, session_id=secrets.token_hex(16)
            )
            guild.voice_states[user_id] = state
        state.channel_id = channel_id
        self.world.touch()
        self.events.voice_state(guild, user_id)
        return self.world.voice_state_json(guild, state, user_id)
