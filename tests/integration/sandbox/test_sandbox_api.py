"""The sandbox page's API against the whole bot: voice, /play, what each user sees, events."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sandbox_rig import get_json, post_json, running_sandbox, until


async def _first_player_event(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    """Read ``/api/events`` until a ``player`` event with a track arrives."""
    async with http.get(url) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        buffer = b""
        async for chunk in response.content.iter_any():
            buffer += chunk
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                lines = dict(
                    line.split(": ", 1) for line in block.decode().splitlines() if ": " in line
                )
                if lines.get("event") == "player":
                    player = json.loads(lines["data"])
                    if player and player.get("track"):
                        return dict(player)
    raise AssertionError("the event stream ended")


async def test_play_through_the_page_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    async with running_sandbox(monkeypatch, tmp_path) as line, aiohttp.ClientSession() as http:
        base = line["sandbox"].rstrip("/")
        sandbox = await get_json(http, f"{base}/api/sandbox")
        assert [(u["name"], u["manager"]) for u in sandbox["users"]] == [
            ("alice", True),
            ("bob", False),
            ("carol", False),
        ]
        assert sandbox["panel"] == line["panel"]
        alice, bob = sandbox["users"][0]["id"], sandbox["users"][1]["id"]
        general = sandbox["text_channels"][0]["id"]
        lounge = sandbox["voice_channels"][0]["id"]

        async def view(user: str) -> dict[str, Any]:
            return dict(await get_json(http, f"{base}/api/view?user={user}&channel={general}"))

        assert "play" in [c["name"] for c in (await view(alice))["commands"]]
        await post_json(http, f"{base}/api/voice", {"user": alice, "channel": lounge})
        voice = (await view(alice))["voice"]
        assert {"user_id": alice, "channel_id": lounge, "name": "alice"} in voice

        answer = await post_json(
            http,
            f"{base}/api/autocomplete",
            {
                "user": alice,
                "channel": general,
                "name": "play",
                "options": {"query": "lofi"},
                "focused": "query",
            },
        )
        choices = answer["choices"]
        assert choices, "the bot's autocomplete offered nothing for 'lofi'"
        assert "lofi" in choices[0]["name"].lower()

        events = asyncio.create_task(_first_player_event(http, f"{base}/api/events"))
        await post_json(
            http,
            f"{base}/api/command",
            # The choice's value (a catalogue link) plays: the sandbox admits those hosts.
            {
                "user": alice,
                "channel": general,
                "name": "play",
                "options": {"query": choices[0]["value"]},
            },
        )

        async def now_playing(user: str) -> dict[str, Any] | None:
            for message in (await view(user))["messages"]:
                if message["embeds"] and not message["ephemeral"]:
                    return message
            return None

        shown = await until(lambda: now_playing(bob), within=60)
        assert "lofi" in json.dumps(shown["embeds"]).lower()
        thumbnail = shown["embeds"][0].get("thumbnail") or {}
        if thumbnail:  # fake catalog artwork is served by the page itself
            assert thumbnail["url"].startswith("/art?url=")
            async with http.get(base + thumbnail["url"]) as art:
                assert art.status == 200
                assert art.headers["Content-Type"].startswith("image/svg+xml")

        # The acknowledgement is ephemeral: alice sees it, bob does not.
        mine = [m for m in (await view(alice))["messages"] if m["ephemeral"]]
        assert mine
        assert mine[0]["for_user"] == alice
        assert not [m for m in (await view(bob))["messages"] if m["ephemeral"]]

        player = await asyncio.wait_for(events, 60)
        assert "lofi" in json.dumps(player["track"]["info"]).lower()
        assert player["paused"] is False
        assert player["voice"]["channelId"] == lounge
        assert (await get_json(http, f"{base}/api/player"))["guildId"] == sandbox["guild"]["id"]


async def test_the_page_refuses_what_is_not_the_sandbox(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with running_sandbox(monkeypatch, tmp_path) as line, aiohttp.ClientSession() as http:
        base = line["sandbox"].rstrip("/")
        sandbox = await get_json(http, f"{base}/api/sandbox")
        alice = sandbox["users"][0]["id"]
        general = sandbox["text_channels"][0]["id"]
        async with http.post(
            f"{base}/api/voice", json={"user": alice, "channel": general}
        ) as refused:
            assert refused.status == 400  # a text channel is no voice channel
        async with http.get(f"{base}/api/view?user=1&channel={general}") as refused:
            assert refused.status == 400  # not a sandbox user
        async with http.get(f"{base}/api/sandbox", headers={"Host": "evil.example"}) as refused:
            assert refused.status == 421  # only loopback host names (no DNS rebinding)
        async with http.get(base + "/") as page:
            assert page.status == 200
            assert "default-src 'self'" in page.headers["Content-Security-Policy"]
            assert "/static/sandbox.js" in await page.text()
