"""Unmodified discord.py 2.7 against the Discord emulator, over real sockets."""

from __future__ import annotations

from typing import Any

import discord
import pytest
from emulator_bots import EmulatorBot, EmulatorClient, running

from backbeat.gateway.discord_endpoints import discord_py_endpoints
from backbeat.testing.discord import DiscordEmulator, GatewayOptions, shard_of

TEXT_ROUTE = "POST /channels/{channel_id}/messages"


async def sharded_world(emu: DiscordEmulator) -> dict[str, Any]:
    """Two guilds, one per shard of two, each with a text and a voice channel."""
    control = emu.control
    alice = await control.create_user("alice")
    world: dict[str, Any] = {"alice": int(alice["id"])}
    for shard in (0, 1):
        guild = await control.create_guild(
            f"guild-{shard}", shard=(shard, 2), members=[alice["id"]]
        )
        gid = int(guild["id"])
        text = await control.create_channel(gid, "general")
        voice = await control.create_channel(gid, "Lounge", "voice")
        world[shard] = {"guild": gid, "text": int(text["id"]), "voice": int(voice["id"])}
    return world


async def command(
    emu: DiscordEmulator, place: dict[str, int], user: int, kind: str
) -> dict[str, Any]:
    return await emu.control.invoke_command(
        guild_id=place["guild"],
        channel_id=place["text"],
        user_id=user,
        name="respond",
        options={"kind": kind},
    )


async def click(emu: DiscordEmulator, message_id: str, user: int, custom_id: str) -> dict[str, Any]:
    return await emu.control.click_component(
        message_id=message_id, user_id=user, custom_id=custom_id
    )


@pytest.mark.parametrize("shard_count", [2, None], ids=["shard_count=2", "from /gateway/bot"])
async def test_auto_sharded_bot_full_session(shard_count: int | None) -> None:
    async with DiscordEmulator(shard_count=2) as emu:
        world = await sharded_world(emu)
        alice = world["alice"]
        with discord_py_endpoints(emu.rest_url, emu.gateway_url):
            bot = EmulatorBot(shard_count=shard_count)
            async with running(bot, emu.token):
                await bot.until(lambda: bot.outcomes.get("ready", False), 20)

                # Login, command sync, each guild ready on its own shard.
                assert bot.outcomes["synced"] == ["respond"]
                assert [c["name"] for c in await emu.control.commands()] == ["respond"]
                assert bot.shard_count == 2
                for shard in (0, 1):
                    guild = bot.get_guild(world[shard]["guild"])
                    assert guild is not None
                    assert guild.shard_id == shard == shard_of(guild.id, 2)
                sessions = (await emu.control.sessions(connected=2))["sessions"]
                assert sorted(s["shard"][0] for s in sessions) == [0, 1]
                requests = {r["route"] for r in await emu.control.requests()}
                assert ("GET /gateway/bot" in requests) == (shard_count is None)

                await _interactions(emu, bot, world[1], alice)
                await _messages(emu, bot, world[0])
                await _voice(emu, bot, world[1], alice)
                await _gateway_faults(emu, bot)


