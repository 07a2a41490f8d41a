"""REST rate limits the way Discord reports them: per route bucket and global.

Each route (``METHOD /path/{template}``) has a bucket with a fixed window; the bucket is
keyed by its major parameters (channel, guild, webhook id and token) as on Discord. Every
answer carries ``X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket``; a request over the
limit gets a 429 decision with ``retry_after``. Interaction callbacks and webhook routes are
exempt from the global limit, as on Discord. Defaults are generous so tests are not slowed;
:meth:`RateLimitConfig.discord_like` gives Discord's published numbers.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limit:
    """``limit`` requests per ``window`` seconds."""

    limit: int
    window: float

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window <= 0:
            raise ValueError("a limit needs limit >= 1 and window > 0")

    def to_json(self) -> dict[str, float]:
        return {"limit": self.limit, "window": self.window}


@dataclass
class RateLimitConfig:
    """Limits by route key (``"POST /channels/{channel_id}/messages"``) and the global one."""

    global_limit: Limit | None = field(default_factory=lambda: Limit(10_000, 1.0))
    default: Limit = field(default_factory=lambda: Limit(1_000, 1.0))
    routes: dict[str, Limit] = field(default_factory=dict)

    @classmethod
    def discord_like(cls) -> RateLimitConfig:
        """Discord's published global limit and typical per-route buckets."""
        return cls(
            global_limit=Limit(50, 1.0),
            default=Limit(5, 5.0),
            routes={
                "POST /channels/{channel_id}/messages": Limit(5, 5.0),
                "PATCH /channels/{channel_id}/messages/{message_id}": Limit(5, 5.0),
                "DELETE /channels/{channel_id}/messages/{message_id}": Limit(5, 1.0),
            },
        )

    def limit_for(self, route_key: str) -> Limit:
        return self.routes.get(route_key, self.default)

    def to_json(self) -> dict[str, object]:
        return {
            "global": self.global_limit.to_json() if self.global_limit else None,
            "default": self.default.to_json(),
            "routes": {key: value.to_json() for key, value in self.routes.items()},
        }


@dataclass
class Decision:
    """The outcome for one request: allowed or not, and the headers to send."""

    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0
    is_global: bool = False


def bucket_hash(route_key: str) -> str:
    """A stable opaque bucket id per route, like Discord's ``X-RateLimit-Bucket``."""
    return hashlib.sha1(route_key.encode(), usedforsecurity=False).hexdigest()[:32]


def too_many_requests_headers(retry_after: float, *, is_global: bool, scope: str) -> dict[str, str]:
    """Headers of a 429: ``Retry-After``, scope, and the ``Via`` discord.py insists on."""
    headers = {
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Scope": scope,
        "Via": "1.1 google",
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    return headers


class _Window:
    __slots__ = ("count", "started")

    def __init__(self, started: float) -> None:
        self.started = started
        self.count = 0


class RateLimiter:
    """Counts requests in fixed windows and decides allow / 429."""

    def __init__(self, config: RateLimitConfig | None = None) -> None:
        self.config = config or RateLimitConfig()
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], _Window] = {}
        self._global: _Window | None = None

    def configure(self, config: RateLimitConfig) -> None:
        """Replace the limits and forget all counts."""
        with self._lock:
            self.config = config
            self._windows.clear()
            self._global = None

    def check(self, route_key: str, major: str, *, exempt_from_global: bool) -> Decision:
        """Count one request on ``route_key`` with major parameters ``major``."""
        now = time.monotonic()
        with self._lock:
            glob = self.config.global_limit
            if glob is not None and not exempt_from_global:
                if self._global is None or now - self._global.started >= glob.window:
                    self._global = _Window(now)
                if self._global.count >= glob.limit:
                    retry = glob.window - (now - self._global.started)
                    headers = too_many_requests_headers(retry, is_global=True, scope="global")
                    return Decision(False, headers, retry_after=round(retry, 3), is_global=True)
            limit = self.config.limit_for(route_key)
            key = (route_key, major)
            window = self._windows.get(key)
            if window is None or now - window.started >= limit.window:
                window = self._windows[key] = _Window(now)
            reset_after = max(0.0, limit.window - (now - window.started))
            headers = {
                "X-RateLimit-Limit": str(limit.limit),
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Bucket": bucket_hash(route_key),
            }
            if window.count >= limit.limit:
                headers["X-RateLimit-Remaining"] = "0"
                headers.update(
                    too_many_requests_headers(reset_after, is_global=False, scope="user")
                )
                return Decision(False, headers, retry_after=round(reset_after, 3))
            window.count += 1
            if glob is not None and not exempt_from_global and self._global is not None:
                self._global.count += 1
            headers["X-RateLimit-Remaining"] = str(limit.limit - window.count)
            return Decision(True, headers)
