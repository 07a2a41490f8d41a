"""A wire-level Discord emulator that unmodified discord.py 2.7 runs against.

REST under ``/api/v10``, the v10 JSON gateway on ``/`` and a control API under ``/_control/``,
all on one port. See docs/emulators/discord.md.
"""

from backbeat.testing.discord.clock import EmulatorClock
from backbeat.testing.discord.control_client import ControlClient, ControlError
from backbeat.testing.discord.faults import HttpFault
from backbeat.testing.discord.gateway import GatewayOptions
from backbeat.testing.discord.ratelimits import Limit, RateLimitConfig
from backbeat.testing.discord.server import DiscordEmulator, populate_default_world
from backbeat.testing.discord.snowflakes import (
    DISCORD_EPOCH_MS,
    SnowflakeGenerator,
    mint_token,
    shard_of,
    user_id_from_token,
)
from backbeat.testing.discord.world import World, WorldError

__all__ = [
    "DISCORD_EPOCH_MS",
    "ControlClient",
    "ControlError",
    "DiscordEmulator",
    "EmulatorClock",
    "GatewayOptions",
    "HttpFault",
    "Limit",
    "RateLimitConfig",
    "SnowflakeGenerator",
    "World",
    "WorldError",
    "mint_token",
    "populate_default_world",
    "shard_of",
    "user_id_from_token",
]
