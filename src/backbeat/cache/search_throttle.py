"""Search throttling: live searches per user and per guild, on the shared rate limiter.

Only searches that reach a node count (a cache hit is free). A user is held to
``music.search``; everyone in a guild together to ``music.search.guild`` (counted under
user :data:`~backbeat.cache.ratelimit.GUILD_WIDE`). Policies are rows of the
``rate_limits`` table (migration 0005 seeds the defaults); the counters live in the cache
store, so the gateway and every audio worker share them.
"""

from __future__ import annotations

import math

from backbeat.cache.ratelimit import (
    GUILD_WIDE,
    SEARCH_BUCKET,
    SEARCH_GUILD_BUCKET,
    RateDecision,
    RateLimiter,
)
from backbeat.errors import RateLimitedError


def throttled_message(retry_after_s: float) -> str:
    """What a throttled user reads (whole seconds, at least 1)."""
    seconds = max(1, math.ceil(retry_after_s))
    return f"Too many searches, try again in {seconds} s."


class SearchThrottle:
    """Counts one live search against the user's and the guild's bucket."""

    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter

    async def decide(self, *, guild_id: int, user_id: int) -> tuple[str, RateDecision]:
        """The first bucket that refuses (or the user's when both allow) and its decision."""
        user = await self._limiter.hit(SEARCH_BUCKET, guild_id=guild_id, user_id=user_id)
        if not user.allowed:
            return SEARCH_BUCKET, user
        guild = await self._limiter.hit(SEARCH_GUILD_BUCKET, guild_id=guild_id, user_id=GUILD_WIDE)
        if not guild.allowed:
            return SEARCH_GUILD_BUCKET, guild
        return SEARCH_BUCKET, user

    async def check(self, *, guild_id: int, user_id: int) -> None:
        """Count the search; :class:`RateLimitedError` (with the wait) when it is refused."""
        bucket, decision = await self.decide(guild_id=guild_id, user_id=user_id)
        if not decision.allowed:
            retry = decision.retry_after_s
            raise RateLimitedError(bucket, retry, throttled_message(retry))
