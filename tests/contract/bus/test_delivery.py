"""Publishing and consuming: order per partition, tap, duplicates, UI states, restarts."""

from __future__ import annotations

import pytest

from backbeat.bus import StreamBus
from backbeat.domain.messages import Channel, DiscordContext
from backbeat.domain.messages.common import TrackSummary
from backbeat.domain.messages.to_discord import TrackPayload, TrackStart
from backbeat.domain.messages.ui import NowPlayingState, StatePayload, UiUpdate
from backbeat.observability.metrics import REGISTRY
from backbeat.testing.bus_fixtures import Recorder, eventually, label, play, running

GUILDS = [81_000_000_000_000_001 + i for i in range(6)]


def handled(outcome: str, channel: Channel = Channel.COMMANDS) -> float:
    value = REGISTRY.get_sample_value(
        "bus_messages_handled_total", {"channel": channel.value, "outcome": outcome}
    )
    return value or 0.0


async def test_messages_arrive_once_each_in_per_guild_order(bus: StreamBus) -> None:
    sent = {guild: [f"{guild}-{n}" for n in range(5)] for guild in GUILDS}
    for n in range(5):
        for guild in GUILDS:
            await bus.publish(Channel.COMMANDS, play(guild, sent[guild][n]))
    recorder = Recorder()
    consumer = bus.consume(Channel.COMMANDS, recorder, partitions=range(4), consumer="a")
    async with running(consumer):
        await eventually(lambda: len(recorder.deliveries) == 30)
    for guild in GUILDS:
        assert recorder.labels(guild) == sent[guild]
    for delivery in recorder.deliveries:
        assert delivery.partition == bus.config.partition_of(
            Channel.COMMANDS, delivery.message.guild_id
        )
        assert not delivery.redelivered


async def test_consumer_receives_what_was_published_while_it_was_stopped(
    bus: StreamBus,
) -> None:
    first = Recorder()
    async with running(bus.consume(Channel.COMMANDS, first, partitions=range(4), consumer="a")):
        await bus.publish(Channel.COMMANDS, play(GUILDS[0], "before"))
        await eventually(lambda: first.labels() == ["before"])
    await bus.publish(Channel.COMMANDS, play(GUILDS[0], "while-down"))
    second = Recorder()
    async with running(bus.consume(Channel.COMMANDS, second, partitions=range(4), consumer="a")):
        await eventually(lambda: second.labels() == ["while-down"])


async def test_tap_observes_every_message_published_after_it_opened(bus: StreamBus) -> None:
    await bus.publish(Channel.COMMANDS, play(GUILDS[0], "earlier"))
    async with bus.tap(Channel.COMMANDS) as tap:
        for guild in GUILDS:
            await bus.publish(Channel.COMMANDS, play(guild, f"tapped-{guild}"))
        seen: list[str] = []
        async for message in tap:
            seen.append(label(message))
            if len(seen) == len(GUILDS):
                break
    assert sorted(seen) == sorted(f"tapped-{guild}" for guild in GUILDS)


def _track() -> TrackSummary:
    return TrackSummary(
        title="Song", author="Band", identifier="abc", source_name="youtube", length_ms=1000
    )


async def test_to_discord_goes_to_the_partition_of_the_guild_shard(bus: StreamBus) -> None:
    guild = (5 << 22) | 77  # shard 5 % shard_count
    event = TrackStart(guild_id=guild, payload=TrackPayload(track=_track()))
    recorder = Recorder()
    shard = 5 % bus.config.shard_count
    consumer = bus.consume(Channel.TO_DISCORD, recorder, partitions=[shard], consumer="gw")
    async with running(consumer):
        await bus.publish(Channel.TO_DISCORD, event)
        await eventually(lambda: len(recorder.deliveries) == 1)
    assert recorder.deliveries[0].message == event
    assert recorder.deliveries[0].partition == shard


async def test_a_message_of_another_channel_is_refused(bus: StreamBus) -> None:
    with pytest.raises(ValueError, match="do not travel"):
        await bus.publish(Channel.TO_AUDIO, play(GUILDS[0]))


async def test_same_message_delivered_twice_is_recognised_by_id(bus: StreamBus) -> None:
    message = play(GUILDS[0], "twice")
    before = handled("duplicate")
    async with bus.tap(Channel.COMMANDS) as tap:
        await bus.publish(Channel.COMMANDS, message)
        await bus.publish(Channel.COMMANDS, message)
        await bus.publish(Channel.COMMANDS, play(GUILDS[0], "after"))
        ids = []
        async for seen in tap:
            ids.append(seen.id)
            if len(ids) == 3:
                break
    assert ids[0] == ids[1] == message.id
    recorder = Recorder()
    async with running(bus.consume(Channel.COMMANDS, recorder, partitions=range(4), consumer="a")):
        await eventually(lambda: recorder.labels() == ["twice", "after"])
    assert handled("duplicate") == before + 1


def _ui(guild: int, seq: int) -> UiUpdate:
    state = NowPlayingState(track=_track(), position_ms=seq)
    return UiUpdate(guild_id=guild, payload=StatePayload(state_seq=seq, state=state))


async def test_ui_now_skips_states_older_than_one_handled(bus: StreamBus) -> None:
    guild = GUILDS[0]
    for seq in (5, 3, 5, 6):
        await bus.publish(Channel.UI_NOW, _ui(guild, seq))
    recorder = Recorder()
    shard = bus.config.partition_of(Channel.UI_NOW, guild)
    async with running(bus.consume(Channel.UI_NOW, recorder, partitions=[shard], consumer="gw")):
        await eventually(lambda: len(recorder.deliveries) == 2)
        await bus.publish(Channel.UI_NOW, _ui(guild, 7))
        await eventually(lambda: len(recorder.deliveries) == 3)
    seqs = [d.message.payload.state_seq for d in recorder.deliveries]  # type: ignore[attr-defined]
    assert seqs == [5, 6, 7]


async def test_commands_carry_their_discord_context(bus: StreamBus) -> None:
    context = DiscordContext(user_id=7, locale="de", text_channel_id=11, voice_channel_id=12)
    message = play(GUILDS[1]).model_copy(update={"context": context})
    recorder = Recorder()
    async with running(bus.consume(Channel.COMMANDS, recorder, partitions=range(4), consumer="a")):
        await bus.publish(Channel.COMMANDS, message)
        await eventually(lambda: len(recorder.deliveries) == 1)
    assert recorder.deliveries[0].message == message
