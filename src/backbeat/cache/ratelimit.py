"""Per-user rate limits: policies from SQL (``rate_limits`` table), counters in the cache store.

A policy allows ``limit`` uses of a *bucket* per ``window_seconds`` for one user in one guild
(a guild may override the bucket's default; no policy: no limit). Counters are fixed windows
that start with a user's first use and expire with it (the seed's "dynamic expiration").
Policies are read through a short in-process cache so a command costs no SQL round trip.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

from backbeat.cache.keys import CacheKeys
from backbeat.cache.store import CacheStore
from backbeat.domain.records import RateLimitPolicy

#: Bucket names: one per kind of user action the gateway limits.
PLAY_BUCKET: Final = "music.play"
"""``/play`` and its variants (each starts a search)."""
CONTROL_BUCKET: Final = "music.control"
"""Player controls: pause, resume, skip, stop, volume, buttons…"""
VIEW_BUCKET: Final = "music.view"
"""Read-only views: ``/queue``, ``/nowplaying``."""
SEARCH_BUCKET: Final = "music.search"
"""Live searches (cache misses of play, search, suggest) by one user in a guild."""
SEARCH_GUILD_BUCKET: Final = "music.search.guild"
"""Live searches by everyone in a guild, counted under user :data:`GUILD_WIDE`."""
GUILD_WIDE: Final = 0
"""The user id under which a guild-wide bucket counts (no Discord user has id 0)."""
BUCKETS: Final = (PLAY_BUCKET, CONTROL_BUCKET, VIEW_BUCKET, SEARCH_BUCKET, SEARCH_GUILD_BUCKET)

POLICY_TTL_S: Final = 30.0
"""How long a policy read from SQL is reused in process."""


class PolicySource(Protocol):
    """Where policies come from (``RateLimitRepository``)."""

    async def effective(self, *, bucket: str, guild_id: int) -> RateLimitPolicy | None: ...


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Whether a use is allowed; when not, how long until the window resets."""

    allowed: bool
    retry_after_s: float = 0.0
    limit: int | None = None


class RateLimiter:
    """Checks and counts one use of a bucket by a user in a guild."""

    def __init__(
        self,
        store: CacheStore,
        policies: PolicySource,
        *,
        keys: CacheKeys | None = None,
        policy_ttl_s: float = POLICY_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._policies = policies
        self._keys = keys or CacheKeys()
        self._policy_ttl_s = policy_ttl_s
        self._clock = clock
        self._cached: dict[tuple[str, int], tuple[RateLimitPolicy | None, float]] = {}

    async def policy(self, bucket: str, guild_id: int) -> RateLimitPolicy | None:
        """The effective policy (cached for ``policy_ttl_s``)."""
        now = self._clock()
        cached = self._cached.get((bucket, guild_id))
        if cached is not None and now < cached[1]:
            return cached[0]
        policy = await self._policies.effective(bucket=bucket, guild_id=guild_id)
        if len(self._cached) > 10_000:
            self._cached.clear()
        self._cached[(bucket, guild_id)] = (policy, now + self._policy_ttl_s)
        return policy

    async def hit(self, bucket: str, *, guild_id: int, user_id: int) -> RateDecision:
        """Count one use; refused (with the wait) when it is over the policy's limit."""
        policy = await self.policy(bucket, guild_id)
        if policy is None:
            return RateDecision(True)
        window = await self._store.hit(
            self._keys.rate_limit(bucket, guild_id, user_id),
            window_ms=max(1, policy.window_seconds * 1000),
        )
        if window.count <= policy.limit:
            return RateDecision(True, limit=policy.limit)
        return RateDecision(False, retry_after_s=window.reset_ms / 1000, limit=policy.limit)
