"""A name resolver for tests: fixed answers, no real DNS.

The URL-safety guard (:mod:`backbeat.net.url_guard`) resolves a link's host before anything
loads it. Tests hand it a :class:`FakeResolver` instead of the system's: the hosts of the
Lavalink emulator's catalog (YouTube, SoundCloud, Spotify) resolve to public addresses, any
other name does not resolve unless the test adds it (``10.0.0.1.nip.io`` → ``10.0.0.1``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

#: Public addresses for the hosts the emulator's catalog links use.
CATALOG_HOSTS: Final[Mapping[str, tuple[str, ...]]] = dict.fromkeys(
    (
        "youtube.com",
        "www.youtube.com",
        "m.youtube.com",
        "music.youtube.com",
        "youtu.be",
        "soundcloud.com",
        "www.soundcloud.com",
        "m.soundcloud.com",
        "open.spotify.com",
        "play.spotify.com",
    ),
    ("142.250.74.46", "2a00:1450:4001:82a::200e"),
)


class FakeResolver:
    """``await resolver(host, port)``: the addresses given for ``host``, else ``OSError``.

    ``asked`` records every host looked up, in order.
    """

    def __init__(self, answers: Mapping[str, Sequence[str]] | None = None) -> None:
        self.answers: dict[str, tuple[str, ...]] = dict(CATALOG_HOSTS)
        for host, addresses in (answers or {}).items():
            self.answers[host] = tuple(addresses)
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        found = self.answers.get(host)
        if found is None:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        return list(found)
