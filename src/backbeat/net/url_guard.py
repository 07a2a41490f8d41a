"""The URL-safety guard: which URLs a user may make Backbeat (or its Lavalink node) fetch.

Shared core, so search URLs today and webhook targets later follow one set of rules:

* only ``http`` and ``https``; at most ``max_length`` characters; no user name or password
  (``http://youtube.com@10.0.0.1/`` tricks); no backslash, whitespace or control character;
* the host is IDNA-encoded and lower-cased, one trailing dot dropped; a host whose last label
  is a number must be an IPv4 address, and every numeric spelling a resolver accepts
  (``2130706433``, ``0x7f000001``, ``017700000001``, ``127.1``, ``0x7f.0.0.1``) is read as
  the address it names;
* an address, given literally or resolved from the name, is refused when it is loopback,
  private, link-local, unique-local, multicast, broadcast, unspecified, shared (CGNAT),
  reserved or a cloud metadata endpoint, IPv4 embedded in IPv6 (``::ffff:127.0.0.1``,
  NAT64, 6to4) included; a public address in a non-canonical numeric spelling is refused too
  (parsers disagree about those);
* ``allowlist`` admits host names (``media.lan``, ``*.lan``) or networks
  (``10.1.0.0/16``) that would otherwise be refused.

Names are resolved with an injectable async resolver within ``resolve_timeout_s``; every
address a name resolves to must pass. The node resolves the name again when it loads the
URL, so an operator should also restrict the node's egress (``docs/security.md``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import SplitResult, urlsplit, urlunsplit

from backbeat.config import AudioSettings
from backbeat.domain.search_query import looks_like_url, to_identifier
from backbeat.errors import UnsafeUrlError
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import url_guard_refusals_total

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""``(host, port) -> addresses`` (textual IPv4 or IPv6); raises ``OSError`` when the name
does not resolve."""

DEFAULT_MAX_LENGTH: Final = 512
DEFAULT_RESOLVE_TIMEOUT_S: Final = 1.0
_MAX_HOST: Final = 253
_MAX_LABEL: Final = 63

