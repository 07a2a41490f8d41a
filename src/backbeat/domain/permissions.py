"""Who may do what: Discord permission bits read as bits, and Backbeat's own rules.

Discord sends permissions as a decimal *string* of a 53-bit integer; comparing them as
numbers (``perms >= 32``) or as strings is wrong, so every check here masks single bits.

* Managing a guild in the control panel: the guild's owner, or a member whose permissions
  hold the ``ADMINISTRATOR`` or the ``MANAGE_GUILD`` bit.
* Controlling playback (skip, stop, volume…): a guild manager, a member with the guild's DJ
  role, or — when no DJ role is set — anyone. The member who requested the current track
  may always skip it; everyone else without the right votes (:mod:`backbeat.domain.voteskip`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

ADMINISTRATOR: Final = 1 << 3
"""Every permission, and every channel overwrite ignored."""
MANAGE_GUILD: Final = 1 << 5
"""Manage the guild's settings (Discord's "Manage Server")."""
ALL_PERMISSIONS: Final = (1 << 53) - 1
"""Every bit Discord may send (permissions are at most 53 bits wide)."""


def parse_permissions(value: str | int | None) -> int:
    """A permission integer from Discord's decimal string (or an int); ``None`` is none.

    Raises ``ValueError`` for anything that is not a non-negative integer of at most 53 bits.
    """
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ValueError("permissions must be an integer or a decimal string")
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit() or not text.isascii():
            raise ValueError("permissions must be a decimal string of digits")
        number = int(text)
    else:
        number = int(value)
    if not 0 <= number <= ALL_PERMISSIONS:
        raise ValueError("permissions out of range")
    return number


def has_bit(permissions: int, bit: int) -> bool:
    """True when ``permissions`` holds every bit of ``bit``."""
    return permissions & bit == bit


def can_manage_guild(*, owner: bool, permissions: int) -> bool:
    """The owner, ``ADMINISTRATOR`` or ``MANAGE_GUILD`` may manage a guild's bot settings."""
    return owner or has_bit(permissions, ADMINISTRATOR) or has_bit(permissions, MANAGE_GUILD)


def base_permissions(
    *,
    guild_id: int,
    owner_id: int,
    user_id: int,
    member_role_ids: Iterable[int],
    role_permissions: Mapping[int, int],
) -> int:
    """Discord's guild-level permissions of a member: ``@everyone`` (id = guild id) OR'ed with
    each of the member's roles; the owner and ``ADMINISTRATOR`` get every bit."""
    if user_id == owner_id:
        return ALL_PERMISSIONS
    permissions = role_permissions.get(guild_id, 0)
    for role_id in member_role_ids:
        permissions |= role_permissions.get(role_id, 0)
    if has_bit(permissions, ADMINISTRATOR):
        return ALL_PERMISSIONS
    return permissions


@dataclass(frozen=True, slots=True)
class Member:
    """What the rules need of a guild member."""

    user_id: int
    role_ids: frozenset[int]
    permissions: int
    owner: bool = False

    @property
    def manages_guild(self) -> bool:
        return can_manage_guild(owner=self.owner, permissions=self.permissions)


def is_dj(member: Member, dj_role_id: int | None) -> bool:
    """A guild manager, or a holder of the DJ role; with no DJ role set, everyone."""
    if member.manages_guild or dj_role_id is None:
        return True
    return dj_role_id in member.role_ids


class SkipRight(StrEnum):
    """How a member may skip the current track."""

    DIRECT = "direct"
    """Skips at once (DJ, manager, or the track's requester)."""
    VOTE = "vote"
    """Adds a vote; the track is skipped once enough listeners voted."""


def skip_right(member: Member, *, dj_role_id: int | None, requester_id: int | None) -> SkipRight:
    """Whether ``member`` skips directly or votes: the requester of the track skips their own."""
    if requester_id is not None and member.user_id == requester_id:
        return SkipRight.DIRECT
    if dj_role_id is not None and is_dj(member, dj_role_id):
        return SkipRight.DIRECT
    if dj_role_id is None and member.manages_guild:
        return SkipRight.DIRECT
    return SkipRight.VOTE


def may_control(member: Member, *, dj_role_id: int | None) -> bool:
    """Player controls other than skip (stop, volume, seek, filters, queue edits)."""
    return is_dj(member, dj_role_id)


# -- the gateway's command gate (the panel applies the same rules) ---------------------------


class CommandKind(StrEnum):
    """What a command does, which decides who may run it."""

    LISTEN = "listen"
    """Adds to the queue or looks at it (play, search, queue, nowplaying): anyone."""
    VOTE = "vote"
    """``/voteskip``: anyone listening with the bot."""
    SKIP = "skip"
    """Skips the current track: DJ rights, or the track's requester; others vote."""
    CONTROL = "control"
    """Changes the player for everyone (pause, stop, volume, seek, filters, queue edits)."""
    SUMMON = "summon"
    """Brings the bot to the user's voice channel: control rights, from any channel."""
    MANAGE = "manage"
    """Changes the server's settings: server managers only."""


class Denial(StrEnum):
    """Why a command is refused; the value is the message key of the (localised) reply."""

    NOT_IN_VOICE = "denied.not_in_voice"
    """The command needs the user in a voice channel and they are in none."""
    OTHER_CHANNEL = "denied.other_channel"
    """The bot plays in another voice channel than the user's."""
    DJ_ONLY = "denied.dj_only"
    """A DJ role is set and the user has neither it nor the server's management rights."""
    VOTE_INSTEAD = "denied.vote_instead"
    """Skipping someone else's track without DJ rights: ``/voteskip`` instead."""
    MANAGERS_ONLY = "denied.managers_only"
    """Server settings need the Manage Server permission."""


@dataclass(frozen=True, slots=True)
class Situation:
    """Where the user and the bot are, and whose track is playing."""

    user_voice_channel_id: int | None
    bot_voice_channel_id: int | None
    requester_id: int | None = None


def check_command(
    member: Member,
    kind: CommandKind,
    situation: Situation,
    *,
    dj_role_id: int | None,
    needs_voice: bool = False,
) -> Denial | None:
    """None when ``member`` may run a command of ``kind``, else why not.

    Server managers bypass every rule but presence: like everyone they must listen where the
    bot plays to touch the player (``MANAGE`` asks for no voice at all). ``needs_voice``: the
    command itself needs the user in a voice channel (``/play`` joins it).
    """
    if kind is CommandKind.MANAGE:
        return None if member.manages_guild else Denial.MANAGERS_ONLY
    user_channel = situation.user_voice_channel_id
    bot_channel = situation.bot_voice_channel_id
    if needs_voice and user_channel is None:
        return Denial.NOT_IN_VOICE
    if kind is CommandKind.SUMMON and user_channel is None:
        return Denial.NOT_IN_VOICE
    in_use = kind is not CommandKind.SUMMON and (kind is not CommandKind.LISTEN or needs_voice)
    if in_use and bot_channel is not None and user_channel != bot_channel:
        return Denial.OTHER_CHANNEL if user_channel is not None else Denial.NOT_IN_VOICE
    controls = kind in (CommandKind.CONTROL, CommandKind.SUMMON)
    if controls and not may_control(member, dj_role_id=dj_role_id):
        return Denial.DJ_ONLY
    if kind is CommandKind.SKIP:
        right = skip_right(member, dj_role_id=dj_role_id, requester_id=situation.requester_id)
        if right is SkipRight.VOTE:
            return Denial.VOTE_INSTEAD
    return None
