"""A bare Lavalink v4 client (aiohttp only) for protocol-level tests of the emulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp

from backbeat.testing.lavalink.catalog import Catalog
from backbeat.testing.lavalink.server import LavalinkEmulator

Message = dict[str, Any]

VOICE = {"token": "tok", "endpoint": "voice.example:443", "sessionId": "vsess", "channelId": "77"}


class RawClient:
    """One WebSocket session plus REST calls with the node's password."""

    def __init__(
        self,
        node: LavalinkEmulator,
        http: aiohttp.ClientSession,
        ws: aiohttp.ClientWebSocketResponse,
        ready: Message,
    ) -> None:
        self.node = node
        self.http = http
        self.ws = ws
        self.ready = ready
        self.session_id: str = ready["sessionId"]
        self.pending: list[Message] = []

    @classmethod
    async def connect(
        cls,
        node: LavalinkEmulator,
        http: aiohttp.ClientSession,
        *,
        user_id: int = 1001,
        session_id: str | None = None,
    ) -> RawClient:
        headers = {"Authorization": node.password, "User-Id": str(user_id)}
        if session_id is not None:
            headers["Session-Id"] = session_id
        ws = await http.ws_connect(node.ws_url, headers=headers)
        ready = await asyncio.wait_for(ws.receive_json(), 5)
        assert ready["op"] == "ready"
        return cls(node, http, ws, ready)

    async def recv(self, wait: float = 3.0) -> Message:
        if self.pending:
            return self.pending.pop(0)
        message = await asyncio.wait_for(self.ws.receive(), wait)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"socket closed: {message.type}")
        data: Message = json.loads(message.data)
        return data

    async def until(self, match: Callable[[Message], bool], wait: float = 3.0) -> Message:
        """The first message matching, skipping (and dropping) the others."""
        while True:
            message = await self.recv(wait)
            if match(message):
                return message

    async def event(self, event_type: str, wait: float = 3.0) -> Message:
        return await self.until(lambda m: m.get("type") == event_type, wait)

    async def collect(self, quiet: float = 0.15) -> list[Message]:
        """Every message arriving until the socket is quiet for ``quiet`` seconds."""
        found: list[Message] = []
        while True:
            try:
                found.append(await self.recv(quiet))
            except TimeoutError:
                return found

    async def events(self, quiet: float = 0.15) -> list[str]:
        """Types of the events (and ops other than stats) arriving until quiet."""
        return [
            m.get("type", m["op"]) + (f"({m['reason']})" if "reason" in m else "")
            for m in await self.collect(quiet)
            if m["op"] != "stats"
        ]

    async def request(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        async with self.http.request(
            method,
            self.node.rest_url + path,
            headers={"Authorization": self.node.password},
            json=body,
            params=params,
        ) as response:
            raw = await response.read()
            return response.status, (json.loads(raw) if raw else None)

    def player_path(self, guild_id: int) -> str:
        return f"/v4/sessions/{self.session_id}/players/{guild_id}"

    async def patch(
        self, guild_id: int, body: Any, *, no_replace: bool | None = None
    ) -> tuple[int, Any]:
        params = None if no_replace is None else {"noReplace": str(no_replace).lower()}
        return await self.request("PATCH", self.player_path(guild_id), body, params)

    async def connect_voice(self, guild_id: int) -> None:
        status, body = await self.patch(guild_id, {"voice": VOICE})
        assert status == 200, body
        assert body["state"]["connected"] is True

    async def load(self, identifier: str) -> Any:
        status, body = await self.request(
            "GET", "/v4/loadtracks", params={"identifier": identifier}
        )
        assert status == 200
        return body

    async def load_track(self, identifier: str) -> Message:
        body = await self.load(identifier)
        assert body["loadType"] == "track", body
        result: Message = body["data"]
        return result

    async def close(self) -> None:
        await self.ws.close()


def sample_identifiers() -> dict[str, str]:
    """Identifiers of the shipped catalog giving each load type."""
    catalog = Catalog.default()
    track = next(t for t in catalog.tracks if t.youtube_id and not t.failure and not t.is_stream)
    stream = next(t for t in catalog.tracks if t.is_stream and t.stream_url)
    video = track.youtube_id
    return {
        "track": f"https://www.youtube.com/watch?v={video}",
        "track_id": str(video),
        "playlist": f"https://www.youtube.com/watch?v={video}&list=RD{video}",
        "search": f"ytsearch:{track.title}",
        "empty": "ytsearch:qqzzxv nothing could ever match this 0xdeadbeef",
        "stream": str(stream.stream_url),
    }


async def eventually(check: Callable[[], Any], wait: float = 3.0) -> None:
    """Wait until ``await check()`` is truthy (the server noticing a closed socket, say)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
