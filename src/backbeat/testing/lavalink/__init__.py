"""Lavalink v4 emulator: track codec, fictional catalog and (elsewhere in this package) the node.

``from backbeat.testing.lavalink import LavalinkEmulator, LavalinkControlClient`` (imported on
first use, so the codec and catalog stay light to import).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backbeat.testing.lavalink.control_client import LavalinkControlClient
    from backbeat.testing.lavalink.server import LavalinkEmulator

__all__ = ["LavalinkControlClient", "LavalinkEmulator"]


def __getattr__(name: str) -> Any:
    if name == "LavalinkEmulator":
        from backbeat.testing.lavalink.server import LavalinkEmulator

        return LavalinkEmulator
    if name == "LavalinkControlClient":
        from backbeat.testing.lavalink.control_client import LavalinkControlClient

        return LavalinkControlClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
