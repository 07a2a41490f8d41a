"""``GET /_control/events``: a Server-Sent Events stream of the world's changes.

Every change of the :class:`~backbeat.testing.discord.world.World` (a message posted, edited
or deleted, an interaction answered, a voice state, a role, a synced command…) bumps
``World.version``; the stream sends one ``world`` event per change, or one per burst of changes
within :data:`COALESCE_S`, carrying the new version::

    event: world
    id: 42
    data: {"version": 42}

A watcher (the sandbox page, a test) then reads what it shows through the other control
routes. The first event is sent at once, so a watcher that (re)connects refreshes. A comment
line every :data:`KEEPALIVE_S` keeps idle connections open through proxies. Streams end when
the emulator stops.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Final

from aiohttp import web

from backbeat.testing.discord.world import World

COALESCE_S: Final = 0.05
KEEPALIVE_S: Final = 15.0
RETRY_MS: Final = 1000


class EventStream:
    """Serves the ``world`` event stream and ends every open stream on :meth:`close`."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._closed = False
        self.open_streams = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        self.open_streams += 1
        try:
            await response.write(f"retry: {RETRY_MS}\n\n".encode())
            seen = -1
            while not self._closed:
                version = self.world.version
                if version != seen:
                    seen = version
                    await response.write(_event(version))
                    await asyncio.sleep(COALESCE_S)
                    continue
                changed = await self.world.wait_for(self._moved_from(seen), within=KEEPALIVE_S)
                if not changed:
                    await response.write(b": keep-alive\n\n")
        except ConnectionResetError:
            pass  # the watcher went away
        finally:
            self.open_streams -= 1
        return response

    def _moved_from(self, seen: int) -> Callable[[], bool]:
        return lambda: self._closed or self.world.version != seen

    def close(self) -> None:
        """End every open stream (their handlers return)."""
        self._closed = True
        self.world.touch()


def _event(version: int) -> bytes:
    payload = json.dumps({"version": version})
    return f"event: world\nid: {version}\ndata: {payload}\n\n".encode()
