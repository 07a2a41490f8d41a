"""Async repositories: keyword-only operations, plain values out; each runs in its own
transaction, or on a connection given as ``conn=`` to share the caller's transaction."""

from backbeat.db.repositories.applied import AppliedMessagesRepository
from backbeat.db.repositories.audit import AuditRepository
from backbeat.db.repositories.configuration import ChangeHook, ConfigurationRepository
from backbeat.db.repositories.event_store import EventStoreRepository
from backbeat.db.repositories.fencing import FencingRepository, advance_fence, advance_fences
from backbeat.db.repositories.history import HistoryRepository
from backbeat.db.repositories.lyrics import LyricsRepository
from backbeat.db.repositories.queue import UNSET, QueueRepository
from backbeat.db.repositories.rate_limits import RateLimitRepository

__all__ = [
    "UNSET",
    "AppliedMessagesRepository",
    "AuditRepository",
    "ChangeHook",
    "ConfigurationRepository",
    "EventStoreRepository",
    "FencingRepository",
    "HistoryRepository",
    "LyricsRepository",
    "QueueRepository",
    "RateLimitRepository",
    "advance_fence",
    "advance_fences",
]
