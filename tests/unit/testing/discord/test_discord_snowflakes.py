from __future__ import annotations

import pytest

from backbeat.testing.discord.snowflakes import (
    DISCORD_EPOCH_MS,
    SnowflakeGenerator,
    mint_token,
    shard_of,
    snowflake_time_ms,
    user_id_from_token,
)


def test_snowflakes_carry_the_clock_time_and_rise() -> None:
    now = [1_700_000_000.0]
    ids = SnowflakeGenerator(lambda: now[0])
    first, second = ids.next(), ids.next()
    assert second > first
    assert snowflake_time_ms(first) == 1_700_000_000_000
    assert (first >> 22) + DISCORD_EPOCH_MS == 1_700_000_000_000


def test_snowflakes_can_be_made_for_a_shard() -> None:
    ids = SnowflakeGenerator(lambda: 1_700_000_000.123)
    for shard in range(4):
        for _ in range(3):
            assert shard_of(ids.next(shard=(shard, 4)), 4) == shard
    with pytest.raises(ValueError, match="outside"):
        ids.next(shard=(4, 4))


def test_tokens_encode_the_user_id() -> None:
    token = mint_token(1234567890123456789)
    assert token.count(".") == 2
    assert user_id_from_token(token) == 1234567890123456789
    with pytest.raises(ValueError, match="user id"):
        user_id_from_token("bm90LWFuLWlk.x.y")
