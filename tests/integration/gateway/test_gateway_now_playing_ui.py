"""The now-playing message under load, under 429s, and across a gateway restart."""

from __future__ import annotations

from typing import Any

import aiohttp
from gateway_harness import (
    Place,
    StartGateway,
    Watch,
    gateway_settings,
    is_deleted,
    live_messages,
    post_now_playing,
    state,
    until,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.interface import Bus
from backbeat.cache import CacheStore, MemoryCacheStore
from backbeat.db.models import Queue
from backbeat.db.repositories import QueueRepository
from backbeat.domain.messages import Channel
from backbeat.domain.messages.ui import (
    DeletePayload,
    ErrorNoticePayload,
    StatePayload,
    UiDelete,
    UiError,
    UiUpdate,
)
from backbeat.observability.metrics import REGISTRY
from backbeat.testing.discord import DiscordEmulator

EDIT_ROUTE = "PATCH /channels/{channel_id}/messages/{message_id}"


def volume_of(message: dict[str, Any]) -> str | None:
    fields = {f["name"]: f["value"] for f in message["embeds"][0]["fields"]}
    return fields.get("Volume")


async def shown(emu: DiscordEmulator, message_id: str, volume: str) -> dict[str, Any] | None:
    current = await emu.control.message(message_id)
    return current if volume_of(current) == volume else None


async def test_a_burst_of_states_is_coalesced_without_429_and_the_last_one_lands(
    emu: DiscordEmulator,
    place: Place,
    gateway_bus: Bus,
    start_gateway: StartGateway,
    engine: AsyncEngine,
) -> None:
    await emu.control.set_rate_limits({"preset": "discord"})
    await QueueRepository(engine).set_session(guild_id=place.guild)
    async with start_gateway() as gateway:
        message = await post_now_playing(emu, gateway_bus, place)
        for seq in range(2, 102):
            await gateway_bus.publish(
                Channel.UI_NOW,
                UiUpdate(
                    guild_id=place.guild,
                    payload=StatePayload(state_seq=seq, state=state(place, volume=seq)),
                ),
            )
        # Discord's message bucket is 5 per 5 s: the final state lands within one reset.
        final = await until(lambda: shown(emu, message["id"], "101%"), within=20)
        await gateway.ui.idle()
        edits = [r for r in await emu.control.requests() if r["route"] == EDIT_ROUTE]
        assert all(r["status"] != 429 for r in edits), [r["status"] for r in edits]
        assert 1 <= len(edits) < 20
        assert len(await live_messages(emu, place)) == 1
        assert final["id"] == message["id"]


async def test_a_429_storm_on_edits_still_ends_with_the_final_state(
    emu: DiscordEmulator,
    place: Place,
    gateway_bus: Bus,
    start_gateway: StartGateway,
) -> None:
    async with start_gateway():
        message = await post_now_playing(emu, gateway_bus, place)
        retries_before = _sample("discord_operation_retries_total", operation="message.edit")
        errors_before = _sample("discord_api_errors_total", operation="message.edit", code="429")
        # More 429s than discord.py retries (5), so the gateway's own retry is needed too.
        await emu.control.http_fault("429", route=EDIT_ROUTE, count=8, retry_after=0.05)
        for seq, volume in ((2, 60), (3, 70), (4, 80)):
            await gateway_bus.publish(
                Channel.UI_NOW,
                UiUpdate(
                    guild_id=place.guild,
                    payload=StatePayload(state_seq=seq, state=state(place, volume=volume)),
                ),
            )
        await until(lambda: shown(emu, message["id"], "80%"), within=30)
        statuses = [r["status"] for r in await emu.control.requests() if r["route"] == EDIT_ROUTE]
        assert statuses.count(429) == 8
        assert statuses[-1] == 200
        assert _sample("discord_operation_retries_total", operation="message.edit") > (
            retries_before
        )
        assert (
            _sample("discord_api_errors_total", operation="message.edit", code="429")
            > errors_before
        )


async def _recorded(engine: AsyncEngine, guild_id: int, message_id: int) -> bool:
    async with engine.connect() as conn:
        stored = await conn.scalar(
            select(Queue.now_playing_message_id).where(Queue.guild_id == guild_id)
        )
    return stored == message_id


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_restarted_gateway_edits_its_message_and_old_buttons_still_work(
    emu: DiscordEmulator,
    place: Place,
    gateway_bus: Bus,
    start_gateway: StartGateway,
    engine: AsyncEngine,
    cache: CacheStore,
) -> None:
    await QueueRepository(engine).set_session(guild_id=place.guild)
    await emu.control.move_voice(place.guild, place.alice, place.voice)
    settings = gateway_settings(emu)
    async with start_gateway(settings):
        message = await post_now_playing(emu, gateway_bus, place)
        # The message is recorded in SQL just after Discord shows it: stop only once it is.
        await until(lambda: _recorded(engine, place.guild, int(message["id"])))

    # A new process: nothing in memory, and (on the in-process default) an empty cache, so
    # the message is found through the Queue row in SQL.
    fresh_cache = MemoryCacheStore() if isinstance(cache, MemoryCacheStore) else cache
    async with (
        Watch(gateway_bus, Channel.COMMANDS) as commands,
        start_gateway(settings, cache=fresh_cache),
    ):
        await gateway_bus.publish(
            Channel.UI_NOW,
            UiUpdate(
                guild_id=place.guild,
                payload=StatePayload(state_seq=2, state=state(place, volume=55)),
            ),
        )
        await until(lambda: shown(emu, message["id"], "55%"))
        assert [m["id"] for m in await live_messages(emu, place)] == [message["id"]]

        # The old message's pause button works in the new process.
        click = await emu.control.click_component(
            message_id=message["id"], user_id=place.alice, custom_id=f"bb:pause:{place.guild}"
        )
        record = await emu.control.interaction(click["id"], min_events=1)
        assert record["initial_response"]["type"] == 6
        pause = await commands.next(lambda m: m.type == "pause")
        assert pause.guild_id == place.guild

        # delete removes the message and forgets it, in SQL too.
        await gateway_bus.publish(
            Channel.UI_NOW,
            UiDelete(guild_id=place.guild, payload=DeletePayload(state_seq=3)),
        )
        await until(lambda: is_deleted(emu, message["id"]))
        # (the gateway forgets it once Discord confirmed the deletion)
        await until(lambda: _forgotten(engine, place.guild))


async def _forgotten(engine: AsyncEngine, guild_id: int) -> bool:
    session = await QueueRepository(engine).session(guild_id=guild_id)
    assert session is not None
    return session.now_playing_message_id is None


async def test_a_message_deleted_by_someone_else_is_posted_again(
    emu: DiscordEmulator,
    place: Place,
    gateway_bus: Bus,
    start_gateway: StartGateway,
    engine: AsyncEngine,
) -> None:
    await QueueRepository(engine).set_session(guild_id=place.guild)
    async with start_gateway():
        message = await post_now_playing(emu, gateway_bus, place)
        url = f"{emu.rest_url}/channels/{place.text}/messages/{message['id']}"
        async with (
            aiohttp.ClientSession() as http,
            http.delete(url, headers={"Authorization": f"Bot {emu.token}"}) as response,
        ):
            assert response.status == 204
        await gateway_bus.publish(
            Channel.UI_NOW,
            UiUpdate(
                guild_id=place.guild,
                payload=StatePayload(state_seq=2, state=state(place, volume=77)),
            ),
        )
        [again] = await until(lambda: live_messages(emu, place))
        assert again["id"] != message["id"]
        assert volume_of(again) == "77%"
        session = await QueueRepository(engine).session(guild_id=place.guild)
        assert session is not None
        assert session.now_playing_message_id == int(again["id"])


async def test_a_playback_error_is_told_in_the_channel_briefly(
    emu: DiscordEmulator,
    place: Place,
    gateway_bus: Bus,
    start_gateway: StartGateway,
) -> None:
    async with start_gateway(gateway_settings(emu, reply_delete_after_s=0.3)):
        await gateway_bus.publish(
            Channel.UI_NOW,
            UiError(
                guild_id=place.guild,
                payload=ErrorNoticePayload(
                    state_seq=1,
                    code="track_unavailable",
                    message="Track unavailable",
                    skipped=True,
                    text_channel_id=place.text,
                ),
            ),
        )
        [notice] = await until(lambda: live_messages(emu, place))
        assert notice["embeds"][0]["description"] == "⚠️ Track unavailable — skipped."
        await until(lambda: is_deleted(emu, notice["id"]))
