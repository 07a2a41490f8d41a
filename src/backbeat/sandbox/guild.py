"""The sandbox guild: the Discord emulator's default world made ready for people to try.

The emulator's default world has the guild ``Backbeat Sandbox`` with ``#general``, the voice
channels ``Lounge`` and ``Studio`` and the users ``alice``, ``bob`` and ``carol``. The sandbox
adds a ``#music`` text channel and a ``Server Manager`` role (Manage Server) held by alice, so
the page can show a manager beside two plain members.
"""

from __future__ import annotations

from typing import Final

from backbeat.sandbox.web import SandboxGuild, SandboxUser
from backbeat.testing.discord import DiscordEmulator

MANAGE_GUILD: Final = 1 << 5
MANAGER_ROLE: Final = "Server Manager"
MANAGER: Final = "alice"
USERS: Final = ("alice", "bob", "carol")


async def prepare_guild(discord_emu: DiscordEmulator) -> SandboxGuild:
    """Add the sandbox's channel and role to the default world; the guild as the page shows it."""
    ids = discord_emu.default_ids
    if not ids:
        raise RuntimeError("the Discord emulator was started without its default world")
    control = discord_emu.control
    guild_id = ids["guild"]
    music = await control.create_channel(guild_id, "music", "text")
    role = await control.create_role(guild_id, MANAGER_ROLE, MANAGE_GUILD)
    await control.put_member(guild_id, ids[MANAGER], roles=[int(role["id"])])
    world = discord_emu.world
    return SandboxGuild(
        id=guild_id,
        name=world.guild(guild_id).name,
        text_channels=[(ids["text"], "general"), (int(music["id"]), "music")],
        voice_channels=[(ids["lounge"], "Lounge"), (ids["studio"], "Studio")],
        users=[SandboxUser(id=ids[name], name=name, manager=name == MANAGER) for name in USERS],
        bot_id=discord_emu.bot_user_id,
        bot_name=world.bot.username,
    )
