"""Seed flow "/play command": the ephemeral "Processing…" acknowledgement, ``play`` on
``commands``, the bot joining voice, the track on the Lavalink emulator's player, the queue,
queue item, playback history and audit rows, ``ui:now`` create then updates, ``trackStart``
on ``to-discord``, the reply tied to the command by correlation id, the now-playing message
with its buttons, and the metrics that moved."""

from __future__ import annotations

import pytest
from e2e_rig import (
    EPHEMERAL,
    Deployment,
    Taps,
    answered,
    bot_in,
    buttons_of,
    in_order,
    live_messages,
    make_place,
    player,
    total,
    until,
)
from sqlalchemy import select

from backbeat.db.models import AuditLog, PlaybackHistory, Queue, QueueItem
from backbeat.domain.messages import Channel

pytestmark = pytest.mark.slow


async def test_play_command_flow(deployment: Deployment) -> None:
    d = deployment
    place = await make_place(d.emu)
    await d.emu.control.move_voice(place.guild, place.alice, place.voice)
    before = await d.metrics()
    async with Taps(d.bus) as taps:
        created = await d.emu.control.invoke_command(
            guild_id=place.guild,
            channel_id=place.text,
            user_id=place.alice,
            name="play",
            options={"query": "house"},
        )
        record = await until(lambda: answered(d.emu, created["id"]))
        playing = await until(lambda: player(d.lavalink, place.guild))
        [message] = await until(lambda: live_messages(d.emu, place.text))
        await taps.wait(Channel.TO_DISCORD, lambda m: m.type == "trackStart")
        await taps.wait(
            Channel.UI_NOW,
            lambda m: m.type == "update" and m.payload.state.position_ms is not None,  # type: ignore[attr-defined]
        )

    # What the user sees: "Processing…" at once (ephemeral), then the answer; the message.
    assert record["initial_response"]["type"] == 4
    assert record["initial_response"]["data"]["content"].startswith("🎵 Processing")
    assert record["original_message"]["flags"] & EPHEMERAL
    assert record["original_message"]["content"].startswith("▶️ Playing **")
    title = playing["track"]["info"]["title"]
    assert title in record["original_message"]["content"]
    [embed] = message["embeds"]
    assert embed["title"] == "🎶 Now playing"
    assert title in embed["description"]
    buttons = buttons_of(message)
    assert buttons[f"bb:pause:{place.guild}"] is False
    assert buttons[f"bb:skip:{place.guild}"] is False
    assert await bot_in(d.emu, place.guild, place.voice)

    # The bus: one play command, its reply correlated, then the UI states in order.
    [command] = taps.of(Channel.COMMANDS, place.guild)
    assert command.type == "play"
    assert command.payload.query == "house"
    assert command.context.user_id == place.alice  # type: ignore[attr-defined]
    [reply] = taps.of(Channel.TO_DISCORD, place.guild, "notice")
    assert reply.correlation_id == command.id
    assert in_order(taps.types(Channel.TO_DISCORD, place.guild), ["voice-join", "trackStart"])
    ui = taps.of(Channel.UI_NOW, place.guild)
    assert ui[0].type == "create"
    assert all(m.type == "update" for m in ui[1:])
    seqs = [m.payload.state_seq for m in ui]  # type: ignore[attr-defined]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    assert ui[0].payload.state.track.title == title  # type: ignore[attr-defined]
    assert in_order(
        taps.types(Channel.TO_AUDIO, place.guild), ["VOICE_STATE_UPDATE", "VOICE_SERVER_UPDATE"]
    )

    # Lavalink: the track plays, unpaused, in the voice channel.
    assert playing["paused"] is False
    assert playing["state"]["connected"] is True
    assert playing["voice"]["channelId"] == str(place.voice)
    identifier = playing["track"]["info"]["identifier"]

    # SQL: the queue (with the message id and channels), its item, history and audit rows.
    async def message_cached() -> bool:  # the gateway stores the id once the post returned
        async with d.engine.connect() as conn:
            stored = await conn.execute(
                select(Queue.now_playing_message_id).where(Queue.guild_id == place.guild)
            )
            return stored.scalar_one_or_none() == int(message["id"])

    await until(message_cached)
    async with d.engine.connect() as conn:
        [queue] = (await conn.execute(select(Queue).where(Queue.guild_id == place.guild))).all()
        items = (
            await conn.execute(select(QueueItem.identifier).where(QueueItem.queue_id == queue.id))
        ).all()
        history = (
            await conn.execute(
                select(PlaybackHistory.identifier, PlaybackHistory.requester_id).where(
                    PlaybackHistory.guild_id == place.guild
                )
            )
        ).all()
        audit = (
            await conn.execute(
                select(AuditLog.action, AuditLog.actor_id, AuditLog.payload).where(
                    AuditLog.guild_id == place.guild
                )
            )
        ).all()
    assert [i.identifier for i in items] == [identifier]
    assert [tuple(h) for h in history] == [(identifier, place.alice)]
    assert [(a.action, a.actor_id) for a in audit] == [("play", place.alice)]
    assert audit[0].payload["message_id"] == command.id
    assert queue.voice_channel_id == place.voice
    assert queue.text_channel_id == place.text

    # Metrics (from /metrics of every process): one acknowledgement, one play, one command.
    after = await d.metrics()

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("gateway_interaction_ack_seconds_count", operation="command") == 1
    assert moved("track_plays_total", source="youtube", autoplay="false") == 1
    assert moved("audio_command_duration_seconds_count", command="play", outcome="ok") == 1
    assert moved("discord_operation_duration_seconds_count", operation="message.send") == 1
    assert moved("bus_messages_published_total", channel=Channel.COMMANDS.value) == 1
    # the gateway checked the server's rate limit policies before publishing
    assert moved("db_operation_duration_seconds_count", operation="rate_limits.get") >= 1
    assert moved("bus_messages_handled_total", channel=Channel.UI_NOW.value) >= len(ui)
