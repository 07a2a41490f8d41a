"""The REST API: headers, error bodies, interaction rules, faults (raw aiohttp client)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from backbeat.testing.discord import DiscordEmulator, Limit, RateLimitConfig


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(default_world=True) as emulator:
        yield emulator


@pytest.fixture
async def http(emu: DiscordEmulator) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bot {emu.token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        yield session


async def call(
    http: aiohttp.ClientSession, emu: DiscordEmulator, method: str, path: str, body: Any = None
) -> tuple[int, Any, Any]:
    async with http.request(method, emu.rest_url + path, json=body) as response:
        data = await response.json(content_type=None) if response.status != 204 else None
        return response.status, data, response.headers


async def test_content_type_is_exactly_application_json(
    http: aiohttp.ClientSession, emu: DiscordEmulator
) -> None:
    status, me, headers = await call(http, emu, "GET", "/users/@me")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert me["id"] == str(emu.bot_user_id)
    assert me["bot"] is True
    for header in (
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "X-RateLimit-Reset-After",
        "X-RateLimit-Bucket",
    ):
        assert header in headers


async def test_bad_token_is_401(emu: DiscordEmulator) -> None:
    async with aiohttp.ClientSession(headers={"Authorization": "Bot nope"}) as other:
        status, body, _ = await call(other, emu, "GET", "/users/@me")
    assert (status, body) == (401, {"message": "401: Unauthorized", "code": 0})


async def test_gateway_bot_and_guild_routes(
    http: aiohttp.ClientSession, emu: DiscordEmulator
) -> None:
    ids = emu.default_ids
    status, gateway, _ = await call(http, emu, "GET", "/gateway/bot")
    assert status == 200
    assert gateway["url"] == emu.gateway_url
    assert gateway["shards"] == 1
    assert gateway["session_start_limit"]["max_concurrency"] == 1
    _, guilds, _ = await call(http, emu, "GET", "/users/@me/guilds")
    assert [g["id"] for g in guilds] == [str(ids["guild"])]
    _, guild, _ = await call(http, emu, "GET", f"/guilds/{ids['guild']}")
    assert guild["roles"][0]["name"] == "@everyone"
    _, member, _ = await call(http, emu, "GET", f"/guilds/{ids['guild']}/members/{ids['alice']}")
    assert member["user"]["username"] == "alice"
    assert member["flags"] == 0
    _, channel, _ = await call(http, emu, "GET", f"/channels/{ids['lounge']}")
    assert channel["type"] == 2
    assert channel["bitrate"] == 64000
    assert (await call(http, emu, "GET", "/guilds/1"))[1] == {
        "message": "Unknown Guild",
        "code": 10004,
    }
    assert (await call(http, emu, "GET", "/channels/1"))[1]["code"] == 10003
    status, body, _ = await call(http, emu, "GET", f"/channels/{ids['text']}/messages/1")
    assert (status, body["code"]) == (404, 10008)
    status, body, _ = await call(http, emu, "GET", "/no/such/route")
    assert (status, body["code"]) == (404, 0)


async def test_missing_permissions_is_50013(
    http: aiohttp.ClientSession, emu: DiscordEmulator
) -> None:
    ids = emu.default_ids
    await emu.control.set_overwrite(ids["text"], ids["guild"], deny=1 << 11)
    status, body, _ = await call(
        http, emu, "POST", f"/channels/{ids['text']}/messages", {"content": "x"}
    )
    assert (status, body) == (403, {"message": "Missing Permissions", "code": 50013})


async def test_message_crud_keeps_history(
    http: aiohttp.ClientSession, emu: DiscordEmulator
) -> None:
    text = emu.default_ids["text"]
    _, created, _ = await call(
        http,
        emu,
        "POST",
        f"/channels/{text}/messages",
        {"content": "a", "embeds": [{"title": "t"}]},
    )
    assert created["embeds"] == [{"title": "t"}]
    mid = created["id"]
    _, edited, _ = await call(
        http, emu, "PATCH", f"/channels/{text}/messages/{mid}", {"content": "b"}
    )
    assert edited["content"] == "b"
    assert edited["edited_timestamp"] is not None
    assert (await call(http, emu, "DELETE", f"/channels/{text}/messages/{mid}"))[0] == 204
    [stored] = await emu.control.channel_messages(text)
    assert stored["deleted"] is True
    assert [h["content"] for h in stored["history"]] == ["a"]
    status, body, _ = await call(http, emu, "POST", f"/channels/{text}/messages", {})
    assert (status, body["code"]) == (400, 50006)


async def test_interaction_rules(http: aiohttp.ClientSession, emu: DiscordEmulator) -> None:
    ids = emu.default_ids
    app = emu.bot_user_id
    await call(
        http,
        emu,
        "PUT",
        f"/applications/{app}/commands",
        [{"name": "play", "description": "d", "options": [{"name": "query", "type": 3}]}],
    )
    created = await emu.control.invoke_command(
        guild_id=ids["guild"],
        channel_id=ids["text"],
        user_id=ids["alice"],
        name="play",
        options={"query": "song"},
    )
    assert created["data"]["options"] == [{"name": "query", "type": 3, "value": "song"}]
    token, iid = created["token"], created["id"]
    callback = f"/interactions/{iid}/{token}/callback?with_response=true"
    async with aiohttp.ClientSession() as anonymous:  # interaction routes need no bot auth
        status, body, headers = await call(
            anonymous, emu, "POST", callback, {"type": 4, "data": {"content": "hi", "flags": 64}}
        )
        assert status == 200
        assert headers["Content-Type"] == "application/json"
        assert body["interaction"]["response_message_ephemeral"] is True
        assert body["resource"]["message"]["content"] == "hi"
        status, body, _ = await call(
            anonymous, emu, "POST", callback, {"type": 4, "data": {"content": "again"}}
        )
        assert (status, body["code"]) == (400, 40060)
        status, followup, _ = await call(
            anonymous, emu, "POST", f"/webhooks/{app}/{token}?wait=true", {"content": "more"}
        )
        assert status == 200
        assert followup["webhook_id"] == str(app)
        status, original, _ = await call(
            anonymous, emu, "GET", f"/webhooks/{app}/{token}/messages/@original"
        )
        assert original["content"] == "hi"
        late = await emu.control.invoke_command(
            guild_id=ids["guild"],
            channel_id=ids["text"],
            user_id=ids["alice"],
            name="play",
            options={"query": "x"},
        )
        await emu.control.advance_clock(3.1)
        status, body, _ = await call(
            anonymous,
            emu,
            "POST",
            f"/interactions/{late['id']}/{late['token']}/callback",
            {"type": 5},
        )
        assert (status, body) == (404, {"message": "Unknown interaction", "code": 10062})
        await emu.control.advance_clock(15 * 60)
        status, body, _ = await call(
            anonymous, emu, "POST", f"/webhooks/{app}/{token}", {"content": "x"}
        )
        assert (status, body["code"]) == (401, 50027)
    record = await emu.control.interaction(iid)
    assert [e["kind"] for e in record["events"]] == ["initial", "followup"]


async def test_rate_limit_and_faults(http: aiohttp.ClientSession, emu: DiscordEmulator) -> None:
    emu.limiter.configure(RateLimitConfig(routes={"GET /users/@me": Limit(1, 30)}))
    assert (await call(http, emu, "GET", "/users/@me"))[0] == 200
    status, body, headers = await call(http, emu, "GET", "/users/@me")
    assert status == 429
    assert body["global"] is False
    assert 0 < body["retry_after"] <= 30
    assert headers["Via"] == "1.1 google"
    assert int(headers["Retry-After"]) >= 1
    await emu.control.http_fault("5xx", route="GET /gateway/bot", status=502)
    status, body, _ = await call(http, emu, "GET", "/gateway/bot")
    assert status == 502
    assert (await call(http, emu, "GET", "/gateway/bot"))[0] == 200
    await emu.control.set_rate_limits({"global": {"limit": 1, "window": 30}})
    assert (await call(http, emu, "GET", "/gateway/bot"))[0] == 200
    status, body, headers = await call(http, emu, "GET", "/gateway/bot")
    assert status == 429
    assert body["global"] is True
    assert headers["X-RateLimit-Global"] == "true"


async def test_control_api_rejects_bad_input(emu: DiscordEmulator) -> None:
    async with aiohttp.ClientSession() as raw:
        async with raw.post(emu.control_url + "/guilds", data="nope") as response:
            assert response.status == 400
        async with raw.post(
            emu.control_url + "/gateway/faults", json={"kind": "explode"}
        ) as response:
            assert response.status == 400
        async with raw.get(emu.control_url + "/interactions/123") as response:
            assert response.status == 404
            assert (await response.json())["code"] == 10062
