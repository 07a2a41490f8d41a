"""Seed flow "Metrics collection": the gateway and audio each export the seed's metric
families on ``/metrics`` of their process (one process when embedded), the figures follow
what happened (an acknowledgement, a Discord API error, operation durations, plays, the
queue size), and the database holds PlaybackHistory, AuditLog and EventStoreEvent rows."""

from __future__ import annotations

import pytest
from e2e_rig import Deployment, answered, make_place, player, scrape, total, until
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from backbeat.db.models import AuditLog, EventStoreEvent, PlaybackHistory

pytestmark = pytest.mark.slow

SEND_MESSAGES = 1 << 11
SEED_FAMILIES = {
    "gateway": [
        "discord_api_errors",
        "discord_operation_retries",
        "discord_operation_duration_seconds",
    ],
    "audio": ["track_plays", "queue_size", "autoplay_triggers"],
}


async def _families(url: str) -> set[str]:
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
        text = await response.text()
    return {family.name for family in text_string_to_metric_families(text)}


async def test_metrics_collection_flow(deployment: Deployment) -> None:
    d = deployment
    place = await make_place(d.emu)
    await d.emu.control.move_voice(place.guild, place.alice, place.voice)
    # The bot may not post in the text channel: the now-playing message is refused (50013).
    await d.emu.control.set_overwrite(
        place.text, d.emu.bot_user_id, target_type=1, deny=SEND_MESSAGES
    )
    for component, families in SEED_FAMILIES.items():
        exported = await _families(d.component_urls[component])
        assert set(families) <= exported, (component, exported)

    gateway_url, audio_url = d.component_urls["gateway"], d.component_urls["audio"]
    before_gateway, before_audio = await scrape([gateway_url]), await scrape([audio_url])
    for query in ("house", "jazz"):
        created = await d.emu.control.invoke_command(
            guild_id=place.guild,
            channel_id=place.text,
            user_id=place.alice,
            name="play",
            options={"query": query},
        )
        await until(lambda created=created: answered(d.emu, created["id"]))
    await until(lambda: player(d.lavalink, place.guild))

    async def refused() -> bool:
        found = await scrape([gateway_url])
        errors = total(found, "discord_api_errors_total", operation="message.send", code="50013")
        return errors > total(
            before_gateway, "discord_api_errors_total", operation="message.send", code="50013"
        )

    await until(refused)

    async def queued() -> bool:  # audio refreshes its gauges every few seconds
        return total(await scrape([audio_url]), "queue_size") == 1

    await until(queued)
    gateway, audio = await scrape([gateway_url]), await scrape([audio_url])

    def moved(after: dict, before: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
        return total(after, name, **labels) - total(before, name, **labels)

    # The gateway's process: acknowledgements and Discord operations.
    assert moved(gateway, before_gateway, "gateway_interaction_ack_seconds_count") == 2
    assert (
        moved(
            gateway,
            before_gateway,
            "discord_operation_duration_seconds_count",
            operation="interaction.ack",
        )
        == 2
    )
    assert (
        moved(
            gateway,
            before_gateway,
            "discord_api_errors_total",
            operation="message.send",
            code="50013",
        )
        >= 1
    )
    # Audio's process: one play (the second track waits), the queue size, the commands.
    assert moved(audio, before_audio, "track_plays_total", autoplay="false") == 1
    assert moved(audio, before_audio, "audio_command_duration_seconds_count", command="play") == 2
    assert moved(audio, before_audio, "autoplay_triggers_total") == 0
    if d.setup == "distributed":  # each process exports its own component's metrics only
        assert total(gateway, "track_plays_total") == 0
        assert total(audio, "gateway_interaction_ack_seconds_count") == 0

    # The database side of the diagram.
    async with d.engine.connect() as conn:

        async def count(model: type) -> int:
            query = select(func.count()).select_from(model).where(model.guild_id == place.guild)  # type: ignore[attr-defined]
            return int((await conn.execute(query)).scalar_one())

        assert await count(PlaybackHistory) == 1
        assert await count(AuditLog) == 2
        assert await count(EventStoreEvent) >= 3
