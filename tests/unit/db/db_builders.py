"""Builders and a storage probe shared by the database tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.db.models import Queue, QueueItem
from backbeat.domain.queue import NewQueueItem, QueueTrack


def track(name: str, *, length_ms: int = 180_000) -> QueueTrack:
    """A track whose every field derives from ``name``."""
    return QueueTrack(
        encoded=f"QAAA{name}==",
        identifier=f"id-{name}",
        title=f"Title {name}",
        author=f"Artist {name}",
        length_ms=length_ms,
        uri=f"https://example.test/{name}",
        source_name="youtube",
        extra={"name": name},
    )


def item(name: str, *, requester_id: int | None = 42, is_autoplay: bool = False) -> NewQueueItem:
    """A queue item for ``track(name)``."""
    return NewQueueItem(track=track(name), requester_id=requester_id, is_autoplay=is_autoplay)


@dataclass(frozen=True)
class StoredQueue:
    """A guild's queue exactly as stored: the row's bookkeeping and the items' positions."""

    first: int
    cursor: int
    length: int
    positions: dict[int, int]  # item id -> stored position

    def ordered_ids(self) -> list[int]:
        return sorted(self.positions, key=self.positions.__getitem__)

    def assert_contiguous(self) -> None:
        """Stored positions are exactly first..first+length-1 and the cursor is in range."""
        assert sorted(self.positions.values()) == list(range(self.first, self.first + self.length))
        assert 0 <= self.cursor <= self.length


async def stored_queue(engine: AsyncEngine, guild_id: int) -> StoredQueue:
    """Read the queue row and its items' stored positions with plain SQL."""
    async with engine.connect() as connection:
        queue = (
            await connection.execute(
                select(
                    Queue.id, Queue.first_position, Queue.cursor_position, Queue.item_count
                ).where(Queue.guild_id == guild_id)
            )
        ).one()
        items = await connection.execute(
            select(QueueItem.id, QueueItem.position).where(QueueItem.queue_id == queue.id)
        )
        positions = {row.id: row.position for row in items}
    return StoredQueue(queue.first_position, queue.cursor_position, queue.item_count, positions)
