"""Unmodified lavalink.py 5.x pointed at emulated nodes: a client, voice joins, event capture."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import lavalink

from backbeat.testing.lavalink.catalog import Catalog
from backbeat.testing.lavalink.server import LavalinkEmulator
from backbeat.testing.voice import VoiceCredentialRegistry, VoiceCredentials

BOT_USER_ID = 424242
CHANNEL_ID = 5555


class EventLog:
    """Every lavalink.py event, in the order lavalink.py dispatched them."""

    def __init__(self, client: lavalink.Client) -> None:
        self.events: list[lavalink.Event] = []
        self._changed = asyncio.Event()
        client.add_event_hook(self._record)

    async def _record(self, event: lavalink.Event) -> None:
        self.events.append(event)
        self._changed.set()

    def names(self, kinds: tuple[type, ...] = ()) -> list[str]:
        """``TrackEndEvent(replaced)``-style names of the recorded track events."""
        kinds = kinds or (
            lavalink.TrackStartEvent,
            lavalink.TrackEndEvent,
            lavalink.TrackExceptionEvent,
            lavalink.TrackStuckEvent,
        )
        found = []
        for event in self.events:
            if isinstance(event, kinds):
                reason = getattr(event, "reason", None)
                suffix = f"({reason.value})" if reason is not None else ""
                found.append(type(event).__name__ + suffix)
        return found

    def clear(self) -> None:
        self.events.clear()

    async def wait_for(
        self, kind: type, match: Callable[[Any], bool] = lambda _: True, wait: float = 5.0
    ) -> Any:
        """The first recorded event of ``kind`` matching, waiting for it if needed."""

        async def find() -> Any:
            while True:
                for event in self.events:
                    if isinstance(event, kind) and match(event):
                        return event
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(find(), wait)


async def add_ready_node(
    client: lavalink.Client, log: EventLog, emulator: LavalinkEmulator, name: str
) -> lavalink.Node:
    """Add an emulated node exactly as a bot would, and wait for its ready op."""
    node = client.add_node(emulator.host, emulator.port, emulator.password, "eu", name=name)
    await log.wait_for(lavalink.NodeReadyEvent, lambda e: e.node is node)
    return node


async def join_voice(
    client: lavalink.Client,
    guild_id: int,
    registry: VoiceCredentialRegistry | None = None,
    *,
    node: lavalink.Node | None = None,
) -> lavalink.DefaultPlayer:
    """Create the player then feed the two raw voice events Discord would send."""
    player: lavalink.DefaultPlayer = client.player_manager.create(guild_id, node=node)
    session_id, token, endpoint = f"voice-{guild_id}", f"token-{guild_id}", "c-ams.discord.media"
    if registry is not None:
        registry.issue(
            VoiceCredentials(
                guild_id=guild_id,
                user_id=BOT_USER_ID,
                channel_id=CHANNEL_ID,
                session_id=session_id,
                token=token,
                endpoint=endpoint,
            )
        )
    await client.voice_update_handler(
        {
            "t": "VOICE_STATE_UPDATE",
            "d": {
                "guild_id": str(guild_id),
                "user_id": str(BOT_USER_ID),
                "session_id": session_id,
                "channel_id": str(CHANNEL_ID),
            },
        }
    )
    await client.voice_update_handler(
        {
            "t": "VOICE_SERVER_UPDATE",
            "d": {"guild_id": str(guild_id), "token": token, "endpoint": endpoint},
        }
    )
    return player


def catalog_identifiers() -> dict[str, str]:
    """Identifiers of the shipped catalog giving each load type."""
    catalog = Catalog.default()
    playable = [t for t in catalog.tracks if t.youtube_id and not t.failure and not t.is_stream]
    first, second = playable[0], playable[1]
    return {
        "track": f"https://www.youtube.com/watch?v={first.youtube_id}",
        "other": f"https://www.youtube.com/watch?v={second.youtube_id}",
        "playlist": f"https://www.youtube.com/watch?v={first.youtube_id}&list=RD{first.youtube_id}",
        "search": f"ytsearch:{first.title}",
        "empty": "ytsearch:qqzzxv nothing could ever match this 0xdeadbeef",
    }


async def eventually(check: Callable[[], Any], wait: float = 3.0) -> None:
    """Wait until ``await check()`` is truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
