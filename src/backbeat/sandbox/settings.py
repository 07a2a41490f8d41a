"""The settings every component of the sandbox runs with: the emulators, embedded storage.

Whatever the user's environment says about Discord, Lavalink, Redis, the database URL, the
status server and the panel is replaced: the sandbox talks only to its own emulators on
127.0.0.1, keeps its SQLite database in its data directory and uses the in-process bus. The
emulated catalogue's link hosts join the URL allowlist (:data:`CATALOGUE_HOSTS`). Logging and
the other settings are kept.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from backbeat.config import LavalinkNode, Settings

HOST = "127.0.0.1"
NODE_NAME = "sandbox"
CATALOGUE_HOSTS = (
    "www.youtube.com",
    "youtube.com",
    "music.youtube.com",
    "youtu.be",
    "soundcloud.com",
    "open.spotify.com",
    "*.backbeat.invalid",
)
"""Hosts of the Lavalink emulator's catalogue links. The sandbox has no DNS for them, and its
Lavalink never fetches a URL (it answers from its catalogue), so the URL-safety guard admits
them without resolving: a link from the bot's own autocomplete plays."""


@dataclass(frozen=True)
class Emulated:
    """What the sandbox's settings point at."""

    discord_token: str
    bot_user_id: int
    discord_api_base: str
    discord_gateway_url: str
    oauth_client_secret: str
    lavalink_url: str
    lavalink_password: str
    panel_port: int


def sandbox_settings(base: Settings, emulated: Emulated, data_dir: Path) -> Settings:
    """``base`` pointed at the emulators, on SQLite in ``data_dir`` and the in-process bus."""
    discord = base.discord.model_copy(
        update={
            "discord_token": SecretStr(emulated.discord_token),
            "bot_user_id": emulated.bot_user_id,
            "discord_api_base": emulated.discord_api_base,
            "discord_gateway_url": emulated.discord_gateway_url,
            "shard_count": 1,
            "shard_ids": None,
        }
    )
    database = base.database.model_copy(update={"data_dir": data_dir, "database_url": None})
    bus = base.bus.model_copy(update={"redis_url": None})
    node = LavalinkNode(
        name=NODE_NAME, url=emulated.lavalink_url, password=SecretStr(emulated.lavalink_password)
    )
    lavalink = base.lavalink.model_copy(update={"lavalink_nodes": [node]})
    allowlist = list(dict.fromkeys([*base.audio.url_allowlist, *CATALOGUE_HOSTS]))
    audio = base.audio.model_copy(update={"url_allowlist": allowlist})
    status = base.status.model_copy(update={"status_host": HOST, "status_port": 0})
    panel = base.panel.model_copy(
        update={
            "panel_host": HOST,
            "panel_port": emulated.panel_port,
            "panel_public_url": None,
            "panel_session_secret": SecretStr(secrets.token_urlsafe(32)),
            "panel_oauth_client_id": None,
            "panel_oauth_client_secret": SecretStr(emulated.oauth_client_secret),
        }
    )
    return base.model_copy(
        update={
            "discord": discord,
            "database": database,
            "bus": bus,
            "lavalink": lavalink,
            "audio": audio,
            "status": status,
            "panel": panel,
        }
    )
