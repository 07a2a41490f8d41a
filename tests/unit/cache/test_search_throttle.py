"""Search throttling: the user's bucket, then the guild's, and the message with the wait."""

from __future__ import annotations

import pytest

from backbeat.cache import MemoryCacheStore, RateLimiter
from backbeat.cache.ratelimit import BUCKETS, GUILD_WIDE, SEARCH_BUCKET, SEARCH_GUILD_BUCKET
from backbeat.cache.search_throttle import SearchThrottle, throttled_message
from backbeat.domain.records import RateLimitPolicy
from backbeat.errors import BackbeatError, RateLimitedError


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Policies:
    """Policies held in memory (the SQL repository is exercised in tests/integration)."""

    def __init__(self, *policies: RateLimitPolicy) -> None:
        self.by_bucket = {policy.bucket: policy for policy in policies}

    async def effective(self, *, bucket: str, guild_id: int) -> RateLimitPolicy | None:
        return self.by_bucket.get(bucket)


def throttle(clock: Clock, *policies: RateLimitPolicy) -> SearchThrottle:
    store = MemoryCacheStore(clock)
    return SearchThrottle(RateLimiter(store, Policies(*policies), policy_ttl_s=0, clock=clock))


def test_bucket_names_live_with_the_others() -> None:
    assert {SEARCH_BUCKET, SEARCH_GUILD_BUCKET} <= set(BUCKETS)
    assert GUILD_WIDE == 0


@pytest.mark.parametrize(
    ("wait", "text"), [(0.0, "1 s"), (0.2, "1 s"), (1.0, "1 s"), (1.01, "2 s"), (59.5, "60 s")]
)
def test_the_message_rounds_the_wait_up(wait: float, text: str) -> None:
    assert throttled_message(wait) == f"Too many searches, try again in {text}."


async def test_no_policy_means_no_limit() -> None:
    checker = throttle(Clock())
    for _ in range(50):
        await checker.check(guild_id=1, user_id=1)


async def test_the_user_bucket_refuses_with_the_wait() -> None:
    clock = Clock()
    checker = throttle(clock, RateLimitPolicy(bucket=SEARCH_BUCKET, limit=1, window_seconds=20))
    await checker.check(guild_id=1, user_id=1)
    clock.now += 5
    with pytest.raises(RateLimitedError) as refused:
        await checker.check(guild_id=1, user_id=1)
    assert isinstance(refused.value, BackbeatError)
    assert refused.value.bucket == SEARCH_BUCKET
    assert refused.value.retry_after_s == pytest.approx(15.0)
    assert str(refused.value) == "Too many searches, try again in 15 s."
    await checker.check(guild_id=1, user_id=2)
    await checker.check(guild_id=2, user_id=1)


async def test_the_guild_bucket_counts_every_user_together() -> None:
    clock = Clock()
    checker = throttle(
        clock, RateLimitPolicy(bucket=SEARCH_GUILD_BUCKET, limit=2, window_seconds=30)
    )
    await checker.check(guild_id=1, user_id=1)
    await checker.check(guild_id=1, user_id=2)
    bucket, decision = await checker.decide(guild_id=1, user_id=3)
    assert bucket == SEARCH_GUILD_BUCKET
    assert not decision.allowed
    assert decision.retry_after_s == pytest.approx(30.0)
    await checker.check(guild_id=9, user_id=3)
