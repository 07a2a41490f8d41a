"""Turns world changes into gateway dispatches with Discord's payload shapes."""

from __future__ import annotations

from backbeat.testing.discord.gateway import GatewayServer
from backbeat.testing.discord.world import EPHEMERAL, JSON, Guild, Message, World


class Events:
    """The one place that knows which dispatch each change produces."""

    def __init__(self, world: World, gateway: GatewayServer) -> None:
        self.world = world
        self.gateway = gateway

    def _message_payload(self, message: Message) -> JSON:
        data = self.world.message_json(message)
        if message.guild_id is not None and message.webhook_id is None:
            member = self.world.guilds[message.guild_id].members.get(message.author_id)
            if member is not None:
                partial = self.world.member_json(self.world.guilds[message.guild_id], member)
                partial.pop("user")
                data["member"] = partial
        return data

    def message_created(self, message: Message) -> None:
        """MESSAGE_CREATE (ephemeral messages are never dispatched, as on Discord)."""
        if not message.flags & EPHEMERAL:
            self.gateway.dispatch(
                "MESSAGE_CREATE", self._message_payload(message), guild_id=message.guild_id
            )

    def message_updated(self, message: Message) -> None:
        if not message.flags & EPHEMERAL:
            self.gateway.dispatch(
                "MESSAGE_UPDATE", self._message_payload(message), guild_id=message.guild_id
            )

    def message_deleted(self, message: Message) -> None:
        if message.flags & EPHEMERAL:
            return
        data: JSON = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        self.gateway.dispatch("MESSAGE_DELETE", data, guild_id=message.guild_id)

    def guild_created(self, guild: Guild) -> None:
        self.gateway.dispatch(
            "GUILD_CREATE", self.world.guild_json(guild, full=True), guild_id=guild.id
        )

    def guild_updated(self, guild: Guild) -> None:
        self.gateway.dispatch(
            "GUILD_UPDATE", self.world.guild_json(guild, full=False), guild_id=guild.id
        )

    def guild_deleted(self, guild: Guild, *, unavailable: bool) -> None:
        """GUILD_DELETE: an outage (``unavailable: true``) or the bot removed (no field)."""
        data: JSON = {"id": str(guild.id)}
        if unavailable:
            data["unavailable"] = True
        self.gateway.dispatch("GUILD_DELETE", data, guild_id=guild.id)

    def channel_created(self, guild: Guild, channel_id: int) -> None:
        data = guild.channels[channel_id].to_json()
        self.gateway.dispatch("CHANNEL_CREATE", data, guild_id=guild.id)

    def role_changed(self, guild: Guild, role_id: int, *, created: bool) -> None:
        data = {"guild_id": str(guild.id), "role": guild.roles[role_id].to_json()}
        event = "GUILD_ROLE_CREATE" if created else "GUILD_ROLE_UPDATE"
        self.gateway.dispatch(event, data, guild_id=guild.id)

    def member_added(self, guild: Guild, user_id: int) -> None:
        data = self.world.member_json(guild, guild.members[user_id])
        data["guild_id"] = str(guild.id)
        self.gateway.dispatch("GUILD_MEMBER_ADD", data, guild_id=guild.id)

    def member_updated(self, guild: Guild, user_id: int) -> None:
        data = self.world.member_json(guild, guild.members[user_id])
        data["guild_id"] = str(guild.id)
        self.gateway.dispatch("GUILD_MEMBER_UPDATE", data, guild_id=guild.id)

    def member_removed(self, guild: Guild, user_id: int) -> None:
        data = {"guild_id": str(guild.id), "user": self.world.user(user_id).to_json()}
        self.gateway.dispatch("GUILD_MEMBER_REMOVE", data, guild_id=guild.id)

    def voice_state(self, guild: Guild, user_id: int) -> None:
        """VOICE_STATE_UPDATE for the user's current state (left voice when it has none)."""
        state = guild.voice_states.get(user_id)
        data = self.world.voice_state_json(guild, state, user_id)
        self.gateway.dispatch("VOICE_STATE_UPDATE", data, guild_id=guild.id)

    def voice_server(self, guild: Guild, token: str, endpoint: str) -> None:
        data = {"token": token, "guild_id": str(guild.id), "endpoint": endpoint}
        self.gateway.dispatch("VOICE_SERVER_UPDATE", data, guild_id=guild.id)
