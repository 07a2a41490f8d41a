"""The idle and alone timers' deadlines on the queue row (migration 0007)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.db.repositories import QueueRepository
from backbeat.db.transactions import in_transaction
from backbeat.db.types import utc_now

GUILD = 7_000_001


async def test_deadlines_are_stored_cleared_and_joined_to_a_transaction(
    engine: AsyncEngine,
) -> None:
    repo = QueueRepository(engine)
    at = utc_now().replace(microsecond=0) + timedelta(seconds=30)
    session = await repo.set_session(guild_id=GUILD, voice_channel_id=5, idle_leave_at=at)
    assert session.idle_leave_at == at
    assert session.alone_pause_at is None
    assert session.alone_leave_at is None

    async def work(conn: AsyncConnection) -> None:
        await repo.set_session(
            guild_id=GUILD,
            idle_leave_at=None,
            alone_pause_at=at,
            alone_leave_at=at + timedelta(seconds=60),
            conn=conn,
        )

    await in_transaction(engine, "test", work)
    stored = await repo.session(guild_id=GUILD)
    assert stored is not None
    assert stored.idle_leave_at is None
    assert stored.alone_pause_at == at
    assert stored.alone_leave_at == at + timedelta(seconds=60)
    assert stored.voice_channel_id == 5, "other fields untouched"
