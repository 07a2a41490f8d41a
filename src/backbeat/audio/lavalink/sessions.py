"""Where each node's Lavalink session id is kept, per (audio worker, node).

A worker restarted within the node's resume timeout connects with the stored id and resumes
its own session: the players there play on. The SQL store
(:class:`backbeat.db.repositories.lavalink_sessions.SqlSessionStore`) is the system of record;
:class:`MemorySessionStore` serves a single process (and the sandbox without a database).
"""

from __future__ import annotations

from typing import Protocol


class SessionStore(Protocol):
    """Session ids by ``(worker_id, node_name)``."""

    async def load(self, worker_id: str, node_name: str) -> str | None:
        """The stored session id, None when there is none."""

    async def save(self, worker_id: str, node_name: str, session_id: str) -> None:
        """Store (or replace) the session id."""


class MemorySessionStore:
    """Session ids in this process only (they do not survive a restart)."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], str] = {}

    async def load(self, worker_id: str, node_name: str) -> str | None:
        return self._ids.get((worker_id, node_name))

    async def save(self, worker_id: str, node_name: str, session_id: str) -> None:
        self._ids[(worker_id, node_name)] = session_id
