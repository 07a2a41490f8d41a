"""Where the guild's now-playing message is: the Queue row in SQL, a 24 h cache in front.

The gateway alone writes ``now_playing_channel_id`` and ``now_playing_message_id``. The
cache entry also keeps the last ``state_seq`` shown, so a restarted gateway ignores states
older than what the message already shows. The row belongs to audio's session: when audio
has none (no row), the reference lives in the cache only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.cache import NOW_PLAYING_TTL_S, CacheKeys, CacheStore
from backbeat.db.models import Queue
from backbeat.db.transactions import in_transaction
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A now-playing message and the newest state it shows."""

    channel_id: int
    message_id: int
    state_seq: int = 0


class NowPlayingStore:
    """Reads and writes the guild's now-playing message reference."""

    def __init__(self, engine: AsyncEngine, cache: CacheStore, keys: CacheKeys) -> None:
        self._engine = engine
        self._cache = cache
        self._keys = keys

    async def get(self, guild_id: int) -> MessageRef | None:
        raw = await self._cache.get(self._keys.now_playing(guild_id))
        if raw is not None:
            try:
                data = json.loads(raw)
                if data is None:
                    return None
                return MessageRef(int(data["c"]), int(data["m"]), int(data.get("s", 0)))
            except (ValueError, KeyError, TypeError):
                _log.warning("cached now-playing reference unreadable", guild_id=guild_id)

        async def work(conn: AsyncConnection) -> MessageRef | None:
            row = (
                await conn.execute(
                    select(Queue.now_playing_channel_id, Queue.now_playing_message_id).where(
                        Queue.guild_id == guild_id
                    )
                )
            ).one_or_none()
            if row is None or row[0] is None or row[1] is None:
                return None
            return MessageRef(int(row[0]), int(row[1]))

        ref = await in_transaction(self._engine, "gateway.np_get", work, read_only=True)
        if ref is not None:
            await self._remember(guild_id, ref)
        return ref

    async def put(self, guild_id: int, ref: MessageRef) -> None:
        """Record a newly posted message (SQL first, then the cache)."""
        await self._write(guild_id, ref.channel_id, ref.message_id)
        await self._remember(guild_id, ref)

    async def seen(self, guild_id: int, ref: MessageRef) -> None:
        """Remember the newest ``state_seq`` shown (cache only: it is a hint)."""
        await self._remember(guild_id, ref)

    async def clear(self, guild_id: int) -> None:
        """The message was deleted."""
        await self._write(guild_id, None, None)
        await self._cache.delete(self._keys.now_playing(guild_id))

    async def _remember(self, guild_id: int, ref: MessageRef) -> None:
        value = json.dumps({"c": ref.channel_id, "m": ref.message_id, "s": ref.state_seq})
        await self._cache.set(
            self._keys.now_playing(guild_id), value.encode(), ttl_s=NOW_PLAYING_TTL_S
        )

    async def _write(self, guild_id: int, channel_id: int | None, message_id: int | None) -> None:
        async def work(conn: AsyncConnection) -> int:
            result = await conn.execute(
                update(Queue)
                .where(Queue.guild_id == guild_id)
                .values(now_playing_channel_id=channel_id, now_playing_message_id=message_id)
            )
            return int(result.rowcount)

        rows = await in_transaction(self._engine, "gateway.np_put", work)
        if rows == 0 and message_id is not None:
            _log.info("no queue row for the now-playing message; cached only", guild_id=guild_id)
