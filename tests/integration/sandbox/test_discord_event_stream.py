"""The Discord emulator's ``GET /_control/events``: one ``world`` event per change, ends on stop."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from backbeat.testing.discord import DiscordEmulator


async def _next_event(content: aiohttp.StreamReader) -> dict[str, str]:
    fields: dict[str, str] = {}
    while True:
        raw = await asyncio.wait_for(content.readline(), 10)
        if not raw:
            raise EOFError
        line = raw.decode().rstrip("\n")
        if not line:
            if "event" in fields:
                return fields
            fields = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(": ")
        fields[name] = value


async def test_each_change_is_an_event_and_the_stream_ends_with_the_emulator() -> None:
    emu = DiscordEmulator(port=0, default_world=True)
    await emu.start()
    try:
        ids = emu.default_ids
        async with aiohttp.ClientSession() as http, http.get(f"{emu.control_url}/events") as stream:
            assert stream.headers["Content-Type"] == "text/event-stream"
            first = await _next_event(stream.content)
            assert first["event"] == "world"
            version = json.loads(first["data"])["version"]
            assert first["id"] == str(version)

            await emu.control.post_message(ids["text"], ids["alice"], "hello")
            changed = await _next_event(stream.content)
            assert json.loads(changed["data"])["version"] > version

            await emu.control.move_voice(ids["guild"], ids["bob"], ids["lounge"])
            moved = await _next_event(stream.content)
            assert int(moved["id"]) > int(changed["id"])

            assert emu.event_stream.open_streams == 1
            await emu.stop()
            try:
                while True:
                    await _next_event(stream.content)
            except (EOFError, aiohttp.ClientPayloadError):
                pass
            assert emu.event_stream.open_streams == 0
    finally:
        await emu.stop()
