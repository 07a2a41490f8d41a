"""The login limit (and the logs) behind a reverse proxy, over real HTTP: the test client
connects from 127.0.0.1, which plays the proxy when ``BACKBEAT_PANEL_TRUSTED_PROXIES``
lists it. Without trusted proxies X-Forwarded-For is ignored (everyone behind one address
shares its limit, no header spoofs a way out); behind a trusted proxy each forwarded client
has its own limit, keyed on the right-most address that is not a trusted proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import structlog
from panel_rig import PanelRig, start_rig
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.streams import StreamBus

LIMIT = 2
ALICE, BOB = "203.0.113.10", "203.0.113.20"


async def logins(rig: PanelRig, forwarded_for: str | None, count: int = 1) -> list[int]:
    """The status of ``count`` ``/login`` requests carrying ``forwarded_for``."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    async with rig.client() as client:
        return [(await client.get("/login", headers=headers)).status_code for _ in range(count)]


async def _rig(
    engine: AsyncEngine, bus: StreamBus, proxies: list[str] | None
) -> AsyncIterator[PanelRig]:
    panel = {"panel_trusted_proxies": proxies} if proxies is not None else None
    async for running in start_rig(engine=engine, bus=bus, login_limit=LIMIT, panel=panel):
        yield running


@pytest.fixture
async def direct(panel_engine: AsyncEngine, bus: StreamBus) -> AsyncIterator[PanelRig]:
    """No trusted proxies (the default)."""
    async for running in _rig(panel_engine, bus, None):
        yield running


@pytest.fixture
async def proxied(panel_engine: AsyncEngine, bus: StreamBus) -> AsyncIterator[PanelRig]:
    """Behind 127.0.0.1, itself behind proxies in 10.0.0.0/8."""
    async for running in _rig(panel_engine, bus, ["127.0.0.1", "10.0.0.0/8"]):
        yield running


@pytest.fixture
async def elsewhere(panel_engine: AsyncEngine, bus: StreamBus) -> AsyncIterator[PanelRig]:
    """Proxies are trusted, but the peer (127.0.0.1) is not one of them."""
    async for running in _rig(panel_engine, bus, ["10.0.0.0/8"]):
        yield running


async def test_without_trusted_proxies_the_header_is_ignored(direct: PanelRig) -> None:
    assert await logins(direct, ALICE, LIMIT) == [303] * LIMIT
    # Another forwarded address, or none, is still the same peer: limited.
    assert await logins(direct, BOB) == [429]
    assert await logins(direct, None) == [429]


async def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(elsewhere: PanelRig) -> None:
    assert await logins(elsewhere, f"{ALICE}, 10.1.2.3", LIMIT) == [303] * LIMIT
    assert await logins(elsewhere, f"{BOB}, 10.1.2.3") == [429]


async def test_behind_a_trusted_proxy_each_client_has_its_own_limit(proxied: PanelRig) -> None:
    with structlog.testing.capture_logs() as logs:
        assert await logins(proxied, ALICE, LIMIT + 1) == [303] * LIMIT + [429]
    limited = [e for e in logs if e["event"] == "panel login rate limited"]
    assert [e["client"] for e in limited] == [ALICE]
    # Bob, behind the same proxy, is not locked out by alice; nor is the proxy itself.
    assert await logins(proxied, BOB) == [303]
    assert await logins(proxied, None) == [303]


async def test_a_chain_is_read_from_the_right_and_the_clients_own_part_ignored(
    proxied: PanelRig,
) -> None:
    # Alice, through an inner proxy (10.1.2.3), writes whatever she likes in front.
    assert await logins(proxied, f"198.51.100.1, {ALICE}, 10.1.2.3", LIMIT) == [303] * LIMIT
    assert await logins(proxied, f"198.51.100.2, {ALICE}, 10.1.2.3") == [429]
    assert await logins(proxied, f"{ALICE}, 10.9.9.9") == [429]
    # Two header lines count as one list, in order.
    async with proxied.client() as client:
        split = [("X-Forwarded-For", "198.51.100.3"), ("X-Forwarded-For", f"{ALICE}, 10.1.2.3")]
        assert (await client.get("/login", headers=split)).status_code == 429
    assert await logins(proxied, f"{ALICE}, {BOB}, 10.1.2.3") == [303]
