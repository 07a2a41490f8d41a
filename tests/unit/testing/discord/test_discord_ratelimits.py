from __future__ import annotations

import pytest

from backbeat.testing.discord.faults import HttpFault, HttpFaults
from backbeat.testing.discord.ratelimits import Limit, RateLimitConfig, RateLimiter, bucket_hash

ROUTE = "POST /channels/{channel_id}/messages"


def test_route_bucket_counts_down_then_refuses() -> None:
    limiter = RateLimiter(RateLimitConfig(routes={ROUTE: Limit(2, 60)}))
    first = limiter.check(ROUTE, "1", exempt_from_global=False)
    assert first.allowed
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert first.headers["X-RateLimit-Remaining"] == "1"
    assert first.headers["X-RateLimit-Bucket"] == bucket_hash(ROUTE)
    assert 59 < float(first.headers["X-RateLimit-Reset-After"]) <= 60
    assert (
        limiter.check(ROUTE, "1", exempt_from_global=False).headers["X-RateLimit-Remaining"] == "0"
    )
    refused = limiter.check(ROUTE, "1", exempt_from_global=False)
    assert not refused.allowed
    assert not refused.is_global
    assert refused.headers["Via"] == "1.1 google"
    assert refused.headers["X-RateLimit-Scope"] == "user"
    assert 59 < refused.retry_after <= 60
    # Another channel (major parameter) has its own bucket.
    assert limiter.check(ROUTE, "2", exempt_from_global=False).allowed


def test_global_limit_spares_exempt_routes() -> None:
    limiter = RateLimiter(RateLimitConfig(global_limit=Limit(1, 60)))
    assert limiter.check("GET /users/@me", "", exempt_from_global=False).allowed
    refused = limiter.check("GET /users/@me", "", exempt_from_global=False)
    assert not refused.allowed
    assert refused.is_global
    assert refused.headers["X-RateLimit-Global"] == "true"
    assert limiter.check(
        "POST /interactions/{interaction_id}/{token}/callback", "1", exempt_from_global=True
    ).allowed


def test_http_faults_are_consumed_in_order() -> None:
    faults = HttpFaults()
    faults.add(HttpFault(kind="429", count=2, route=ROUTE))
    faults.add(HttpFault(kind="5xx", status=502))
    assert faults.take("GET /users/@me") is not None  # the catch-all 5xx
    assert faults.take(ROUTE) is not None
    assert faults.take(ROUTE) is not None
    assert faults.take(ROUTE) is None
    with pytest.raises(ValueError, match="5xx"):
        HttpFault(kind="5xx", status=404)
