"""Private Redis servers get ports the kernel never hands out as a connection's local port."""

from __future__ import annotations

import socket

from backbeat.testing import redis_server
from backbeat.testing.redis_server import free_port


def test_ports_come_from_below_the_ephemeral_range() -> None:
    low = redis_server._ephemeral_low()
    ports = {free_port() for _ in range(20)}
    assert all(redis_server.LOWEST_CHOSEN_PORT <= port < low for port in ports)
    assert len(ports) > 1  # chosen at random, so concurrent suites rarely meet
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", ports.pop()))  # and free when chosen


def test_a_port_someone_listens_on_counts_as_taken() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        assert not redis_server._bindable(taken.getsockname()[1])
