"""Every cache key Backbeat uses, in one place (the bus's keys live in ``backbeat.bus.keys``).

Keys start with the deployment's ``BACKBEAT_REDIS_KEY_PREFIX`` so several deployments can
share one Redis. The in-process store uses the same names.

* ``<prefix>cache:guild-settings:<guild>``: a guild's ServerConfiguration (JSON); 1 h,
  deleted on every change.
* ``<prefix>cache:np-message:<guild>``: the now-playing message's channel and id and the last
  ``state_seq`` shown; 24 h.
* ``<prefix>cache:search:<source>:<query>``: search results; 5 min.
* ``<prefix>ratelimit:<bucket>:<guild>:<user>``: uses of a rate-limit bucket in the current
  window; expires with the window.
* ``<prefix>lease:identify:<bucket>``: held for the identify interval by the gateway
  process whose shard of that concurrency bucket (``shard_id % max_concurrency``) identifies.
* ``<prefix>ratelimit:panel-login:<address>``: logins a client address started at the control
  panel in the current window; expires with the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

GUILD_SETTINGS_TTL_S: Final = 3600
"""Server configuration: 1 hour, and deleted by every writer."""
NOW_PLAYING_TTL_S: Final = 86_400
"""UI message ids: 24 hours (the Queue row in SQL is the record)."""
SEARCH_TTL_S: Final = 300
"""Search results: 5 minutes."""


@dataclass(frozen=True, slots=True)
class CacheKeys:
    """Key names under one prefix."""

    prefix: str = ""

    def guild_settings(self, guild_id: int) -> str:
        return f"{self.prefix}cache:guild-settings:{guild_id}"

    def now_playing(self, guild_id: int) -> str:
        return f"{self.prefix}cache:np-message:{guild_id}"

    def search(self, source: str, query: str) -> str:
        """``query`` as ``backbeat.domain.search_query.normalise_query`` spells it (a URL's
        path keeps its case: video ids are case-sensitive)."""
        return f"{self.prefix}cache:search:{source}:{query}"

    def identify(self, bucket: int) -> str:
        return f"{self.prefix}lease:identify:{bucket}"

    def panel_login(self, address: str) -> str:
        return f"{self.prefix}ratelimit:panel-login:{address}"

    def rate_limit(self, bucket: str, guild_id: int, user_id: int) -> str:
        return f"{self.prefix}ratelimit:{bucket}:{guild_id}:{user_id}"
