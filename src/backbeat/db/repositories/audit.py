"""The audit log: every command and settings change, appended and never edited."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.db.models import AuditLog
from backbeat.db.transactions import transact
from backbeat.db.types import utc_now
from backbeat.domain.records import AuditEntry, AuditSource

_TABLE = AuditLog.__table__


def _entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        entry_id=row.id,
        guild_id=row.guild_id,
        actor_id=row.actor_id,
        action=row.action,
        source=AuditSource(row.source),
        channel_id=row.channel_id,
        payload=row.payload or {},
        created_at=row.created_at,
    )


@dataclass(frozen=True, slots=True)
class NewAuditEntry:
    """One action to record with :meth:`AuditRepository.append_many`."""

    action: str
    source: AuditSource
    guild_id: int | None = None
    actor_id: int | None = None
    channel_id: int | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


class AuditRepository:
    """The ``audit_log`` table."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def append(
        self,
        *,
        action: str,
        source: AuditSource,
        guild_id: int | None = None,
        actor_id: int | None = None,
        channel_id: int | None = None,
        payload: Mapping[str, Any] | None = None,
        conn: AsyncConnection | None = None,
    ) -> AuditEntry:
        """Record one action (``play``, ``settings.update``…)."""
        if not action or len(action) > 64:
            raise ValueError("action must be 1..64 characters")
        values = {
            "guild_id": guild_id,
            "actor_id": actor_id,
            "action": action,
            "source": AuditSource(source).value,
            "channel_id": channel_id,
            "payload": dict(payload or {}),
            "created_at": utc_now(),
        }

        async def work(conn: AsyncConnection) -> AuditEntry:
            result = await conn.execute(insert(AuditLog).values(values))
            entry_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            row = (await conn.execute(select(_TABLE).where(AuditLog.id == entry_id))).one()
            return _entry(row)

        return await transact(self._engine, "audit.append", work, conn=conn)

    async def append_many(self, conn: AsyncConnection, entries: Sequence[NewAuditEntry]) -> None:
        """Record several actions in one statement on the caller's ``conn`` (a batch of
        commands' transaction); nothing is read back."""
        if not entries:
            return
        now = utc_now()
        rows = []
        for entry in entries:
            if not entry.action or len(entry.action) > 64:
                raise ValueError("action must be 1..64 characters")
            rows.append(
                {
                    "guild_id": entry.guild_id,
                    "actor_id": entry.actor_id,
                    "action": entry.action,
                    "source": AuditSource(entry.source).value,
                    "channel_id": entry.channel_id,
                    "payload": dict(entry.payload),
                    "created_at": now,
                }
            )
        await conn.execute(insert(AuditLog), rows)

    async def recent(
        self,
        *,
        guild_id: int | None = None,
        limit: int = 50,
        before_id: int | None = None,
        conn: AsyncConnection | None = None,
    ) -> list[AuditEntry]:
        """Latest entries (of one guild, or all), newest first; ``before_id`` pages back."""

        async def work(conn: AsyncConnection) -> list[AuditEntry]:
            statement = select(_TABLE)
            if guild_id is not None:
                statement = statement.where(AuditLog.guild_id == guild_id)
            if before_id is not None:
                statement = statement.where(AuditLog.id < before_id)
            statement = statement.order_by(AuditLog.id.desc()).limit(limit)
            return [_entry(row) for row in await conn.execute(statement)]

        return await transact(self._engine, "audit.recent", work, read_only=True, conn=conn)
