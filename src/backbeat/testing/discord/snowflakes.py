"""Discord snowflakes and bot tokens, built the way Discord builds them.

A snowflake is ``(ms since 2015-01-01 << 22) | (worker << 17) | (process << 12) | increment``.
discord.py reads the timestamp back (for example to pick the bulk-delete sub-limit), so ids
carry real creation times. A bot token's first segment is the base64 of the bot's user id.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable

DISCORD_EPOCH_MS = 1_420_070_400_000
"""Milliseconds from the Unix epoch to 2015-01-01T00:00:00Z."""


def snowflake_time_ms(snowflake: int) -> int:
    """Unix time in milliseconds at which a snowflake was made."""
    return (snowflake >> 22) + DISCORD_EPOCH_MS


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that owns a guild: ``(guild_id >> 22) % shard_count``."""
    return (guild_id >> 22) % shard_count


class SnowflakeGenerator:
    """Unique, rising snowflakes whose timestamps follow a clock (Unix seconds)."""

    def __init__(self, clock: Callable[[], float], *, worker: int = 1, process: int = 0) -> None:
        self._clock = clock
        self._worker = worker & 0x1F
        self._process = process & 0x1F
        self._lock = threading.Lock()
        self._last_ms = 0
        self._increment = 0

    def next(self, *, shard: tuple[int, int] | None = None) -> int:
        """A new snowflake; with ``shard=(shard_id, shard_count)`` one owned by that shard."""
        with self._lock:
            millis = max(int(self._clock() * 1000) - DISCORD_EPOCH_MS, self._last_ms)
            if shard is not None:
                shard_id, shard_count = shard
                if not 0 <= shard_id < shard_count:
                    raise ValueError(f"shard {shard_id} is outside 0..{shard_count - 1}")
                millis += (shard_id - millis) % shard_count
            if millis == self._last_ms:
                self._increment = (self._increment + 1) & 0xFFF
                if self._increment == 0:
                    millis += shard[1] if shard is not None else 1
            else:
                self._increment = 0
            self._last_ms = millis
            return (millis << 22) | (self._worker << 17) | (self._process << 12) | self._increment


def mint_token(user_id: int) -> str:
    """A bot token in Discord's shape whose first segment encodes ``user_id``."""
    first = base64.urlsafe_b64encode(str(user_id).encode("ascii")).decode("ascii").rstrip("=")
    second = base64.urlsafe_b64encode(secrets.token_bytes(4)).decode("ascii").rstrip("=")
    return f"{first}.{second}.{secrets.token_urlsafe(27)}"


def user_id_from_token(token: str) -> int:
    """The user id encoded in a token's first segment (``ValueError`` when it has none)."""
    segment = token.split(".", 1)[0]
    padded = segment + "=" * (-len(segment) % 4)
    try:
        decoded = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (ValueError, UnicodeError) as exc:
        raise ValueError("the token's first segment is not base64") from exc
    if not decoded.isdigit():
        raise ValueError("the token's first segment does not encode a user id")
    return int(decoded)
