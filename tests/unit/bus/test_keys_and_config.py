"""Key names, partitioning and building the bus from settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from backbeat.bus import BusConfig, Keys, bus_config, create_bus
from backbeat.bus.keys import DEFAULT_GROUPS
from backbeat.config import load_settings
from backbeat.domain.messages import Channel


def test_keys_follow_the_seed_channel_names_under_the_prefix() -> None:
    keys = Keys("prod:")
    assert keys.stream(Channel.COMMANDS, 3) == "prod:discord-bot:commands:3"
    assert keys.stream(Channel.UI_NOW, 0) == "prod:discord-bot:ui:now:0"
    assert keys.dead(Channel.TO_AUDIO, 1) == "prod:discord-bot:to-audio:1:dead"
    assert keys.lease("audio", 7) == "prod:bus:lease:audio:7"
    assert keys.workers("audio") == "prod:bus:workers:audio"
    assert Keys().stream(Channel.TO_DISCORD, 2) == "discord-bot:to-discord:2"
    assert set(DEFAULT_GROUPS) == set(Channel)


def test_guild_channels_partition_by_guild_and_gateway_channels_by_shard() -> None:
    config = BusConfig(partitions=16, shard_count=4)
    guild = (1234 << 22) | 99  # created at timestamp 1234, shard (1234 % 4) == 2
    assert config.partition_of(Channel.COMMANDS, guild) == guild % 16
    assert config.partition_of(Channel.TO_AUDIO, guild) == guild % 16
    assert config.partition_of(Channel.TO_DISCORD, guild) == 2
    assert config.partition_of(Channel.UI_NOW, guild) == 2
    assert config.partition_count(Channel.COMMANDS) == 16
    assert config.partition_count(Channel.UI_NOW) == 4


def test_consumer_refuses_partitions_a_channel_does_not_have() -> None:
    from backbeat.bus import memory_bus

    bus = memory_bus(BusConfig(partitions=4, shard_count=1))

    async def nothing(_: object) -> None:
        return None

    with pytest.raises(ValueError, match=r"partitions 0\.\.0"):
        bus.consume(Channel.UI_NOW, nothing, partitions=[1], consumer="x")


def test_settings_choose_the_backend_and_tuning(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, tmp_path: Path
) -> None:
    env = tmp_path / "none.env"
    monkeypatch.delenv("BACKBEAT_REDIS_URL", raising=False)
    monkeypatch.setenv("BACKBEAT_BUS_PARTITIONS", "8")
    monkeypatch.setenv("BACKBEAT_BUS_MAX_DELIVERIES", "7")
    monkeypatch.setenv("BACKBEAT_BUS_LEASE_TTL_MS", "2500")
    monkeypatch.setenv("BACKBEAT_SHARD_COUNT", "3")
    settings = load_settings(env)
    config = bus_config(settings)
    assert (config.partitions, config.shard_count, config.max_deliveries) == (8, 3, 7)
    assert config.lease_ttl_ms == 2500
    assert not create_bus(settings).is_durable

    monkeypatch.setenv("BACKBEAT_REDIS_URL", redis_url)
    monkeypatch.setenv("BACKBEAT_REDIS_KEY_PREFIX", "unit:")
    durable = create_bus(load_settings(env))
    assert durable.is_durable
    assert durable.keys.prefix == "unit:"