#: Cloud metadata endpoints (AWS/GCP/Azure/OpenStack, AWS IPv6, Alibaba, Oracle).
METADATA_ADDRESSES: Final = frozenset(
    ipaddress.ip_address(text)
    for text in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_BAD_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_NUMERIC_PART = re.compile(r"^(0[xX][0-9A-Fa-f]*|[0-9]+)$")
_HOST_NAME = re.compile(r"^[a-z0-9_](?:[a-z0-9_\-]*[a-z0-9_])?$")

_log = get_logger(__name__)


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver (``getaddrinfo``), without blocking the loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class Allowlist:
    """Host names and networks an operator admits although they would be refused."""

    hosts: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowlist:
        """From setting entries: ``host``, ``*.domain`` (any name below it), ``addr[/bits]``."""
        hosts: set[str] = set()
        suffixes: list[str] = []
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                networks.append(
                    ipaddress.ip_network(entry.replace("[", "").replace("]", ""), strict=False)
                )
                continue
            except ValueError:
                pass
            if entry.startswith("*."):
                suffixes.append("." + _idna(entry[2:]))
            else:
                hosts.add(_idna(entry))
        return cls(frozenset(hosts), tuple(suffixes), tuple(networks))

    def admits_host(self, host: str) -> bool:
        return host in self.hosts or any(host.endswith(suffix) for suffix in self.suffixes)

    def admits_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """The guard's limits (from ``AudioSettings`` via :func:`policy_from_settings`)."""

    max_length: int = DEFAULT_MAX_LENGTH
    resolve_timeout_s: float = DEFAULT_RESOLVE_TIMEOUT_S
    allowlist: Allowlist = field(default_factory=Allowlist)


def policy_from_settings(settings: AudioSettings) -> UrlPolicy:
    """The policy ``BACKBEAT_URL_*`` settings describe."""
    return UrlPolicy(
        max_length=settings.url_max_length,
        resolve_timeout_s=settings.url_resolve_timeout_s,
        allowlist=Allowlist.parse(settings.url_allowlist),
    )


@dataclass(frozen=True, slots=True)
class SafeUrl:
    """An admitted URL, re-written canonically (lower-case IDNA host, no trailing dot), and
    the addresses its host was checked as."""

    url: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


@dataclass(frozen=True, slots=True)
class ParsedUrl:
    """A URL after the checks that need no resolver."""

    parts: SplitResult
    host: str
    port: int
    literal: IPAddress | None
    canonical_literal: bool


def address_problem(address: IPAddress) -> str | None:
    """What kind of non-public address ``address`` is (``loopback``…), or None if public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            problem = address_problem(embedded)
            return None if problem is None else f"{problem} (IPv4 {embedded} inside IPv6)"
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if address.is_loopback:
        return "loopback"
    if address.is_unspecified:
        return "unspecified"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address == ipaddress.IPv4Address("255.255.255.255"):
        return "broadcast"
    if isinstance(address, ipaddress.IPv6Address) and address in ipaddress.ip_network("fc00::/7"):
        return "unique-local"
    if address in _SHARED:
        return "shared (carrier-grade NAT)"
    if address.is_private:
        return "private"
    if address.is_reserved or not address.is_global:
        return "reserved"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def parse_numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """``host`` read as resolvers read numeric IPv4 (``inet_aton``), or None if it is not one.

    One to four parts, each decimal, ``0x`` hexadecimal or ``0``-prefixed octal; the last
    part fills the remaining bytes (``127.1`` is 127.0.0.1, ``2130706433`` too). Raises
    :class:`UnsafeUrlError` for a numeric spelling out of range.
    """
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_PART.match(part) for part in parts):
        return None
    values: list[int] = []
    for part in parts:
        if part[:2] in ("0x", "0X"):
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if not set(part) <= set("01234567"):
                raise UnsafeUrlError("malformed", f"{host!r} is not a valid address")
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *head, last = values
    if any(value > 255 for value in head) or last >= 256 ** (4 - len(head)):
        raise UnsafeUrlError("malformed", f"{host!r} is not a valid address")
    number = 0
    for value in head:
        number = number << 8 | value
    number = number << 8 * (4 - len(head)) | last
    return ipaddress.IPv4Address(number)


def _idna(host: str) -> str:
    try:
        encoded = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as error:
        raise UnsafeUrlError("malformed", f"the host {host!r} is not a valid name") from error
    return encoded.lower()


def parse_url(url: str, policy: UrlPolicy) -> ParsedUrl:
    """The checks that need no resolver (scheme, length, userinfo, host form, literals)."""
    if len(url) > policy.max_length:
        raise UnsafeUrlError(
            "too_long", f"that URL is too long ({len(url)} characters, at most {policy.max_length})"
        )
    if _BAD_CHARS.search(url):
        raise UnsafeUrlError("malformed", "that URL holds spaces, control characters or '\\'")
    try:
        parts = urlsplit(url)
        port_given = parts.port
    except ValueError as error:
        raise UnsafeUrlError("malformed", f"that URL cannot be read ({error})") from error
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = scheme or "no scheme"
        raise UnsafeUrlError("scheme", f"only http and https links can be played (not {shown})")
    if "@" in parts.netloc:
        raise UnsafeUrlError("userinfo", "links with a user name or password are not accepted")
    raw_host = parts.hostname or ""
    if "%" in raw_host:
        raise UnsafeUrlError("malformed", "that URL's host holds '%' (encoding or zone id)")
    port = port_given if port_given is not None else (443 if scheme == "https" else 80)
    if parts.netloc.endswith("]") or "[" in parts.netloc:
        try:
            literal6 = ipaddress.IPv6Address(raw_host)
        except ValueError as error:
            raise UnsafeUrlError("malformed", f"{raw_host!r} is not an IPv6 address") from error
        return ParsedUrl(parts._replace(scheme=scheme), raw_host, port, literal6, True)
    host = _idna(raw_host)
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise UnsafeUrlError("malformed", "that URL has no host")
    labels = host.split(".")
    if len(host) > _MAX_HOST or any(not 0 < len(label) <= _MAX_LABEL for label in labels):
        raise UnsafeUrlError("malformed", f"the host {host!r} is not a valid name")
    literal = parse_numeric_ipv4(host)
    if literal is None and _NUMERIC_PART.match(labels[-1]):
        raise UnsafeUrlError("malformed", f"the host {host!r} ends in a number but is no address")
    if literal is None and not all(_HOST_NAME.match(label) for label in labels):
        raise UnsafeUrlError("malformed", f"the host {host!r} is not a valid name")
    canonical = literal is None or str(literal) == host
    return ParsedUrl(parts._replace(scheme=scheme), host, port, literal, canonical)


class UrlGuard:
    """Checks URLs against a :class:`UrlPolicy`, resolving names with ``resolver``."""

    def __init__(self, policy: UrlPolicy | None = None, resolver: Resolver = system_resolver):
        self._policy = policy or UrlPolicy()
        self._resolver = resolver

    @property
    def policy(self) -> UrlPolicy:
        return self._policy

    async def check(self, url: str) -> SafeUrl:
        """The admitted, canonical URL; :class:`UnsafeUrlError` when it is refused."""
        try:
            return await self._check(url)
        except UnsafeUrlError as error:
            url_guard_refusals_total.labels(reason=error.reason).inc()
            _log.info("url_refused", reason=error.reason, url=url[:200])
            raise

    async def identifier_for(self, query: str, source: str) -> str:
        """What to load for a typed query: a URL (any scheme) must pass :meth:`check` and
        is sent canonically; anything else becomes ``<source>:<query>``."""
        text = query.strip()
        if looks_like_url(text):
            safe = await self.check(text)
            return safe.url
        if len(text) > self._policy.max_length:
            url_guard_refusals_total.labels(reason="too_long").inc()
            raise UnsafeUrlError(
                "too_long",
                f"that search is too long ({len(text)} characters, at most "
                f"{self._policy.max_length})",
            )
        return to_identifier(text, source)

    async def _check(self, url: str) -> SafeUrl:
        policy = self._policy
        parsed = parse_url(url, policy)
        host = parsed.host
        if parsed.literal is not None:
            addresses: tuple[IPAddress, ...] = (parsed.literal,)
            self._check_addresses(host, addresses, shown=host)
            if not parsed.canonical_literal:
                raise UnsafeUrlError(
                    "numeric_host", f"write the address as {parsed.literal}, not {host!r}"
                )
        elif policy.allowlist.admits_host(host):
            addresses = ()
        elif host == "localhost" or host.endswith(".localhost"):
            raise UnsafeUrlError("blocked_address", f"{host} is this machine (loopback)")
        else:
            addresses = await self._resolve(host, parsed.port)
            self._check_addresses(host, addresses, shown=host)
        netloc = f"[{host}]" if ":" in host else host
        if parsed.parts.port is not None:
            netloc = f"{netloc}:{parsed.parts.port}"
        canonical = urlunsplit(parsed.parts._replace(netloc=netloc))
        return SafeUrl(canonical, host, parsed.port, addresses)

    def _check_addresses(self, host: str, addresses: Sequence[IPAddress], *, shown: str) -> None:
        allowlist = self._policy.allowlist
        for address in addresses:
            problem = address_problem(address)
            if problem is None or allowlist.admits_address(address):
                continue
            if str(address) in (host, host.strip("[]")):
                detail = f"{address} is a {problem} address"
            else:
                detail = f"{shown} is {address}, a {problem} address"
            raise UnsafeUrlError("blocked_address", f"that link is not allowed: {detail}")

    async def _resolve(self, host: str, port: int) -> tuple[IPAddress, ...]:
        timeout = self._policy.resolve_timeout_s
        try:
            async with asyncio.timeout(timeout):
                found = await self._resolver(host, port)
        except TimeoutError:
            raise UnsafeUrlError(
                "resolve_timeout",
                f"could not check {host}: its name did not resolve in {timeout:g} s",
            ) from None
        except OSError as error:
            raise UnsafeUrlError("unresolvable", f"{host} does not resolve ({error})") from error
        addresses: list[IPAddress] = []
        for text in found:
            try:
                addresses.append(ipaddress.ip_address(text.split("%", 1)[0]))
            except ValueError as error:
                raise UnsafeUrlError("unresolvable", f"{host} resolved to {text!r}") from error
        if not addresses:
            raise UnsafeUrlError("unresolvable", f"{host} does not resolve to any address")
        return tuple(addresses)
