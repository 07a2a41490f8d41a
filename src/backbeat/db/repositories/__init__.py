"""Async repositories: keyword-only operations, one transaction each, plain values out."""

from backbeat.db.repositories.audit import AuditRepository
from backbeat.db.repositories.configuration import ChangeHook, ConfigurationRepository
from backbeat.db.repositories.event_store import EventStoreRepository
from backbeat.db.repositories.history import HistoryRepository
from backbeat.db.repositories.lyrics import LyricsRepository
from backbeat.db.repositories.queue import UNSET, QueueRepository
from backbeat.db.repositories.rate_limits import RateLimitRepository

__all__ = [
    "UNSET",
    "AuditRepository",
    "ChangeHook",
    "ConfigurationRepository",
    "EventStoreRepository",
    "HistoryRepository",
    "LyricsRepository",
    "QueueRepository",
    "RateLimitRepository",
]
