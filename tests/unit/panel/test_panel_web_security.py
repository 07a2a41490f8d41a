"""No open redirects, same-origin checks, tokens and CSRF, the login rate limiter."""

from __future__ import annotations

import base64
import hashlib

import pytest

from backbeat.cache import MemoryCacheStore
from backbeat.panel.ratelimit import LoginLimiter
from backbeat.panel.security import safe_next, same_origin
from backbeat.panel.tokens import Signer, pkce_pair, random_token


@pytest.mark.parametrize(
    "target",
    ["/guilds", "/guilds/1/settings?saved=1", "/a/b#c"],
)
def test_site_paths_are_kept(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "guilds",
        "/ok\r\nLocation: https://evil.example",
        "/" + "a" * 600,
        "http:/evil.example",
    ],
)
def test_anything_else_goes_to_the_guild_list(target: str | None) -> None:
    assert safe_next(target) == "/guilds"


def test_same_origin() -> None:
    assert same_origin(None, "https://panel.example")
    assert same_origin("https://panel.example", "https://panel.example")
    assert not same_origin("https://evil.example", "https://panel.example")
    assert not same_origin("null", "https://panel.example")
    assert not same_origin("http://panel.example", "https://panel.example")


def test_pkce_pair_is_s256_of_a_valid_verifier() -> None:
    pair = pkce_pair()
    assert 43 <= len(pair.verifier) <= 128
    digest = hashlib.sha256(pair.verifier.encode()).digest()
    assert pair.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert pkce_pair().verifier != pair.verifier


def test_signer_digests_and_csrf() -> None:
    signer = Signer("k" * 32)
    token = random_token()
    assert signer.digest("session", token) != signer.digest("state", token)
    assert signer.digest("session", token) != Signer("j" * 32).digest("session", token)
    csrf = signer.csrf_token(token)
    assert signer.csrf_valid(token, csrf)
    assert not signer.csrf_valid(token, None)
    assert not signer.csrf_valid(token, "")
    assert not signer.csrf_valid(random_token(), csrf)
    with pytest.raises(ValueError, match="at least 32"):
        Signer("short")


async def test_login_limiter_counts_per_address_and_resets() -> None:
    now = [0.0]
    limiter = LoginLimiter(MemoryCacheStore(lambda: now[0]), limit=2, window_s=60)
    assert await limiter.hit("a") is None
    assert await limiter.hit("a") is None
    assert await limiter.hit("a") == 60
    assert await limiter.hit("b") is None
    now[0] = 30
    assert await limiter.hit("a") == 30
    now[0] = 61
    assert await limiter.hit("a") is None
