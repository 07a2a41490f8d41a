"""The client address behind trusted reverse proxies: the socket peer unless it is trusted,
then the right-most X-Forwarded-For entry that is not a trusted proxy."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from backbeat.config import PanelSettings
from backbeat.panel.client_address import UNKNOWN, IPNetwork, client_address

PROXIES = [ip_network("127.0.0.1"), ip_network("10.0.0.0/8"), ip_network("fd00::/8")]


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "client"),
    [
        # No trusted proxy: the peer, whatever the header says.
        ("127.0.0.1", ["203.0.113.9"], [], "127.0.0.1"),
        # An untrusted peer's header is a spoof: ignored.
        ("198.51.100.4", ["203.0.113.9"], PROXIES, "198.51.100.4"),
        # A trusted peer: the address it was connected from.
        ("127.0.0.1", ["203.0.113.9"], PROXIES, "203.0.113.9"),
        # A chain: the right-most untrusted hop; what the client wrote left of it is ignored.
        ("127.0.0.1", ["198.51.100.1, 203.0.113.9, 10.1.2.3"], PROXIES, "203.0.113.9"),
        # Header lines count in order, as one list.
        ("127.0.0.1", ["198.51.100.1", "203.0.113.9, 10.1.2.3"], PROXIES, "203.0.113.9"),
        # Only proxies: the left-most of them.
        ("127.0.0.1", ["10.9.9.9, 10.1.2.3"], PROXIES, "10.9.9.9"),
        # A trusted peer without the header: the peer.
        ("127.0.0.1", [], PROXIES, "127.0.0.1"),
        # An entry that is no address ends the walk at the last proxy that vouched for it.
        ("127.0.0.1", ["203.0.113.9, garbage, 10.1.2.3"], PROXIES, "10.1.2.3"),
        ("127.0.0.1", ["203.0.113.9,"], PROXIES, "127.0.0.1"),
        # Ports, brackets, IPv6 and IPv4-mapped addresses.
        ("127.0.0.1", ["203.0.113.9:5123"], PROXIES, "203.0.113.9"),
        ("fd00::1", ["[2001:db8::7]:443"], PROXIES, "2001:db8::7"),
        ("::ffff:127.0.0.1", ["2001:DB8::7"], PROXIES, "2001:db8::7"),
        ("::ffff:198.51.100.4", ["203.0.113.9"], PROXIES, "198.51.100.4"),
        # No peer, or one that is no address (a Unix socket): as it is.
        (None, ["203.0.113.9"], PROXIES, UNKNOWN),
        ("panel.sock", ["203.0.113.9"], PROXIES, "panel.sock"),
    ],
)
def test_client_address(
    peer: str | None, forwarded_for: list[str], trusted: list[IPNetwork], client: str
) -> None:
    assert client_address(peer, forwarded_for, trusted) == client


def test_trusted_proxies_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert PanelSettings(_env_file=None).panel_trusted_proxies == []  # type: ignore[call-arg]
    monkeypatch.setenv("BACKBEAT_PANEL_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    settings = PanelSettings(_env_file=None)  # type: ignore[call-arg]
    assert settings.panel_trusted_proxies == PROXIES[:2]
    monkeypatch.setenv("BACKBEAT_PANEL_TRUSTED_PROXIES", '["fd00::/8"]')
    assert PanelSettings(_env_file=None).panel_trusted_proxies == PROXIES[2:]  # type: ignore[call-arg]


@pytest.mark.parametrize("value", ["10.0.0.1/8", "proxy.lan", "[1, 2]"])
def test_a_trusted_proxy_that_is_no_address_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("BACKBEAT_PANEL_TRUSTED_PROXIES", value)
    with pytest.raises(ValueError, match="neither an address"):
        PanelSettings(_env_file=None)  # type: ignore[call-arg]
