"""Typed queries become ``<provider>:<query>`` unless they are http(s) URLs; cache spelling."""

from __future__ import annotations

import pytest

from backbeat.domain.search_query import (
    DEFAULT_PROVIDER,
    SEARCH_PROVIDERS,
    UnknownProviderError,
    check_provider,
    is_http_url,
    looks_like_url,
    normalise_query,
    to_identifier,
)


@pytest.mark.parametrize(
    ("query", "source", "identifier"),
    [
        ("lofi hip hop", "ytsearch", "ytsearch:lofi hip hop"),
        ("  lofi  ", "scsearch", "scsearch:lofi"),
        ("/etc/passwd", "ytsearch", "ytsearch:/etc/passwd"),
        ("file:///etc/passwd", "ytsearch", "ytsearch:file:///etc/passwd"),
        ("local:/music/a.mp3", "ytmsearch", "ytmsearch:local:/music/a.mp3"),
        ("ytsearch:x", "spsearch", "spsearch:ytsearch:x"),
        ("dQw4w9WgXcQ", "ytsearch", "ytsearch:dQw4w9WgXcQ"),
        ("https://youtu.be/dQw4w9WgXcQ", "ytsearch", "https://youtu.be/dQw4w9WgXcQ"),
        ("HTTP://example.com/a.mp3", "ytsearch", "HTTP://example.com/a.mp3"),
    ],
)
def test_to_identifier_never_sends_a_bare_identifier(
    query: str, source: str, identifier: str
) -> None:
    assert to_identifier(query, source) == identifier


def test_providers_come_from_the_allowlist() -> None:
    assert {"ytsearch", "ytmsearch", "scsearch", "spsearch", "amsearch", "dzsearch"} <= (
        SEARCH_PROVIDERS
    )
    assert DEFAULT_PROVIDER in SEARCH_PROVIDERS
    assert check_provider("scsearch") == "scsearch"
    for bad in ("local", "http", "", "ytsearch:", "YTSEARCH"):
        with pytest.raises(UnknownProviderError, match="unknown search provider"):
            to_identifier("x", bad)


def test_an_empty_query_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        to_identifier("   ")


def test_url_shapes() -> None:
    assert looks_like_url("gopher://x/")
    assert looks_like_url(" file:///etc/passwd")
    assert not looks_like_url("lofi: the best")
    assert not looks_like_url("spotify:track:1")
    assert is_http_url("https://x")
    assert is_http_url("HTTP://x")
    assert not is_http_url("ftp://x")


def test_normalise_query_folds_case_width_and_whitespace() -> None:
    assert normalise_query("  Lofi \t HIP\u00a0hop\n") == "lofi hip hop"
    assert normalise_query("ＬＯＦＩ") == "lofi"
    assert normalise_query("Straße") == "strasse"
    assert normalise_query("ﬁre") == "fire"
    assert normalise_query(" https://youtu.be/AbC ") == "https://youtu.be/AbC"
