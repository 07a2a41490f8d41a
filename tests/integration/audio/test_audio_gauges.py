"""The worker's gauges: players, players playing and the upcoming items of its queues."""

from __future__ import annotations

import pytest
from audio_rig import AudioRig, urls

from backbeat.domain.messages.commands import Play, QueryPayload
from backbeat.domain.messages.to_discord import Notice, TrackStart
from backbeat.observability.metrics import REGISTRY

GUILD = 1_000_000_002  # partition 0 of 2


def _gauge(name: str) -> float | None:
    return REGISTRY.get_sample_value(name)


async def test_gauges_count_players_playing_and_queued_items(rig: AudioRig) -> None:
    tracks = urls()
    for query in (tracks["one"], tracks["two"]):
        command = await rig.send(
            Play(guild_id=GUILD, context=rig.context(), payload=QueryPayload(query=query))
        )
        reply = await rig.reply(command)
        assert isinstance(reply, Notice), reply
    await rig.discord.wait(TrackStart, lambda m: m.guild_id == GUILD)
    worker = rig.worker
    assert worker is not None

    await worker.refresh_gauges()

    assert _gauge("audio_players") == 1
    assert _gauge("audio_players_playing") == 1
    assert _gauge("queue_size") == 1  # the second track waits
    assert await worker.stats_players() == {"players": 1, "playing": 1}
    queue = worker.audio.queue
    assert await queue.count(owned={0}, partitions=2) == 1
    assert await queue.count(owned={1}, partitions=2) == 0
    with pytest.raises(ValueError, match="both"):
        await queue.count(owned={0})