async def _interactions(
    emu: DiscordEmulator, bot: EmulatorBot, place: dict[str, int], alice: int
) -> None:
    control = emu.control
    # Autocomplete (interaction type 4 → callback 8).
    auto = await control.invoke_autocomplete(
        guild_id=place["guild"],
        channel_id=place["text"],
        user_id=alice,
        name="respond",
        options={"kind": "de"},
        focused="kind",
    )
    auto = await control.interaction(auto["id"], min_events=1)
    assert auto["initial_response"]["type"] == 8
    assert auto["initial_response"]["data"]["choices"] == [{"name": "defer", "value": "defer"}]

    # Slash command answered with a message (type 4) carrying buttons.
    created = await command(emu, place, alice, "message")
    record = await control.interaction(created["id"], min_events=1)
    assert record["initial_response"]["type"] == 4
    original = record["original_message"]
    assert original["content"] == "pick one"
    custom_ids = [c["custom_id"] for row in original["components"] for c in row["components"]]
    assert custom_ids == ["b:message", "b:update", "b:defer", "b:think"]
    message_id = original["id"]

    # Buttons: 4 (ephemeral reply), 7 (update), 6 (deferred update + edit), 5 (thinking + followup).
    reply = await control.interaction(
        (await click(emu, message_id, alice, "b:message"))["id"], min_events=1
    )
    assert reply["initial_response"]["type"] == 4
    assert reply["original_message"]["flags"] & 64
    assert reply["original_message"]["content"] == "button reply"

    update = await control.interaction(
        (await click(emu, message_id, alice, "b:update"))["id"], min_events=1
    )
    assert update["initial_response"]["type"] == 7
    assert update["original_message"]["content"] == "updated by a button"
    assert update["original_message"]["history"][0]["content"] == "pick one"

    deferred = await control.interaction(
        (await click(emu, message_id, alice, "b:defer"))["id"], min_events=2
    )
    assert [e["kind"] for e in deferred["events"]] == ["initial", "edit_original"]
    assert deferred["initial_response"]["type"] == 6
    assert deferred["original_message"]["id"] == message_id
    assert deferred["original_message"]["content"] == "edited after a deferred update"

    think = await control.interaction(
        (await click(emu, message_id, alice, "b:think"))["id"], min_events=2
    )
    assert think["initial_response"]["type"] == 5
    assert [f["content"] for f in think["followups"]] == ["thought about it"]

    # Slash command deferred (5), followup sent, edited and deleted, original edited.
    created = await command(emu, place, alice, "defer")
    record = await control.interaction(created["id"], min_events=5)
    kinds = [e["kind"] for e in record["events"]]
    assert kinds == ["initial", "followup", "edit_original", "edit_followup", "delete_followup"]
    assert record["initial_response"]["type"] == 5
    assert record["original_message"]["content"] == "done thinking"
    assert record["original_message"]["flags"] & 128 == 0
    followup = record["followups"][0]
    assert followup["deleted"] is True
    assert followup["history"][0]["content"] == "a followup"

    # Answering after the 3-second deadline (emulator clock moved, no sleeping): 10062.
    created = await command(emu, place, alice, "late")
    await bot.until(lambda: bot.outcomes.get("late_started", False))
    await control.advance_clock(3.5)
    bot.late_gate.set()
    await bot.until(lambda: "late" in bot.outcomes)
    late = bot.outcomes["late"]
    assert isinstance(late, discord.NotFound)
    assert late.code == 10062
    assert (await control.interaction(created["id"]))["initial_response"] is None


async def _messages(emu: DiscordEmulator, bot: EmulatorBot, place: dict[str, int]) -> None:
    channel = bot.get_channel(place["text"])
    assert isinstance(channel, discord.TextChannel)
    message = await channel.send("hello", embed=discord.Embed(title="now playing"))
    await message.edit(content="hello again")
    fetched = await channel.fetch_message(message.id)
    assert fetched.content == "hello again"
    assert fetched.embeds[0].title == "now playing"
    await message.delete()
    with pytest.raises(discord.NotFound) as missing:
        await channel.fetch_message(message.id)
    assert missing.value.code == 10008
    stored = (await emu.control.channel_messages(place["text"]))[-1]
    assert stored["deleted"] is True
    assert [h["content"] for h in stored["history"]] == ["hello"]
    assert {"MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE"} <= {m.get("t") for m in bot.raw}

    # A 429 storm on the route, then a global 429: discord.py waits retry_after and succeeds.
    await emu.control.http_fault("429", route=TEXT_ROUTE, count=2, retry_after=0.2)
    await emu.control.http_fault("429", route=TEXT_ROUTE, retry_after=0.1, is_global=True)
    survived = await channel.send("after the storm")
    assert survived.content == "after the storm"
    statuses = [r["status"] for r in await emu.control.requests() if r["route"] == TEXT_ROUTE]
    assert statuses[-4:] == [429, 429, 429, 200]


