"""One pending voice handshake: which events arrived, and whether Lavalink is connected."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from backbeat.audio.lavalink.player import BackbeatPlayer


@dataclass(slots=True)
class Handshake:
    """A join of (or move to) ``channel_id`` in progress.

    Done once the bot's VOICE_STATE_UPDATE for the channel arrived, a VOICE_SERVER_UPDATE
    arrived (a first join only: a move may keep the voice server), and Lavalink reports
    ``connected`` for that ``channelId``. Events may come in either order and repeat.
    """

    channel_id: int
    need_server: bool
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    state_seen: bool = False
    server_seen: bool = False

    def check(self, player: BackbeatPlayer) -> None:
        """Complete the handshake if everything it waits for is there."""
        if self.done.done():
            return
        if (
            self.state_seen
            and (self.server_seen or not self.need_server)
            and player.connected
            and player.channel_id == self.channel_id
            and player.lavalink_channel == self.channel_id
        ):
            self.done.set_result(None)

    def fail(self, error: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(error)
