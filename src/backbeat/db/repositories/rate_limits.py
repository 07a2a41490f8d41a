"""Rate-limit policies: a default per bucket, optionally overridden per guild.

Only the policy lives in SQL; the counters live in Redis with a dynamic expiry.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.db.models import RateLimit
from backbeat.db.transactions import in_transaction
from backbeat.db.types import utc_now
from backbeat.domain.records import RateLimitPolicy

_TABLE = RateLimit.__table__
DEFAULT_GUILD_KEY: Final = 0
"""``guild_key`` of the default policy of a bucket."""


def _policy(row: Row[Any]) -> RateLimitPolicy:
    return RateLimitPolicy(
        bucket=row.bucket,
        limit=row.max_uses,
        window_seconds=row.window_seconds,
        guild_id=None if row.guild_key == DEFAULT_GUILD_KEY else row.guild_key,
    )


class RateLimitRepository:
    """The ``rate_limits`` table."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def put(self, *, policy: RateLimitPolicy) -> RateLimitPolicy:
        """Create or replace a policy (``guild_id`` None: the default of its bucket)."""
        if not policy.bucket or len(policy.bucket) > 64:
            raise ValueError("bucket must be 1..64 characters")
        key = DEFAULT_GUILD_KEY if policy.guild_id is None else policy.guild_id
        values = {
            "max_uses": policy.limit,
            "window_seconds": policy.window_seconds,
            "updated_at": utc_now(),
        }

        async def work(conn: AsyncConnection) -> RateLimitPolicy:
            result = await conn.execute(
                update(RateLimit)
                .where(RateLimit.guild_key == key, RateLimit.bucket == policy.bucket)
                .values(values)
            )
            if result.rowcount == 0:
                await conn.execute(
                    insert(RateLimit).values(guild_key=key, bucket=policy.bucket, **values)
                )
            return policy

        return await in_transaction(self._engine, "rate_limits.put", work, retry_integrity=True)

    async def effective(self, *, bucket: str, guild_id: int) -> RateLimitPolicy | None:
        """The guild's policy for a bucket, else the bucket's default, else None (no limit)."""

        async def work(conn: AsyncConnection) -> RateLimitPolicy | None:
            rows = (
                await conn.execute(
                    select(_TABLE).where(
                        RateLimit.bucket == bucket,
                        RateLimit.guild_key.in_([guild_id, DEFAULT_GUILD_KEY]),
                    )
                )
            ).all()
            chosen = sorted(rows, key=lambda row: row.guild_key == DEFAULT_GUILD_KEY)
            return _policy(chosen[0]) if chosen else None

        return await in_transaction(self._engine, "rate_limits.get", work, read_only=True)

    async def all(self, *, guild_id: int | None = None) -> list[RateLimitPolicy]:
        """Default policies, plus the guild's overrides when a guild is given."""
        keys = [DEFAULT_GUILD_KEY] if guild_id is None else [DEFAULT_GUILD_KEY, guild_id]

        async def work(conn: AsyncConnection) -> list[RateLimitPolicy]:
            rows = await conn.execute(
                select(_TABLE)
                .where(RateLimit.guild_key.in_(keys))
                .order_by(RateLimit.bucket, RateLimit.guild_key)
            )
            return [_policy(row) for row in rows]

        return await in_transaction(self._engine, "rate_limits.all", work, read_only=True)

    async def remove(self, *, bucket: str, guild_id: int | None = None) -> bool:
        """Delete a policy; False if there was none."""
        key = DEFAULT_GUILD_KEY if guild_id is None else guild_id

        async def work(conn: AsyncConnection) -> bool:
            result = await conn.execute(
                delete(RateLimit).where(RateLimit.guild_key == key, RateLimit.bucket == bucket)
            )
            return bool(result.rowcount)

        return await in_transaction(self._engine, "rate_limits.remove", work)
