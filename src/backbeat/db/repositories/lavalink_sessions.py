"""The ``lavalink_sessions`` table: each audio worker's Lavalink session id per node.

It is the SQL ``SessionStore`` of ``backbeat.audio.lavalink.sessions`` (same methods): the
audio worker stores the id after each node's ``ready`` and reads it at start to resume.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.db.models.lavalink import NODE_NAME, SESSION_ID, WORKER_ID, LavalinkSession
from backbeat.db.transactions import in_transaction
from backbeat.db.types import utc_now


class SqlSessionStore:
    """Session ids by ``(worker_id, node_name)`` in SQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def load(self, worker_id: str, node_name: str) -> str | None:
        async def work(conn: AsyncConnection) -> str | None:
            value = await conn.scalar(
                select(LavalinkSession.session_id).where(
                    LavalinkSession.worker_id == worker_id,
                    LavalinkSession.node_name == node_name,
                )
            )
            return None if value is None else str(value)

        return await in_transaction(self._engine, "lavalink_sessions.load", work, read_only=True)

    async def save(self, worker_id: str, node_name: str, session_id: str) -> None:
        _check(worker_id, WORKER_ID, "worker_id")
        _check(node_name, NODE_NAME, "node_name")
        _check(session_id, SESSION_ID, "session_id")
        values = {"session_id": session_id, "updated_at": utc_now()}

        async def work(conn: AsyncConnection) -> None:
            result = await conn.execute(
                update(LavalinkSession)
                .where(
                    LavalinkSession.worker_id == worker_id,
                    LavalinkSession.node_name == node_name,
                )
                .values(values)
            )
            if result.rowcount == 0:
                await conn.execute(
                    insert(LavalinkSession).values(
                        worker_id=worker_id, node_name=node_name, **values
                    )
                )

        await in_transaction(self._engine, "lavalink_sessions.save", work, retry_integrity=True)


def _check(value: str, limit: int, name: str) -> None:
    if not value or len(value) > limit:
        raise ValueError(f"{name} must be 1..{limit} characters")
