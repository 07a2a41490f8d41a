"""The private redis-server of failure tests keeps what it answered across SIGKILL."""

from __future__ import annotations

import pytest
import redis

from backbeat.testing.redis_server import RedisServer, ping

pytestmark = pytest.mark.slow


def test_writes_survive_a_sigkill_restart_on_the_same_port(redis_server: RedisServer) -> None:
    port = redis_server.port
    client = redis.Redis.from_url(redis_server.url)
    ids = [client.xadd("s", {"m": str(n)}) for n in range(200)]
    assert client.config_get("appendfsync") == {"appendfsync": "always"}
    assert client.config_get("save") == {"save": ""}
    client.close()

    redis_server.restart(kill=True)

    assert redis_server.port == port
    client = redis.Redis.from_url(redis_server.url)
    assert [entry_id for entry_id, _ in client.xrange("s")] == ids  # type: ignore[union-attr]
    client.close()


def test_stop_frees_the_port_and_start_serves_it_again(redis_server: RedisServer) -> None:
    redis_server.stop()
    assert not redis_server.running
    assert not ping(redis_server.port)
    redis_server.start()
    assert ping(redis_server.port)


def test_it_is_never_the_shared_server(redis_server: RedisServer) -> None:
    assert redis_server.port != 6379
    assert redis_server.url.startswith("redis://127.0.0.1:")
