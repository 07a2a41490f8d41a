"""What a typed query becomes before it reaches a Lavalink node: pure rules, no I/O.

A query that is an ``http``/``https`` URL is loaded as that URL (after the URL-safety guard
in :mod:`backbeat.net.url_guard` admitted it). Anything else is always sent as
``<provider>:<query>`` with a provider from :data:`SEARCH_PROVIDERS`, never as a bare
identifier: a node's ``local`` or ``http`` source can never be reached by typing a path
(``/etc/passwd``) or a URI of another scheme (``file:///etc/passwd`` becomes a search for
that text, and the guard refuses it with a message when it is given as a URL).

:func:`normalise_query` is the one spelling of a query used for cache keys, so ``Lofi  HIP
hop`` and ``lofi hip hop`` share one cache entry.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

#: Search providers a query may be sent to (Lavalink's search prefixes without the colon):
#: YouTube, YouTube Music, SoundCloud, Spotify, Apple Music, Deezer, Yandex Music, VK Music.
SEARCH_PROVIDERS: Final = frozenset(
    {
        "ytsearch",
        "ytmsearch",
        "scsearch",
        "spsearch",
        "amsearch",
        "dzsearch",
        "ymsearch",
        "vksearch",
    }
)
DEFAULT_PROVIDER: Final = "ytsearch"

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_HTTP = re.compile(r"^https?://", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


class UnknownProviderError(ValueError):
    """A search provider outside :data:`SEARCH_PROVIDERS` was asked for."""

    def __init__(self, provider: str) -> None:
        super().__init__(
            f"unknown search provider {provider!r}; known: {', '.join(sorted(SEARCH_PROVIDERS))}"
        )
        self.provider = provider


def looks_like_url(query: str) -> bool:
    """Whether ``query`` is written as a URL of any scheme (``scheme://…``).

    Such a query goes through the URL-safety guard, which admits only http and https, so
    ``file:///etc/passwd`` or ``gopher://x/`` are refused with a clear message instead of
    being searched for as text.
    """
    return _SCHEME.match(query.strip()) is not None


def is_http_url(query: str) -> bool:
    """Whether ``query`` is an ``http://`` or ``https://`` URL (by its scheme only)."""
    return _HTTP.match(query.strip()) is not None


def check_provider(provider: str) -> str:
    """``provider`` when it is allowed (``ytsearch``…), else :class:`UnknownProviderError`."""
    if provider not in SEARCH_PROVIDERS:
        raise UnknownProviderError(provider)
    return provider


def to_identifier(query: str, source: str = DEFAULT_PROVIDER) -> str:
    """The identifier to load for ``query``: an http(s) URL as is, anything else a search.

    The URL case assumes the caller has run the URL-safety guard (which also canonicalises
    the URL); this function only decides *which* form is sent. ``source`` must be in
    :data:`SEARCH_PROVIDERS`; an empty query is a :class:`ValueError`.
    """
    check_provider(source)
    text = query.strip()
    if not text:
        raise ValueError("the query is empty")
    if is_http_url(text):
        return text
    return f"{source}:{text}"


def normalise_query(query: str) -> str:
    """The cache-key spelling of a query: NFKC, case-folded, whitespace collapsed.

    NFKC first folds compatibility forms (full-width letters, ligatures) into their plain
    letters, ``casefold`` then removes case (``ß`` → ``ss``), and runs of whitespace of any
    kind become one space with none at the ends. An http(s) URL is only stripped: its path
    and query are case-sensitive (video ids).
    """
    if is_http_url(query):
        return query.strip()
    folded = unicodedata.normalize("NFKC", query).casefold()
    return _SPACE.sub(" ", folded).strip()
