"""A minimal raw gateway client for protocol tests (zlib-stream aware)."""

from __future__ import annotations

import json
import zlib
from typing import Any

import aiohttp


class RawGateway:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._inflate = zlib.decompressobj()
        self.binary_frames = 0

    async def receive(self, within: float = 5.0) -> dict[str, Any]:
        message = await self.ws.receive(timeout=within)
        if message.type is aiohttp.WSMsgType.BINARY:
            self.binary_frames += 1
            assert message.data.endswith(b"\x00\x00\xff\xff")
            return json.loads(self._inflate.decompress(message.data))
        if message.type is aiohttp.WSMsgType.TEXT:
            return json.loads(message.data)
        raise ConnectionError(f"closed: {message.type} {self.ws.close_code}")

    async def dispatch(self, event: str, within: float = 5.0) -> dict[str, Any]:
        while True:
            payload = await self.receive(within)
            if payload.get("t") == event:
                return payload

    async def send(self, op: int, data: Any) -> None:
        await self.ws.send_str(json.dumps({"op": op, "d": data}))

    async def identify(
        self, token: str, shard: list[int] | None = None, intents: int = 513
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"token": token, "properties": {}, "intents": intents}
        if shard is not None:
            data["shard"] = shard
        await self.send(2, data)
        return await self.receive()

    async def closed_with(self) -> int | None:
        while True:
            message = await self.ws.receive(timeout=5)
            if message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.CLOSING,
            ):
                return self.ws.close_code
