"""The login rate limit: fixed windows per client address in the shared cache store.

With Redis (``BACKBEAT_REDIS_URL``) every panel process counts in the same window; on the
embedded default the count lives in the process's memory store. A store that cannot be
reached lets the login through (logged): the limit protects Discord and the panel from
floods, it is not an access control.
"""

from __future__ import annotations

from backbeat.cache.keys import CacheKeys
from backbeat.cache.store import CacheStore
from backbeat.errors import BackendUnavailableError
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)


class LoginLimiter:
    """At most ``limit`` logins per ``window_s`` for each client address."""

    def __init__(
        self, store: CacheStore, *, limit: int, window_s: float, keys: CacheKeys | None = None
    ) -> None:
        self._store = store
        self._limit = limit
        self._window_ms = max(1, round(window_s * 1000))
        self._keys = keys or CacheKeys()

    async def hit(self, address: str) -> float | None:
        """Count one login; None when allowed, else seconds until the window resets."""
        try:
            window = await self._store.hit(
                self._keys.panel_login(address), window_ms=self._window_ms
            )
        except BackendUnavailableError as error:
            _log.warning("panel login limit not counted", error=str(error))
            return None
        if window.count > self._limit:
            return window.reset_ms / 1000
        return None
