"""Two gateway processes splitting two shards: each reads only its shards' partitions."""

from __future__ import annotations

import contextlib

from gateway_harness import FAST, gateway_settings, make_place, running_gateway, state, until
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.interface import BusConfig
from backbeat.cache import CacheKeys, CacheStore
from backbeat.config import DiscordSettings
from backbeat.domain.messages import Channel
from backbeat.domain.messages.ui import StatePayload, UiCreate
from backbeat.testing.bus_fixtures import MakeBus
from backbeat.testing.discord import DiscordEmulator, shard_of

TWO_SHARDS = BusConfig(partitions=4, shard_count=2, block_ms=100, claim_idle_ms=500)


async def test_each_process_serves_the_guilds_of_its_own_shard(
    emu: DiscordEmulator,
    make_bus: MakeBus,
    engine: AsyncEngine,
    cache: CacheStore,
    cache_keys: CacheKeys,
) -> None:
    places = [await make_place(emu, shard=(shard, 2)) for shard in (0, 1)]
    assert [shard_of(p.guild, 2) for p in places] == [0, 1]
    base = gateway_settings(emu, shard_count=2)
    processes = []
    for shard in (0, 1):
        discord_settings = DiscordSettings(
            _env_file=None,  # type: ignore[call-arg]
            **(base.discord.model_dump() | {"shard_ids": [shard]}),
        )
        processes.append(base.model_copy(update={"discord": discord_settings}))
    audio_side = make_bus(TWO_SHARDS)
    async with contextlib.AsyncExitStack() as stack:
        gateways = [
            await stack.enter_async_context(
                running_gateway(
                    settings,
                    bus=make_bus(TWO_SHARDS),
                    engine=engine,
                    cache=cache,
                    keys=cache_keys,
                    options=FAST,
                )
            )
            for settings in processes
        ]
        assert [g.partitions for g in gateways] == [[0], [1]]
        for gateway, place in zip(gateways, places, strict=True):
            assert [g.id for g in gateway.bot.guilds] == [place.guild]
        for place in places:
            await audio_side.publish(
                Channel.UI_NOW,
                UiCreate(
                    guild_id=place.guild, payload=StatePayload(state_seq=1, state=state(place))
                ),
            )
        for gateway, place in zip(gateways, places, strict=True):
            await until(lambda g=gateway, p=place: g.ui.message_of(p.guild))  # type: ignore[misc]
            other = places[1] if place is places[0] else places[0]
            assert gateway.ui.message_of(other.guild) is None
