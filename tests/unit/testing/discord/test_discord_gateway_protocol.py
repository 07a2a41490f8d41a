"""The gateway at the wire level, with a raw WebSocket client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from discord_raw_gateway import RawGateway

from backbeat.testing.discord import DiscordEmulator, GatewayOptions, shard_of


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def connect(
    http: aiohttp.ClientSession, emu: DiscordEmulator, compress: bool = True
) -> RawGateway:
    query = "?v=10&encoding=json" + ("&compress=zlib-stream" if compress else "")
    gateway = RawGateway(await http.ws_connect(emu.gateway_url + query))
    hello = await gateway.receive()
    assert hello["op"] == 10
    assert hello["d"]["heartbeat_interval"] == 41_250
    return gateway


async def test_identify_ready_and_guilds_on_their_shard(http: aiohttp.ClientSession) -> None:
    async with DiscordEmulator() as emu:
        guilds = [emu.world.create_guild(f"g{i}", shard=(i % 2, 2)).id for i in range(4)]
        gateway = await connect(http, emu)
        await gateway.send(1, None)
        assert (await gateway.receive())["op"] == 11
        ready = await gateway.identify(emu.token, shard=[1, 2])
        assert ready["t"] == "READY"
        assert ready["s"] == 1
        assert ready["d"]["shard"] == [1, 2]
        assert ready["d"]["resume_gateway_url"] == emu.gateway_url
        owned = sorted(int(g["id"]) for g in ready["d"]["guilds"])
        assert owned == sorted(g for g in guilds if shard_of(g, 2) == 1)
        for expected_seq in (2, 3):
            create = await gateway.receive()
            assert create["t"] == "GUILD_CREATE"
            assert create["s"] == expected_seq
            assert int(create["d"]["id"]) in owned
        assert gateway.binary_frames == 5  # zlib-stream: HELLO, ACK, READY, 2 GUILD_CREATE


async def test_resume_replays_missed_dispatches(http: aiohttp.ClientSession) -> None:
    async with DiscordEmulator() as emu:
        guild = emu.world.create_guild("g")
        channel = emu.world.create_channel(guild.id, "general")
        user = emu.world.create_user("alice")
        emu.world.add_member(guild.id, user.id)
        gateway = await connect(http, emu, compress=False)
        ready = await gateway.identify(emu.token)
        session_id = ready["d"]["session_id"]
        await gateway.dispatch("GUILD_CREATE")
        await gateway.ws.close()
        await emu.control.sessions()  # let the emulator notice the disconnect
        await emu.control.post_message(channel.id, user.id, "while you were away")
        again = await connect(http, emu, compress=False)
        await again.send(6, {"token": emu.token, "session_id": session_id, "seq": 2})
        missed = await again.receive()
        assert missed["t"] == "MESSAGE_CREATE"
        assert missed["s"] == 3
        resumed = await again.receive()
        assert resumed["t"] == "RESUMED"
        assert resumed["s"] == 4


async def test_resume_of_an_unknown_session_is_refused(http: aiohttp.ClientSession) -> None:
    async with DiscordEmulator() as emu:
        gateway = await connect(http, emu)
        await gateway.send(6, {"token": emu.token, "session_id": "nope", "seq": 1})
        assert await gateway.receive() == {"op": 9, "d": False}


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"op": 2, "d": {"token": "wrong", "intents": 0}}, 4004),
        ({"op": 4, "d": {"guild_id": 1, "channel_id": None}}, 4003),
        ({"op": 99, "d": None}, 4001),
        ({"op": 2, "d": {"token": "TOKEN", "intents": 0, "shard": [2, 2]}}, 4010),
        ({"op": 2, "d": {"token": "TOKEN", "intents": 1 << 40}}, 4013),
    ],
    ids=["bad-token", "not-authenticated", "unknown-op", "invalid-shard", "invalid-intents"],
)
async def test_close_codes(
    http: aiohttp.ClientSession, payload: dict[str, object], code: int
) -> None:
    async with DiscordEmulator() as emu:
        gateway = await connect(http, emu)
        data = payload["d"]
        if isinstance(data, dict) and data.get("token") == "TOKEN":
            data["token"] = emu.token
        await gateway.send(int(payload["op"]), data)  # type: ignore[call-overload]
        assert await gateway.closed_with() == code


async def test_decode_error_closes_4002(http: aiohttp.ClientSession) -> None:
    async with DiscordEmulator() as emu:
        gateway = await connect(http, emu)
        await gateway.ws.send_str("{not json")
        assert await gateway.closed_with() == 4002


async def test_disallowed_privileged_intents_close_4014(http: aiohttp.ClientSession) -> None:
    options = GatewayOptions(allowed_privileged_intents=0)
    async with DiscordEmulator(gateway_options=options) as emu:
        gateway = await connect(http, emu)
        await gateway.send(2, {"token": emu.token, "intents": 1 << 1})
        assert await gateway.closed_with() == 4014


async def test_second_identify_closes_4005(http: aiohttp.ClientSession) -> None:
    async with DiscordEmulator() as emu:
        gateway = await connect(http, emu)
        await gateway.identify(emu.token)
        await gateway.send(2, {"token": emu.token, "intents": 0})
        assert await gateway.closed_with() == 4005


async def test_send_limit_closes_4008(http: aiohttp.ClientSession) -> None:
    async with DiscordEmulator(gateway_options=GatewayOptions(send_limit=5)) as emu:
        gateway = await connect(http, emu)
        for _ in range(6):
            await gateway.send(1, None)
        assert await gateway.closed_with() == 4008


async def test_identify_faster_than_concurrency_gets_invalid_session(
    http: aiohttp.ClientSession,
) -> None:
    options = GatewayOptions(identify_interval=60, max_concurrency=1)
    async with DiscordEmulator(gateway_options=options) as emu:
        first = await connect(http, emu)
        assert (await first.identify(emu.token, shard=[0, 2]))["t"] == "READY"
        second = await connect(http, emu)
        assert await second.identify(emu.token, shard=[1, 2]) == {"op": 9, "d": False}
        assert (await emu.control.sessions())["identify_refused"] == 1


async def test_gateway_faults(http: aiohttp.ClientSession) -> None:
    async with DiscordEmulator() as emu:
        gateway = await connect(http, emu)
        await gateway.identify(emu.token)
        await emu.control.gateway_fault("stop_heartbeat_acks", shard_id=0)
        await gateway.send(1, 1)
        await emu.control.gateway_fault("reconnect", shard_id=0)
        assert await gateway.receive() == {"op": 7, "d": None}  # the heartbeat got no ACK
        await emu.control.gateway_fault("resume_heartbeat_acks", shard_id=0)
        await gateway.send(1, 1)
        assert await gateway.receive() == {"op": 11}
        await emu.control.gateway_fault("invalid_session", shard_id=0, resumable=True)
        assert await gateway.receive() == {"op": 9, "d": True}
        await emu.control.gateway_fault("close", shard_id=0, code=4009)
        assert await gateway.closed_with() == 4009


async def test_bot_voice_join_and_leave(http: aiohttp.ClientSession) -> None:
    async with DiscordEmulator() as emu:
        guild = emu.world.create_guild("g")
        voice = emu.world.create_channel(guild.id, "Lounge", 2)
        gateway = await connect(http, emu)
        ready = await gateway.identify(emu.token, intents=1 | (1 << 7))
        await gateway.dispatch("GUILD_CREATE")
        await gateway.send(
            4, {"guild_id": guild.id, "channel_id": voice.id, "self_mute": False, "self_deaf": True}
        )
        state = await gateway.receive()
        server = await gateway.receive()
        assert state["t"] == "VOICE_STATE_UPDATE"
        assert state["d"]["session_id"] == ready["d"]["session_id"]
        assert state["d"]["self_deaf"] is True
        assert state["d"]["member"]["user"]["id"] == str(emu.bot_user_id)
        assert server["t"] == "VOICE_SERVER_UPDATE"
        issued = emu.voice_registry.get(guild.id, emu.bot_user_id)
        assert issued is not None
        assert issued.token == server["d"]["token"]
        assert await emu.control.voice_credentials() == [issued.to_json()]
        await gateway.send(4, {"guild_id": str(guild.id), "channel_id": None})
        left = await gateway.receive()
        assert left["t"] == "VOICE_STATE_UPDATE"
        assert left["d"]["channel_id"] is None
        assert emu.voice_registry.all() == []


async def test_member_events_need_the_members_intent(http: aiohttp.ClientSession) -> None:
    async with DiscordEmulator() as emu:
        guild = emu.world.create_guild("g")
        user = emu.world.create_user("bob")
        without = await connect(http, emu)
        await without.identify(emu.token, shard=[0, 1], intents=1)
        await without.dispatch("GUILD_CREATE")
        await emu.control.put_member(guild.id, user.id)
        with pytest.raises(TimeoutError):
            await without.dispatch("GUILD_MEMBER_ADD", within=0.3)

    async with DiscordEmulator() as emu:
        guild = emu.world.create_guild("g")
        user = emu.world.create_user("bob")
        with_members = await connect(http, emu)
        await with_members.identify(emu.token, intents=1 | 2)
        await with_members.dispatch("GUILD_CREATE")
        await emu.control.put_member(guild.id, user.id, nick="B")
        added = await with_members.dispatch("GUILD_MEMBER_ADD")
        assert added["d"]["user"]["id"] == str(user.id)
        assert added["d"]["nick"] == "B"
        await emu.control.remove_member(guild.id, user.id)
        removed = await with_members.dispatch("GUILD_MEMBER_REMOVE")
        assert removed["d"]["user"]["id"] == str(user.id)
