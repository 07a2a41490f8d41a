"""The address a panel request comes from, directly or through trusted reverse proxies.

Without trusted proxies (the default) it is the socket peer and ``X-Forwarded-For`` is
ignored: anyone can write that header. When the peer is a trusted proxy, the header is read
from the right (each proxy appends the address it was connected from) and the first address
that is not a trusted proxy is the client: what lies left of it was written by the client and
is never believed. A chain of only trusted proxies ends at its left-most one; an entry that is
no address ends the walk at the last proxy that vouched for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from starlette.requests import Request

IPNetwork = IPv4Network | IPv6Network
IPAddress = IPv4Address | IPv6Address
UNKNOWN = "unknown"
FORWARDED_FOR = "x-forwarded-for"


def request_client(request: Request, trusted: Sequence[IPNetwork]) -> str:
    """The client of ``request`` (see the module), as a normalised address."""
    peer = request.client.host if request.client is not None else None
    return client_address(peer, request.headers.getlist(FORWARDED_FOR), trusted)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[IPNetwork]
) -> str:
    """The client behind ``peer``, given the ``X-Forwarded-For`` header lines in order."""
    client = _parse(peer) if peer else None
    if client is None:
        return peer or UNKNOWN
    if not _is_trusted(client, trusted):
        return str(client)
    hops = [hop for line in forwarded_for for hop in line.split(",")]
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            break
        client = address
        if not _is_trusted(address, trusted):
            break
    return str(client)


def _is_trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in trusted)


def _parse(text: str) -> IPAddress | None:
    """An address from a peer or header entry (``[v6]:port`` and ``v4:port`` allowed);
    an IPv4-mapped IPv6 address as its IPv4 address."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
