"""The event store: append-only domain events numbered 1, 2, 3… per guild.

``append`` takes the guild's highest sequence number plus one; two writers racing for the
same number collide on the unique ``(guild_id, seq)`` key and the loser retries, so numbers
are never skipped or shared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.db.models import EventStoreEvent
from backbeat.db.transactions import MAX_ATTEMPTS, transact
from backbeat.db.types import one_of, utc_now
from backbeat.domain.records import StoredEvent

_TABLE = EventStoreEvent.__table__


def _event(row: Row[Any]) -> StoredEvent:
    return StoredEvent(
        guild_id=row.guild_id,
        seq=row.seq,
        type=row.type,
        payload=row.payload or {},
        created_at=row.created_at,
    )


class EventStoreRepository:
    """The ``event_store_events`` table."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def append(
        self,
        *,
        guild_id: int,
        type: str,
        payload: Mapping[str, Any] | None = None,
        conn: AsyncConnection | None = None,
    ) -> StoredEvent:
        """Append one event and return it with its sequence number."""
        if not type or len(type) > 64:
            raise ValueError("type must be 1..64 characters")

        async def work(conn: AsyncConnection) -> StoredEvent:
            last = (
                await conn.execute(
                    select(func.max(EventStoreEvent.seq)).where(
                        EventStoreEvent.guild_id == guild_id
                    )
                )
            ).scalar_one()
            event = StoredEvent(
                guild_id=guild_id,
                seq=(last or 0) + 1,
                type=type,
                payload=dict(payload or {}),
                created_at=utc_now(),
            )
            await conn.execute(
                insert(EventStoreEvent).values(
                    guild_id=event.guild_id,
                    seq=event.seq,
                    type=event.type,
                    payload=event.payload,
                    created_at=event.created_at,
                )
            )
            return event

        return await transact(
            self._engine,
            "events.append",
            work,
            retry_integrity=True,
            max_attempts=MAX_ATTEMPTS * 4,
            conn=conn,
        )

    async def append_many(
        self, conn: AsyncConnection, events: Sequence[tuple[int, str, Mapping[str, Any]]]
    ) -> None:
        """Append ``(guild_id, type, payload)`` events in order on the caller's ``conn`` (a
        batch of commands' transaction): one query for every guild's last sequence number,
        one statement for the rows. A concurrent append to one of the guilds fails the
        statement (the unique sequence number): roll back and run the work again."""
        if not events:
            return
        for _, kind, _ in events:
            if not kind or len(kind) > 64:
                raise ValueError("type must be 1..64 characters")
        guilds = sorted({guild_id for guild_id, _, _ in events})
        found = await conn.execute(
            select(EventStoreEvent.guild_id, func.max(EventStoreEvent.seq))
            .where(one_of(EventStoreEvent.guild_id, guilds, conn.dialect.name))
            .group_by(EventStoreEvent.guild_id)
        )
        last: dict[int, int] = {int(guild_id): int(seq or 0) for guild_id, seq in found.all()}
        now = utc_now()
        rows = []
        for guild_id, kind, payload in events:
            seq = (last.get(guild_id) or 0) + 1
            last[guild_id] = seq
            rows.append(
                {
                    "guild_id": guild_id,
                    "seq": seq,
                    "type": kind,
                    "payload": dict(payload),
                    "created_at": now,
                }
            )
        await conn.execute(insert(EventStoreEvent), rows)

    async def read_from(
        self,
        *,
        guild_id: int,
        seq: int = 1,
        limit: int = 100,
        conn: AsyncConnection | None = None,
    ) -> list[StoredEvent]:
        """The guild's events with sequence numbers ``seq``, ``seq+1``…, at most ``limit``."""

        async def work(conn: AsyncConnection) -> list[StoredEvent]:
            rows = await conn.execute(
                select(_TABLE)
                .where(EventStoreEvent.guild_id == guild_id, EventStoreEvent.seq >= seq)
                .order_by(EventStoreEvent.seq)
                .limit(limit)
            )
            return [_event(row) for row in rows]

        return await transact(self._engine, "events.read", work, read_only=True, conn=conn)

    async def last_seq(self, *, guild_id: int, conn: AsyncConnection | None = None) -> int:
        """The guild's highest sequence number (0 when it has no events)."""

        async def work(conn: AsyncConnection) -> int:
            value = (
                await conn.execute(
                    select(func.max(EventStoreEvent.seq)).where(
                        EventStoreEvent.guild_id == guild_id
                    )
                )
            ).scalar_one()
            return int(value or 0)

        return await transact(self._engine, "events.last_seq", work, read_only=True, conn=conn)