async def _voice(emu: DiscordEmulator, bot: EmulatorBot, place: dict[str, int], alice: int) -> None:
    guild = bot.get_guild(place["guild"])
    assert guild is not None
    await guild.change_voice_state(channel=discord.Object(place["voice"]))
    await bot.until(lambda: bool(bot.dispatches("VOICE_SERVER_UPDATE")))
    state = next(
        d for d in bot.dispatches("VOICE_STATE_UPDATE") if d["user_id"] == str(bot.user.id)
    )
    server = bot.dispatches("VOICE_SERVER_UPDATE")[-1]
    assert state["channel_id"] == str(place["voice"])
    assert state["member"]["user"]["id"] == str(bot.user.id)
    [credentials] = await emu.control.voice_credentials()
    assert credentials["session_id"] == state["session_id"]
    assert credentials["token"] == server["token"]
    assert credentials["endpoint"] == server["endpoint"]
    assert server["guild_id"] == str(guild.id)
    shard_session = emu.gateway.session_for_shard(guild.shard_id)[0]
    assert any('"VOICE_SERVER_UPDATE"' in text for _, text in shard_session.buffer)

    await emu.control.move_voice(guild.id, alice, place["voice"])
    await bot.until(
        lambda: any(d["user_id"] == str(alice) for d in bot.dispatches("VOICE_STATE_UPDATE"))
    )

    await guild.change_voice_state(channel=None)
    await bot.until(lambda: bot.dispatches("VOICE_STATE_UPDATE")[-1]["channel_id"] is None)
    assert await emu.control.voice_credentials() == []


async def _gateway_faults(emu: DiscordEmulator, bot: EmulatorBot) -> None:
    control = emu.control
    # op 7: the shard reconnects and RESUMEs.
    await control.gateway_fault("reconnect", shard_id=0)
    await bot.until(lambda: ("resumed", 0) in bot.shard_events)
    resumed = {
        s["shard"][0]: s["resumes"] for s in (await control.sessions(connected=2))["sessions"]
    }
    assert resumed[0] == 1

    # op 9 false: the shard identifies again and gets a fresh READY.
    before = (await control.sessions())["identify_count"]
    await control.gateway_fault("invalid_session", shard_id=1, resumable=False)
    await bot.until(lambda: bot.shard_events.count(("connect", 1)) == 2)
    after = await control.sessions(connected=2)
    assert after["identify_count"] == before + 1

    # A close with a resumable code: the shard resumes again.
    await control.gateway_fault("close", shard_id=1, code=4000)
    await bot.until(lambda: ("resumed", 1) in bot.shard_events)


async def test_plain_client_single_shard() -> None:
    async with DiscordEmulator(default_world=True) as emu:
        ids = emu.default_ids
        with discord_py_endpoints(emu.rest_url, emu.gateway_url):
            client = EmulatorClient()
            async with running(client, emu.token):
                await client.until(lambda: client.outcomes.get("ready", False), 20)
                guild = client.get_guild(ids["guild"])
                assert guild is not None
                assert {c.name for c in guild.channels} == {"general", "Lounge", "Studio"}
                channel = client.get_channel(ids["text"])
                assert isinstance(channel, discord.TextChannel)
                sent = await channel.send("single shard")
                assert sent.content == "single shard"
                await emu.control.post_message(ids["text"], ids["alice"], "hi bot")
                await client.until(lambda: len(client.dispatches("MESSAGE_CREATE")) >= 2)
                from_alice = client.dispatches("MESSAGE_CREATE")[-1]
                # Without the MESSAGE_CONTENT intent, others' messages come without content.
                assert from_alice["author"]["id"] == str(ids["alice"])
                assert from_alice["content"] == ""
                sessions = (await emu.control.sessions())["sessions"]
                assert [s["shard"] for s in sessions] == [[0, 1]]


async def test_discord_py_heartbeats_are_never_taken_for_a_zombie() -> None:
    """With a 150 ms interval and 0.5 s grace, discord.py's keep-alive always arrives in time;
    a 4009 close (what a missed heartbeat gets) is followed by a RESUME."""
    options = GatewayOptions(heartbeat_interval_ms=150, heartbeat_grace=0.5)
    async with DiscordEmulator(default_world=True, gateway_options=options) as emu:
        with discord_py_endpoints(emu.rest_url, emu.gateway_url):
            client = EmulatorClient()
            async with running(client, emu.token):
                await client.until(lambda: client.outcomes.get("ready", False), 20)
                # Ten ACKs: about 1.5 s of heartbeating, more than twice the allowed silence.
                await client.until(lambda: sum(m.get("op") == 11 for m in client.raw) >= 10)
                state = await emu.control.sessions()
                assert state["heartbeat_timeouts"] == 0
                assert state["identify_count"] == 1
                assert [s["resumes"] for s in state["sessions"]] == [0]

                await emu.control.gateway_fault("close", code=4009)
                await client.until(lambda: bool(client.dispatches("RESUMED")))
                state = await emu.control.sessions(connected=1)
                assert state["identify_count"] == 1
                assert [s["resumes"] for s in state["sessions"]] == [1]
