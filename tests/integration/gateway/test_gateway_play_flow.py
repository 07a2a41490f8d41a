"""The /play flow and the now-playing UI, with the test playing audio's side over the bus."""

from __future__ import annotations

from typing import Any

from gateway_harness import (
    Place,
    StartGateway,
    Watch,
    acknowledged_play,
    buttons_of,
    gateway_settings,
    live_messages,
    notice,
    post_now_playing,
    state,
    until,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.interface import Bus
from backbeat.db.models import Queue
from backbeat.db.repositories import QueueRepository
from backbeat.domain.messages import Channel
from backbeat.domain.messages.commands import Pause, Play
from backbeat.domain.messages.to_discord import VoiceJoin, VoiceJoinPayload
from backbeat.domain.messages.ui import StatePayload, UiUpdate
from backbeat.gateway.app import Gateway
from backbeat.observability.metrics import REGISTRY
from backbeat.testing.discord import DiscordEmulator


async def create_queue_row(engine: AsyncEngine, guild_id: int) -> None:
    """Audio's session row (audio creates it when a guild starts playing)."""
    await QueueRepository(engine).set_session(guild_id=guild_id, volume=100)


async def test_play_ack_voice_and_now_playing_with_pause_button(
    emu: DiscordEmulator,
    place: Place,
    gateway_bus: Bus,
    start_gateway: StartGateway,
    engine: AsyncEngine,
) -> None:
    control = emu.control
    await control.move_voice(place.guild, place.alice, place.voice)
    await create_queue_row(engine, place.guild)
    settings = gateway_settings(emu)
    async with (
        Watch(gateway_bus, Channel.COMMANDS) as commands,
        Watch(gateway_bus, Channel.TO_AUDIO) as to_audio,
        start_gateway(settings) as gateway,
    ):
        stats = gateway.stats()
        assert [s["state"] for s in stats["shards"]] == ["ready"]
        synced = {c["name"] for c in await control.commands()}
        assert {
            "play",
            "pause",
            "resume",
            "skip",
            "stop",
            "queue",
            "nowplaying",
            "volume",
        } <= synced

        acks = (
            REGISTRY.get_sample_value(
                "gateway_interaction_ack_seconds_count", {"operation": "command"}
            )
            or 0.0
        )
        # /play lofi: an ephemeral "Processing…" at once, then the command on the bus.
        record = await acknowledged_play(emu, place, "lofi")
        interaction_id = record["id"]
        assert "Processing" in record["original_message"]["content"]
        play = await commands.next(lambda m: m.type == "play")
        assert (
            REGISTRY.get_sample_value(
                "gateway_interaction_ack_seconds_count", {"operation": "command"}
            )
            == acks + 1
        )
        assert isinstance(play, Play)
        assert play.payload.query == "lofi"
        assert play.context.voice_channel_id == place.voice
        assert play.context.text_channel_id == place.text
        assert play.context.interaction is not None
        assert play.context.interaction.id == int(interaction_id)

        # Audio asks to join: op 4 on the guild's shard, both voice events forwarded raw.
        await gateway_bus.publish(
            Channel.TO_DISCORD,
            VoiceJoin(**play.reply_fields(), payload=VoiceJoinPayload(channel_id=place.voice)),  # type: ignore[arg-type]
        )
        server = await to_audio.next(lambda m: m.type == "VOICE_SERVER_UPDATE")
        voice_state = await to_audio.next(lambda m: m.type == "VOICE_STATE_UPDATE")
        [credentials] = await control.voice_credentials()
        assert server.payload.data["token"] == credentials["token"]  # type: ignore[attr-defined]
        assert server.payload.data["endpoint"] == credentials["endpoint"]  # type: ignore[attr-defined]
        assert voice_state.payload.data["session_id"] == credentials["session_id"]  # type: ignore[attr-defined]
        assert voice_state.payload.data["channel_id"] == str(place.voice)  # type: ignore[attr-defined]
        count = await to_audio.next(lambda m: m.type == "listener-count")
        assert (count.payload.channel_id, count.payload.listeners) == (place.voice, 1)  # type: ignore[attr-defined]

        # A member joins the bot's channel: a new listener count.
        await control.move_voice(place.guild, place.bob, place.voice)
        count = await to_audio.next(lambda m: m.type == "listener-count")
        assert count.payload.listeners == 2  # type: ignore[attr-defined]

        # The correlated reply replaces "Processing…".
        await gateway_bus.publish(
            Channel.TO_DISCORD,
            notice(play, "play.queued", title="Lofi Beats", author="Chill Artist", position=1),
        )
        record = await control.interaction(interaction_id, min_events=2)
        assert [e["kind"] for e in record["events"]] == ["initial", "edit_original"]
        assert (
            record["original_message"]["content"]
            == "➕ Queued **Lofi Beats** by Chill Artist at position 1"
        )

        # The now-playing message from a ui:now snapshot.
        message = await post_now_playing(emu, gateway_bus, place, seq=10)
        embed = message["embeds"][0]
        assert "Lofi Beats" in embed["description"]
        assert "<t:" in embed["description"]
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["Requested by"] == f"<@{place.alice}>"
        assert fields["Volume"] == "100%"
        assert embed["thumbnail"]["url"] == "https://example.test/art.jpg"
        ids = [b["custom_id"] for b in buttons_of(message)]
        assert f"bb:pause:{place.guild}" in ids
        assert len(ids) == 10
        # The message is posted first, then recorded in SQL.
        await until(lambda: _stored_reference(engine, place.guild, place.text, int(message["id"])))

        # The pause button: deferred, buttons disabled, the command published.
        click = await control.click_component(
            message_id=message["id"], user_id=place.alice, custom_id=f"bb:pause:{place.guild}"
        )
        record = await control.interaction(click["id"], min_events=1)
        assert record["initial_response"]["type"] == 6
        pause = await commands.next(lambda m: m.type == "pause")
        assert isinstance(pause, Pause)
        assert pause.context.user_id == place.alice

        async def disabled() -> bool:
            current = await control.message(message["id"])
            return all(b.get("disabled") for b in buttons_of(current))

        await until(disabled)

        # A snapshot while the pause is in flight re-renders with the buttons still disabled.
        await gateway_bus.publish(
            Channel.UI_NOW,
            UiUpdate(
                guild_id=place.guild,
                payload=StatePayload(state_seq=11, state=state(place, paused=True)),
            ),
        )

        async def buttons_now() -> dict[str, bool]:
            current = await control.message(message["id"])
            return {b["custom_id"]: b.get("disabled", False) for b in buttons_of(current)}

        async def resume_shown_disabled() -> bool:
            return (await buttons_now()).get(f"bb:resume:{place.guild}") is True

        await until(resume_shown_disabled)

        # The pause's reply ends the flight: the resume button, enabled.
        await gateway_bus.publish(
            Channel.TO_DISCORD,
            notice(pause, "pause.paused"),
        )

        async def resumed() -> dict[str, Any] | None:
            current = await control.message(message["id"])
            ids = {b["custom_id"]: b.get("disabled", False) for b in buttons_of(current)}
            return current if ids.get(f"bb:resume:{place.guild}") is False else None

        current = await until(resumed)
        assert "Paused" in current["embeds"][0]["title"]
        assert len(await live_messages(emu, place)) == 1
        await _stale_state_is_ignored(emu, gateway_bus, gateway, place, message["id"])


async def _stale_state_is_ignored(
    emu: DiscordEmulator, bus: Bus, gateway: Gateway, place: Place, message_id: str
) -> None:
    before = await emu.control.message(message_id)
    await bus.publish(
        Channel.UI_NOW,
        UiUpdate(
            guild_id=place.guild,
            payload=StatePayload(state_seq=5, state=state(place, volume=30)),
        ),
    )
    marker = UiUpdate(
        guild_id=place.guild,
        payload=StatePayload(state_seq=12, state=state(place, paused=True, volume=40)),
    )
    await bus.publish(Channel.UI_NOW, marker)
    after = await until(lambda: _volume_shown(emu, message_id, "40%"))
    history = [
        {f["name"]: f["value"] for f in h["embeds"][0]["fields"]}.get("Volume")
        for h in after["history"]
        if h.get("embeds")
    ]
    assert "30%" not in history
    assert before["id"] == after["id"]


async def _volume_shown(emu: DiscordEmulator, message_id: str, value: str) -> Any:
    current = await emu.control.message(message_id)
    fields = {f["name"]: f["value"] for f in current["embeds"][0]["fields"]}
    return current if fields.get("Volume") == value else None


async def _stored_reference(
    engine: AsyncEngine, guild_id: int, channel_id: int, message_id: int
) -> bool:
    """The Queue row names the now-playing message (and its channel)."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(Queue.now_playing_channel_id, Queue.now_playing_message_id).where(
                    Queue.guild_id == guild_id
                )
            )
        ).one()
    return (row[0], row[1]) == (channel_id, message_id)
