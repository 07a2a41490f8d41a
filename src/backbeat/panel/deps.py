"""What the panel app needs from its process, gathered in one object tests can build too."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.config import PanelSettings
from backbeat.db.repositories.audit import AuditRepository
from backbeat.db.repositories.configuration import ConfigurationRepository
from backbeat.db.repositories.panel import PanelRepository
from backbeat.db.repositories.queue import QueueRepository
from backbeat.domain.messages import Channel, Envelope
from backbeat.panel.discord_api import DiscordApi
from backbeat.panel.ratelimit import LoginLimiter
from backbeat.panel.tokens import Signer

Clock = Callable[[], datetime]
Publish = Callable[[Channel, Envelope], Awaitable[str]]
"""The bus's ``publish``."""
Invalidate = Callable[[int], Awaitable[None]]
"""Deletes the shared settings cache entry of a guild."""


def utc_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class PanelDeps:
    """Settings, repositories, the Discord client, the bus and the clock of one panel."""

    settings: PanelSettings
    public_url: str
    signer: Signer
    discord: DiscordApi
    engine: AsyncEngine
    panel: PanelRepository
    configuration: ConfigurationRepository
    audit: AuditRepository
    queues: QueueRepository
    publish: Publish
    invalidate: Invalidate
    login_limiter: LoginLimiter
    clock: Clock = field(default=utc_clock)

    @property
    def redirect_uri(self) -> str:
        """The OAuth2 redirect URI to register with the Discord application."""
        return f"{self.public_url}/auth/callback"

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")
