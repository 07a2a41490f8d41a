"""Redis clients of the bus have a socket timeout longer than any blocking read."""

from __future__ import annotations

import pytest

from backbeat.bus.factory import redis_bus
from backbeat.bus.interface import BusConfig
from backbeat.bus.redis_store import RedisStreamStore


def test_the_default_socket_timeout_exceeds_block_ms_by_ten_seconds() -> None:
    assert BusConfig().socket_timeout_s == 11.0
    assert BusConfig(block_ms=200).socket_timeout_s == 10.2
    assert BusConfig(block_ms=100, socket_timeout_ms=1500).socket_timeout_s == 1.5


def test_a_socket_timeout_not_longer_than_block_ms_is_refused() -> None:
    with pytest.raises(ValueError, match="must exceed block_ms"):
        _ = BusConfig(block_ms=1000, socket_timeout_ms=1000).socket_timeout_s


async def test_redis_bus_clients_carry_the_timeout_and_a_shorter_health_check() -> None:
    bus = redis_bus("redis://127.0.0.1:1/0", config=BusConfig(block_ms=100))  # never connects
    try:
        assert isinstance(bus.store, RedisStreamStore)
        kwargs = bus.store.client.connection_pool.connection_kwargs
        assert kwargs["socket_timeout"] == 10.1
        assert kwargs["socket_connect_timeout"] == 10.1
        assert kwargs["health_check_interval"] == 5.0
        assert kwargs["health_check_interval"] < kwargs["socket_timeout"]
    finally:
        await bus.close()
