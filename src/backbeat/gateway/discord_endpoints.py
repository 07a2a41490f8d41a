"""Point discord.py at a Discord API base and gateway URL (Discord itself or the emulator).

discord.py keeps both as process-wide class attributes: ``discord.http.Route.BASE`` (REST,
also used for interaction callbacks and webhooks) and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (a ``yarl.URL``; INVALID_SESSION sends
the client back to it). These are the only two things Backbeat changes in discord.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import discord.gateway
import discord.http
import yarl


def point_discord_py_at(api_base: str, gateway_url: str) -> None:
    """Make every discord.py client in this process use ``api_base`` and ``gateway_url``."""
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


@contextmanager
def discord_py_endpoints(api_base: str, gateway_url: str) -> Iterator[None]:
    """Point discord.py at the given endpoints for the block, then restore the previous ones."""
    previous_base = discord.http.Route.BASE
    previous_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    point_discord_py_at(api_base, gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = previous_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = previous_gateway
