"""Identify pacing: Discord accepts one IDENTIFY per concurrency bucket every 5 seconds, the
bucket of a shard being ``shard_id % max_concurrency`` (``/gateway/bot``'s
``session_start_limit``). Several gateway processes share those buckets.

Before each IDENTIFY (first connect or re-identify) the shard claims its bucket's lease in
the cache store (Redis when configured, so every process of the deployment sees it; else
in process) for the interval; while another shard holds it, it waits exactly until the lease
ends, then claims again. No fixed sleep: the first shard of a free bucket identifies at once,
and shards of different buckets do not wait for each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from backbeat.cache import CacheKeys, CacheStore
from backbeat.errors import BackbeatError
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import gateway_identify_wait_seconds_total

_log = get_logger(__name__)

FetchConcurrency = Callable[[], Awaitable[int]]
"""Reads ``max_concurrency`` from ``/gateway/bot``."""

_MIN_WAIT_S = 0.01


class IdentifyPacer:
    """Waits until a shard may IDENTIFY, across processes sharing ``store``."""

    def __init__(
        self,
        store: CacheStore,
        keys: CacheKeys,
        fetch_concurrency: FetchConcurrency,
        *,
        interval_s: float,
    ) -> None:
        self._store = store
        self._keys = keys
        self._fetch = fetch_concurrency
        self.interval_s = interval_s
        self._concurrency: int | None = None
        self._lock = asyncio.Lock()
        self.waited_s = 0.0
        """Seconds spent waiting for leases (for the tests and the logs)."""

    async def max_concurrency(self) -> int:
        """``/gateway/bot``'s ``max_concurrency``, read once (1 when it cannot be read)."""
        async with self._lock:
            if self._concurrency is None:
                try:
                    self._concurrency = max(1, int(await self._fetch()))
                except Exception as error:  # the gateway connect reports Discord's failure
                    _log.warning("max_concurrency unknown, using 1", error=str(error))
                    return 1
            return self._concurrency

    def bucket_of(self, shard_id: int, concurrency: int) -> int:
        return shard_id % max(1, concurrency)

    async def wait(self, shard_id: int) -> None:
        """Return once ``shard_id`` holds its bucket's lease (immediately when free)."""
        if self.interval_s <= 0:
            return
        bucket = self.bucket_of(shard_id, await self.max_concurrency())
        key = self._keys.identify(bucket)
        while True:
            try:
                left = await self._store.claim(key, ttl_s=self.interval_s)
            except BackbeatError as error:
                # Redis is down: pace this process alone rather than not at all.
                _log.warning("identify lease unavailable", shard_id=shard_id, error=str(error))
                await asyncio.sleep(self.interval_s)
                return
            if left <= 0:
                _log.debug("identify lease taken", shard_id=shard_id, bucket=bucket)
                return
            wait = max(left, _MIN_WAIT_S)
            self.waited_s += wait
            gateway_identify_wait_seconds_total.inc(wait)
            await asyncio.sleep(wait)
