"""Every table, one module per area; importing this package registers them all on ``Base``.

Later areas (the control panel's users, sessions, webhooks, branding and API tokens) add a
module here and import it below, so that migrations and ``Base.metadata`` see every table.
"""

from backbeat.db.models.base import NAMING_CONVENTION, Base
from backbeat.db.models.delivery import AppliedMessage, PartitionFence
from backbeat.db.models.guild import RateLimit, ServerConfiguration
from backbeat.db.models.lavalink import LavalinkSession
from backbeat.db.models.panel import PanelGuildMembership, PanelLogin, PanelSession, PanelUser
from backbeat.db.models.queue import Queue, QueueItem
from backbeat.db.models.records import AuditLog, EventStoreEvent, LyricsCache, PlaybackHistory

__all__ = [
    "NAMING_CONVENTION",
    "AppliedMessage",
    "AuditLog",
    "Base",
    "EventStoreEvent",
    "LavalinkSession",
    "LyricsCache",
    "PanelGuildMembership",
    "PanelLogin",
    "PanelSession",
    "PanelUser",
    "PartitionFence",
    "PlaybackHistory",
    "Queue",
    "QueueItem",
    "RateLimit",
    "ServerConfiguration",
]
