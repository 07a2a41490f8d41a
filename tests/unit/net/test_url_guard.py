"""The URL-safety guard: every refusal of issue 11, numeric host forms, IDNA, the allowlist,
and the injected resolver (no real DNS anywhere here)."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence

import pytest

from backbeat.errors import BackbeatError, UnsafeUrlError
from backbeat.net import Allowlist, UrlGuard, UrlPolicy, address_problem, parse_numeric_ipv4


class FakeResolver:
    """Answers from a table and records every name it was asked for."""

    def __init__(self, table: dict[str, Sequence[str]] | None = None) -> None:
        self.table = dict(table or {})
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append((host, port))
        if host not in self.table:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        return self.table[host]


PUBLIC = {"www.youtube.com": ["142.250.185.78"], "music.example": ["93.184.216.34"]}


def guard(table: dict[str, Sequence[str]] | None = None, **policy: object) -> UrlGuard:
    return UrlGuard(UrlPolicy(**policy), FakeResolver({**PUBLIC, **(table or {})}))  # type: ignore[arg-type]


ISSUE_CASES = [
    ("http://[::1]/", "blocked_address", "loopback"),
    ("http://169.254.169.254/latest/meta-data", "blocked_address", "cloud metadata"),
    ("http://0x7f000001/", "blocked_address", "127.0.0.1, a loopback"),
    ("http://2130706433/", "blocked_address", "127.0.0.1, a loopback"),
    ("http://017700000001/", "blocked_address", "127.0.0.1, a loopback"),
    ("http://[::ffff:127.0.0.1]/", "blocked_address", "loopback"),
    ("http://a@10.0.0.1/", "userinfo", "user name or password"),
    ("http://10.0.0.1.nip.io/", "blocked_address", "10.0.0.1.nip.io is 10.0.0.1, a private"),
    ("file:///etc/passwd", "scheme", "only http and https"),
    ("gopher://x/", "scheme", "only http and https"),
    ("https://www.youtube.com/results?q=" + "a" * 10_000, "too_long", "too long"),
]


@pytest.mark.parametrize(("url", "reason", "words"), ISSUE_CASES)
async def test_each_url_of_the_issue_is_refused_with_a_clear_typed_error(
    url: str, reason: str, words: str
) -> None:
    resolver = FakeResolver({**PUBLIC, "10.0.0.1.nip.io": ["10.0.0.1"]})
    with pytest.raises(UnsafeUrlError) as refused:
        await UrlGuard(UrlPolicy(), resolver).check(url)
    assert isinstance(refused.value, BackbeatError)
    assert refused.value.reason == reason
    assert words in refused.value.message
    assert str(refused.value) == refused.value.message


async def test_a_ten_kilobyte_plain_query_is_refused_too() -> None:
    with pytest.raises(UnsafeUrlError) as refused:
        await guard().identifier_for("a" * 10_000, "ytsearch")
    assert refused.value.reason == "too_long"
    assert "10000 characters, at most 512" in refused.value.message


async def test_public_urls_pass_and_come_back_canonical() -> None:
    safe = await guard().check("HTTPS://WWW.YouTube.com./watch?v=AbC_123")
    assert safe.url == "https://www.youtube.com/watch?v=AbC_123"
    assert safe.host == "www.youtube.com"
    assert safe.port == 443
    assert safe.addresses == (ipaddress.ip_address("142.250.185.78"),)
    kept_port = await guard().check("http://music.example:8080/a.mp3")
    assert kept_port.url == "http://music.example:8080/a.mp3"
    assert kept_port.port == 8080


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.1/",
        "http://0x7f.0.0.1/",
        "http://0177.0.0.1/",
        "http://127.0.0.1./",
        "http://0/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[fd00:ec2::254]/",
        "http://[ff02::1]/",
        "http://[::ffff:7f00:1]/",
        "http://[64:ff9b::a00:1]/",
        "http://[2002:7f00:1::]/",
        "http://100.100.100.200/",
        "http://240.0.0.1/",
        "http://localhost/",
        "http://LOCALHOST./",
        "http://api.localhost/",
        "http://１２７.０.０.１/",
    ],
)
async def test_non_public_hosts_are_refused_in_every_spelling(url: str) -> None:
    resolver = FakeResolver(PUBLIC)
    with pytest.raises(UnsafeUrlError) as refused:
        await UrlGuard(UrlPolicy(), resolver).check(url)
    assert refused.value.reason == "blocked_address"
    assert resolver.asked == []


async def test_a_public_address_in_an_odd_numeric_spelling_is_refused() -> None:
    with pytest.raises(UnsafeUrlError) as refused:
        await guard().check("http://0x08080808/")
    assert refused.value.reason == "numeric_host"
    assert "8.8.8.8" in refused.value.message
    assert (await guard().check("http://8.8.8.8/")).addresses == (ipaddress.ip_address("8.8.8.8"),)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://www.youtube.com@10.0.0.1/", "userinfo"),
        ("http://user:pw@www.youtube.com/", "userinfo"),
        ("http://www.youtube.com\\@10.0.0.1/", "malformed"),
        ("http://exa mple.com/", "malformed"),
        ("http://a\x00b.com/", "malformed"),
        ("http:///path", "malformed"),
        ("http://[::1/", "malformed"),
        ("http://[fe80::1%25eth0]/", "malformed"),
        ("http://x:99999/", "malformed"),
        ("http://1.2.3.999/", "malformed"),
        ("http://09.0.0.1/", "malformed"),
        ("http://foo.123/", "malformed"),
        ("http://" + "a" * 64 + ".com/", "malformed"),
        ("http://-bad-.com/", "malformed"),
        ("javascript:alert(1)", "scheme"),
        ("ftp://music.example/a.mp3", "scheme"),
        ("//music.example/a.mp3", "scheme"),
    ],
)
async def test_tricks_and_malformed_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafeUrlError) as refused:
        await guard().check(url)
    assert refused.value.reason == reason


async def test_idna_hosts_are_encoded_before_resolving() -> None:
    resolver = FakeResolver({"xn--mnchen-3ya.example": ["93.184.216.34"]})
    safe = await UrlGuard(UrlPolicy(), resolver).check("https://MÜNCHEN.example/x")
    assert safe.host == "xn--mnchen-3ya.example"
    assert safe.url == "https://xn--mnchen-3ya.example/x"
    assert resolver.asked == [("xn--mnchen-3ya.example", 443)]


async def test_every_resolved_address_must_be_public() -> None:
    resolver = FakeResolver({"mixed.example": ["93.184.216.34", "::1"]})
    with pytest.raises(UnsafeUrlError) as refused:
        await UrlGuard(UrlPolicy(), resolver).check("http://mixed.example/")
    assert "mixed.example is ::1, a loopback address" in refused.value.message


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(UnsafeUrlError) as refused:
        await guard().check("http://nowhere.example/")
    assert refused.value.reason == "unresolvable"
    assert "nowhere.example does not resolve" in refused.value.message


async def test_a_slow_resolver_is_cut_off_at_the_timeout() -> None:
    started = asyncio.Event()

    async def hanging(host: str, port: int) -> Sequence[str]:
        started.set()
        await asyncio.sleep(3600)
        return []

    policy = UrlPolicy(resolve_timeout_s=0.05)
    with pytest.raises(UnsafeUrlError) as refused:
        await UrlGuard(policy, hanging).check("http://slow.example/")
    assert started.is_set()
    assert refused.value.reason == "resolve_timeout"
    assert "did not resolve in 0.05 s" in refused.value.message


def test_the_default_timeout_is_one_second() -> None:
    assert UrlPolicy().resolve_timeout_s == 1.0


async def test_the_allowlist_admits_hosts_suffixes_and_networks() -> None:
    allow = Allowlist.parse(["media.lan", "*.home.arpa", "10.1.0.0/16", " ", "[fd12::]/16"])
    resolver = FakeResolver({"nas.home.arpa": ["192.168.1.5"], "box.lan": ["10.1.2.3"]})
    admitted = UrlGuard(UrlPolicy(allowlist=allow), resolver)
    assert (await admitted.check("http://media.lan:8096/a.flac")).addresses == ()
    assert (await admitted.check("http://nas.home.arpa/a.mp3")).host == "nas.home.arpa"
    assert (await admitted.check("http://box.lan/a.mp3")).addresses == (
        ipaddress.ip_address("10.1.2.3"),
    )
    assert (await admitted.check("http://[fd12::5]/")).host == "fd12::5"
    assert resolver.asked == [("box.lan", 80)]
    with pytest.raises(UnsafeUrlError):
        await admitted.check("http://10.2.0.1/")
    with pytest.raises(UnsafeUrlError):
        await admitted.check("http://home.arpa.evil/")


async def test_identifier_for_sends_plain_queries_with_the_provider_prefix() -> None:
    resolver = FakeResolver(PUBLIC)
    checked = UrlGuard(UrlPolicy(), resolver)
    assert await checked.identifier_for("  lofi hip hop ", "scsearch") == "scsearch:lofi hip hop"
    assert await checked.identifier_for("/etc/passwd", "ytsearch") == "ytsearch:/etc/passwd"
    assert await checked.identifier_for("local:x", "ytsearch") == "ytsearch:local:x"
    assert resolver.asked == []
    assert (
        await checked.identifier_for("https://www.youtube.com/watch?v=x", "ytsearch")
        == "https://www.youtube.com/watch?v=x"
    )
    with pytest.raises(UnsafeUrlError):
        await checked.identifier_for("file:///etc/passwd", "ytsearch")


def test_numeric_ipv4_parsing_follows_inet_aton() -> None:
    assert parse_numeric_ipv4("2130706433") == ipaddress.IPv4Address("127.0.0.1")
    assert parse_numeric_ipv4("0x7f000001") == ipaddress.IPv4Address("127.0.0.1")
    assert parse_numeric_ipv4("017700000001") == ipaddress.IPv4Address("127.0.0.1")
    assert parse_numeric_ipv4("127.1") == ipaddress.IPv4Address("127.0.0.1")
    assert parse_numeric_ipv4("10.0.258") == ipaddress.IPv4Address("10.0.1.2")
    assert parse_numeric_ipv4("0x7f.1") == ipaddress.IPv4Address("127.0.0.1")
    assert parse_numeric_ipv4("example.com") is None
    assert parse_numeric_ipv4("1.2.3.4.5") is None
    with pytest.raises(UnsafeUrlError):
        parse_numeric_ipv4("4294967296")


def test_address_problem_names_the_kind() -> None:
    def problem(text: str) -> str | None:
        return address_problem(ipaddress.ip_address(text))

    assert problem("93.184.216.34") is None
    assert problem("2606:4700::1111") is None
    assert problem("169.254.169.254") == "cloud metadata"
    assert problem("169.254.1.1") == "link-local"
    assert problem("fc00::1") == "unique-local"
    assert problem("255.255.255.255") == "broadcast"
    assert problem("::ffff:10.0.0.1") == "private (IPv4 10.0.0.1 inside IPv6)"
