"""The emulated Discord world: users, guilds, channels, roles, members, voice states, messages,
interactions and application commands, with their Discord JSON forms.

The world is plain data plus a change notifier; the REST API, the gateway and the control API
all read and change the same world. Ids are real snowflakes from the emulator's clock.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backbeat.testing.discord.clock import EmulatorClock
from backbeat.testing.discord.snowflakes import SnowflakeGenerator

JSON = dict[str, Any]

# Permission bits (discord-api-docs, "Permissions").
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_EXTERNAL_EMOJIS = 1 << 18
CONNECT = 1 << 20
SPEAK = 1 << 21
USE_VAD = 1 << 25
CHANGE_NICKNAME = 1 << 26
USE_APPLICATION_COMMANDS = 1 << 31
ALL_PERMISSIONS = (1 << 51) - 1

DEFAULT_EVERYONE_PERMISSIONS = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | CONNECT
    | SPEAK
    | USE_VAD
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
)

# Channel types.
GUILD_TEXT = 0
GUILD_VOICE = 2
GUILD_CATEGORY = 4
GUILD_STAGE_VOICE = 13
VOICE_CHANNEL_TYPES = frozenset({GUILD_VOICE, GUILD_STAGE_VOICE})
CHANNEL_TYPE_NAMES = {
    "text": GUILD_TEXT,
    "voice": GUILD_VOICE,
    "category": GUILD_CATEGORY,
    "stage": GUILD_STAGE_VOICE,
}

EPHEMERAL = 1 << 6
LOADING = 1 << 7


class WorldError(Exception):
    """A world operation that Discord would refuse; carries Discord's status and code."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def unknown(kind: str, code: int) -> WorldError:
    """Discord's 404 for a missing object (``Unknown Channel`` 10003, …)."""
    return WorldError(404, code, f"Unknown {kind}")


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    locale: str = "en-US"
    """The client's language, sent as an interaction's ``locale``."""

    def to_json(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class Role:
    id: int
    name: str
    permissions: int
    position: int = 0
    color: int = 0

    def to_json(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }


@dataclass
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0

    def to_json(self) -> JSON:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class Channel:
    id: int
    guild_id: int
    type: int
    name: str
    position: int = 0
    user_limit: int = 0
    bitrate: int = 64000
    parent_id: int | None = None
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    last_message_id: int | None = None

    def to_json(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "guild_id": str(self.guild_id),
            "type": self.type,
            "name": self.name,
            "position": self.position,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "permission_overwrites": [o.to_json() for o in self.overwrites.values()],
            "nsfw": False,
            "flags": 0,
        }
        if self.type in VOICE_CHANNEL_TYPES:
            data.update(bitrate=self.bitrate, user_limit=self.user_limit, rtc_region=None)
        if self.type == GUILD_TEXT:
            data.update(
                topic=None,
                rate_limit_per_user=0,
                last_message_id=str(self.last_message_id) if self.last_message_id else None,
            )
        return data


@dataclass
class Member:
    user_id: int
    roles: list[int]
    joined_at: str
    nick: str | None = None


@dataclass
class VoiceState:
    user_id: int
    channel_id: int
    session_id: str
    self_mute: bool = False
    self_deaf: bool = False


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    joined_at: str
    preferred_locale: str = "en-US"
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    voice_states: dict[int, VoiceState] = field(default_factory=dict)


@dataclass
class Message:
    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    content: str
    timestamp: str
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    edited_timestamp: str | None = None
    webhook_id: int | None = None
    interaction_id: int | None = None
    history: list[JSON] = field(default_factory=list)
    deleted: bool = False

    def snapshot(self) -> JSON:
        """The editable part of the message as it is now (one history entry)."""
        return {
            "content": self.content,
            "embeds": list(self.embeds),
            "components": list(self.components),
            "flags": self.flags,
            "edited_timestamp": self.edited_timestamp,
        }


@dataclass
class Interaction:
    id: int
    token: str
    type: int
    application_id: int
    guild_id: int | None
    channel_id: int
    user_id: int
    data: JSON
    created_at: float
    message_id: int | None = None
    initial_response: JSON | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    events: list[JSON] = field(default_factory=list)


@dataclass
class ApplicationCommand:
    id: int
    guild_id: int | None
    version: int
    body: JSON

    def to_json(self, application_id: int) -> JSON:
        data = dict(self.body)
        data.setdefault("type", 1)
        data.setdefault("description", "")
        data.setdefault("options", [])
        data.setdefault("default_member_permissions", None)
        data.setdefault("nsfw", False)
        data.setdefault("integration_types", [0])
        data.setdefault("contexts", None)
        data.update(
            id=str(self.id),
            application_id=str(application_id),
            version=str(self.version),
        )
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        else:
            data.setdefault("dm_permission", True)
        return data


class World:
    """Everything the emulated Discord knows, plus a notifier for waiters."""

    def __init__(self, *, clock: EmulatorClock, bot_user_id: int, bot_name: str = "Backbeat"):
        self.clock = clock
        self.ids = SnowflakeGenerator(clock.now)
        self.bot = User(id=bot_user_id, username=bot_name, bot=True)
        self.application_id = bot_user_id
        self.owner = User(id=self.ids.next(), username="owner")
        """Owns guilds created without an owner (the bot is not an owner, as on Discord)."""
        self.users: dict[int, User] = {bot_user_id: self.bot, self.owner.id: self.owner}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.interactions: dict[int, Interaction] = {}
        self.interactions_by_token: dict[str, int] = {}
        self.commands: dict[int | None, list[ApplicationCommand]] = {None: []}
        self._changed = asyncio.Event()
        self.version = 0
        """Bumped by every :meth:`touch` (the control API's event stream sends it)."""

    # ----- change notification -------------------------------------------------------------
    def touch(self) -> None:
        """Wake everything waiting on a change of the world."""
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], within: float) -> bool:
        """Wait until ``predicate()`` holds (True) or ``within`` seconds pass (False)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True

    # ----- users, guilds, channels, roles, members --------------------------------------------
    def create_user(
        self,
        username: str,
        *,
        bot: bool = False,
        user_id: int | None = None,
        locale: str = "en-US",
    ) -> User:
        user = User(id=user_id or self.ids.next(), username=username, bot=bot, locale=locale)
        self.users[user.id] = user
        self.touch()
        return user

    def user(self, user_id: int) -> User:
        try:
            return self.users[user_id]
        except KeyError:
            raise unknown("User", 10013) from None

    def create_guild(
        self,
        name: str,
        *,
        owner_id: int | None = None,
        shard: tuple[int, int] | None = None,
        guild_id: int | None = None,
    ) -> Guild:
        """A guild the bot is in, with its ``@everyone`` role (id = guild id)."""
        gid = guild_id or self.ids.next(shard=shard)
        owner = owner_id if owner_id is not None else self.owner.id
        guild = Guild(id=gid, name=name, owner_id=owner, joined_at=self.clock.iso())
        guild.roles[gid] = Role(id=gid, name="@everyone", permissions=DEFAULT_EVERYONE_PERMISSIONS)
        self.guilds[gid] = guild
        self.add_member(gid, self.bot.id)
        if owner != self.bot.id:
            self.add_member(gid, owner)
        self.touch()
        return guild

    def guild(self, guild_id: int) -> Guild:
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise unknown("Guild", 10004) from None

    def create_channel(
        self,
        guild_id: int,
        name: str,
        channel_type: int = GUILD_TEXT,
        *,
        user_limit: int = 0,
        parent_id: int | None = None,
    ) -> Channel:
        guild = self.guild(guild_id)
        channel = Channel(
            id=self.ids.next(),
            guild_id=guild_id,
            type=channel_type,
            name=name,
            position=len(guild.channels),
            user_limit=user_limit,
            parent_id=parent_id,
        )
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        self.touch()
        return channel

    def channel(self, channel_id: int) -> Channel:
        try:
            return self.channels[channel_id]
        except KeyError:
            raise unknown("Channel", 10003) from None

    def create_role(self, guild_id: int, name: str, permissions: int = 0) -> Role:
        guild = self.guild(guild_id)
        role = Role(
            id=self.ids.next(), name=name, permissions=permissions, position=len(guild.roles)
        )
        guild.roles[role.id] = role
        self.touch()
        return role

    def role(self, guild_id: int, role_id: int) -> Role:
        try:
            return self.guild(guild_id).roles[role_id]
        except KeyError:
            raise unknown("Role", 10011) from None

    def add_member(
        self,
        guild_id: int,
        user_id: int,
        *,
        roles: list[int] | None = None,
        nick: str | None = None,
    ) -> Member:
        guild = self.guild(guild_id)
        self.user(user_id)
        for role_id in roles or []:
            self.role(guild_id, role_id)
        member = Member(
            user_id=user_id, roles=list(roles or []), joined_at=self.clock.iso(), nick=nick
        )
        guild.members[user_id] = member
        self.touch()
        return member

    def member(self, guild_id: int, user_id: int) -> Member:
        try:
            return self.guild(guild_id).members[user_id]
        except KeyError:
            raise unknown("Member", 10007) from None

    # ----- permissions -----------------------------------------------------------------------
    def permissions_for(self, guild_id: int, user_id: int, channel_id: int | None = None) -> int:
        """Discord's permission computation: base from roles, then channel overwrites."""
        guild = self.guild(guild_id)
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        member = guild.members.get(user_id)
        if member is None:
            return 0
        perms = guild.roles[guild.id].permissions
        for role_id in member.roles:
            role = guild.roles.get(role_id)
            if role is not None:
                perms |= role.permissions
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        if channel_id is None:
            return perms
        channel = guild.channels.get(channel_id)
        if channel is None:
            return perms
        everyone = channel.overwrites.get(guild.id)
        if everyone is not None:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in member.roles:
            overwrite = channel.overwrites.get(role_id)
            if overwrite is not None and overwrite.type == 0:
                allow |= overwrite.allow
                deny |= overwrite.deny
        perms = (perms & ~deny) | allow
        own = channel.overwrites.get(user_id)
        if own is not None and own.type == 1:
            perms = (perms & ~own.deny) | own.allow
        return perms

    # ----- messages ----------------------------------------------------------------------------
    def create_message(
        self,
        channel_id: int,
        author_id: int,
        payload: JSON,
        *,
        message_type: int = 0,
        webhook_id: int | None = None,
        interaction_id: int | None = None,
    ) -> Message:
        channel = self.channel(channel_id)
        message = Message(
            id=self.ids.next(),
            channel_id=channel_id,
            guild_id=channel.guild_id,
            author_id=author_id,
            content=str(payload.get("content") or ""),
            timestamp=self.clock.iso(),
            embeds=list(payload.get("embeds") or []),
            components=list(payload.get("components") or []),
            attachments=list(payload.get("attachments") or []),
            flags=int(payload.get("flags") or 0),
            type=message_type,
            webhook_id=webhook_id,
            interaction_id=interaction_id,
        )
        self.messages[message.id] = message
        if not message.flags & EPHEMERAL:
            channel.last_message_id = message.id
        self.touch()
        return message

    def message(self, message_id: int, channel_id: int | None = None) -> Message:
        message = self.messages.get(message_id)
        if message is None or message.deleted:
            raise unknown("Message", 10008)
        if channel_id is not None and message.channel_id != channel_id:
            raise unknown("Message", 10008)
        return message

    def edit_message(self, message: Message, payload: JSON) -> Message:
        """Apply an edit and keep the previous version in the history."""
        message.history.append(message.snapshot())
        if "content" in payload:
            message.content = str(payload["content"] or "")
        if "embeds" in payload:
            message.embeds = list(payload["embeds"] or [])
        if "components" in payload:
            message.components = list(payload["components"] or [])
        if "attachments" in payload:
            message.attachments = list(payload["attachments"] or [])
        if payload.get("flags") is not None:
            # Only some flags may change on edit; LOADING clears once content arrives.
            message.flags = (message.flags & EPHEMERAL) | (int(payload["flags"]) & ~EPHEMERAL)
        message.flags &= ~LOADING
        message.edited_timestamp = self.clock.iso()
        self.touch()
        return message

    def delete_message(self, message: Message) -> None:
        message.deleted = True
        self.touch()

    def channel_messages(self, channel_id: int, *, include_deleted: bool = False) -> list[Message]:
        """A channel's messages, oldest first."""
        self.channel(channel_id)
        found = [
            m
            for m in self.messages.values()
            if m.channel_id == channel_id and (include_deleted or not m.deleted)
        ]
        return sorted(found, key=lambda m: m.id)

    # ----- interactions ------------------------------------------------------------------------
    def create_interaction(
        self,
        *,
        interaction_type: int,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        data: JSON,
        message_id: int | None = None,
    ) -> Interaction:
        interaction = Interaction(
            id=self.ids.next(),
            token="aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48),
            type=interaction_type,
            application_id=self.application_id,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            data=data,
            created_at=self.clock.now(),
            message_id=message_id,
        )
        self.interactions[interaction.id] = interaction
        self.interactions_by_token[interaction.token] = interaction.id
        self.touch()
        return interaction

    def interaction(self, interaction_id: int) -> Interaction:
        try:
            return self.interactions[interaction_id]
        except KeyError:
            raise unknown("interaction", 10062) from None

    def interaction_by_token(self, token: str) -> Interaction:
        try:
            return self.interactions[self.interactions_by_token[token]]
        except KeyError:
            raise WorldError(401, 50027, "Invalid Webhook Token") from None

    # ----- application commands -----------------------------------------------------------------
    def overwrite_commands(
        self, guild_id: int | None, bodies: list[JSON]
    ) -> list[ApplicationCommand]:
        """Bulk overwrite: commands keep their id when name and type match."""
        if guild_id is not None:
            self.guild(guild_id)
        existing = {
            (c.body.get("name"), c.body.get("type", 1)): c for c in self.commands.get(guild_id, [])
        }
        result: list[ApplicationCommand] = []
        for body in bodies:
            if not isinstance(body, dict) or not isinstance(body.get("name"), str):
                raise WorldError(400, 50035, "Invalid Form Body")
            key = (body["name"], body.get("type", 1))
            old = existing.get(key)
            cleaned = {
                k: v for k, v in body.items() if k not in {"id", "application_id", "version"}
            }
            result.append(
                ApplicationCommand(
                    id=old.id if old else self.ids.next(),
                    guild_id=guild_id,
                    version=self.ids.next(),
                    body=cleaned,
                )
            )
        self.commands[guild_id] = result
        self.touch()
        return result

    def find_command(self, name: str, guild_id: int | None) -> ApplicationCommand | None:
        """A chat-input command by name: the guild's own first, then the global one."""
        scopes: list[int | None] = [guild_id, None] if guild_id is not None else [None]
        for scope in scopes:
            for command in self.commands.get(scope, []):
                if command.body.get("name") == name and command.body.get("type", 1) == 1:
                    return command
        return None

    # ----- JSON forms ----------------------------------------------------------------------------
    def member_json(self, guild: Guild, member: Member, *, with_permissions: bool = False) -> JSON:
        data: JSON = {
            "user": self.user(member.user_id).to_json(),
            "roles": [str(r) for r in member.roles],
            "nick": member.nick,
            "avatar": None,
            "joined_at": member.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_permissions:
            data["permissions"] = str(self.permissions_for(guild.id, member.user_id))
        return data

    def voice_state_json(self, guild: Guild, state: VoiceState | None, user_id: int) -> JSON:
        """A VOICE_STATE_UPDATE payload; ``state=None`` means the user left voice."""
        data: JSON = {
            "guild_id": str(guild.id),
            "channel_id": str(state.channel_id) if state else None,
            "user_id": str(user_id),
            "session_id": state.session_id if state else "",
            "deaf": False,
            "mute": False,
            "self_deaf": state.self_deaf if state else False,
            "self_mute": state.self_mute if state else False,
            "self_video": False,
            "self_stream": False,
            "suppress": False,
            "request_to_speak_timestamp": None,
        }
        member = guild.members.get(user_id)
        if member is not None:
            data["member"] = self.member_json(guild, member)
        return data

    def guild_json(self, guild: Guild, *, full: bool) -> JSON:
        """REST guild object; ``full`` adds the GUILD_CREATE extras (channels, members, …)."""
        data: JSON = {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": guild.preferred_locale,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "application_id": None,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [r.to_json() for r in guild.roles.values()],
            "max_members": 500000,
            "max_video_channel_users": 25,
        }
        if full:
            data.update(
                joined_at=guild.joined_at,
                large=False,
                unavailable=False,
                member_count=len(guild.members),
                channels=[c.to_json() for c in guild.channels.values()],
                threads=[],
                members=[self.member_json(guild, m) for m in guild.members.values()],
                voice_states=[
                    {k: v for k, v in self.voice_state_json(guild, s, uid).items() if k != "member"}
                    for uid, s in guild.voice_states.items()
                ],
                presences=[],
                stage_instances=[],
                guild_scheduled_events=[],
                soundboard_sounds=[],
            )
        return data

    def message_json(self, message: Message) -> JSON:
        data: JSON = {
            "id": str(message.id),
            "type": message.type,
            "channel_id": str(message.channel_id),
            "author": self.user(message.author_id).to_json(),
            "content": message.content,
            "timestamp": message.timestamp,
            "edited_timestamp": message.edited_timestamp,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": message.attachments,
            "embeds": message.embeds,
            "components": message.components,
            "flags": message.flags,
            "pinned": False,
            "reactions": [],
        }
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        if message.webhook_id is not None:
            data["webhook_id"] = str(message.webhook_id)
            data["application_id"] = str(message.webhook_id)
        if message.interaction_id is not None:
            interaction = self.interactions.get(message.interaction_id)
            if interaction is not None:
                data["interaction_metadata"] = {
                    "id": str(interaction.id),
                    "type": interaction.type,
                    "user": self.user(interaction.user_id).to_json(),
                    "authorizing_integration_owners": {"0": str(interaction.guild_id or 0)},
                }
        return data

    def message_record(self, message: Message) -> JSON:
        """The control API's view: the message JSON plus its edit history and deletion."""
        data = self.message_json(message)
        data["history"] = list(message.history)
        data["deleted"] = message.deleted
        if message.interaction_id is not None:
            data["interaction_id"] = str(message.interaction_id)
        return data
