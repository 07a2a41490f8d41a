"""Two ``backbeat run gateway`` processes (real subprocesses) splitting four shards over Redis
and PostgreSQL: the emulator spaces IDENTIFYs per concurrency bucket and refuses any that
come too soon, the processes start at the same moment, and none is refused; each process
holds its own shards' guilds and renders the now-playing message of those guilds only."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from gateway_audio_rig import postgresql_database
from gateway_harness import make_place, state, until
from gateway_process import WAIT_S, gateway_process, is_ready, run_env, status_get

from backbeat.bus.factory import redis_bus
from backbeat.bus.interface import BusConfig
from backbeat.config import BusSettings
from backbeat.domain.messages import Channel
from backbeat.domain.messages.ui import StatePayload, UiCreate
from backbeat.testing.discord import DiscordEmulator, shard_of
from backbeat.testing.discord.gateway import GatewayOptions

pytestmark = pytest.mark.slow

SHARDS = 4
IDENTIFY_INTERVAL_S = 1.0
"""The emulator's spacing per bucket; the gateway's is a little longer (connect jitter)."""
GATEWAY_INTERVAL_S = 1.3


async def test_two_processes_split_four_shards_with_paced_identifies(
    tmp_path: Path, redis_url: str, redis_key_prefix: str
) -> None:
    options = GatewayOptions(identify_interval=IDENTIFY_INTERVAL_S, max_concurrency=2)
    async with (
        postgresql_database(tmp_path) as database_url,
        DiscordEmulator(port=0, shard_count=SHARDS, gateway_options=options) as emu,
    ):
        places = [await make_place(emu, shard=(shard, SHARDS)) for shard in range(SHARDS)]
        assert [shard_of(p.guild, SHARDS) for p in places] == list(range(SHARDS))
        base = run_env(
            emu,
            tmp_path,
            {
                "BACKBEAT_DATABASE_URL": database_url,
                "BACKBEAT_REDIS_URL": redis_url,
                "BACKBEAT_REDIS_KEY_PREFIX": redis_key_prefix,
                "BACKBEAT_SHARD_COUNT": str(SHARDS),
                "BACKBEAT_IDENTIFY_INTERVAL_S": str(GATEWAY_INTERVAL_S),
            },
        )
        split = {"0,1": [0, 1], "2,3": [2, 3]}  # buckets 0 and 1 in each process
        async with contextlib.AsyncExitStack() as stack:
            urls = await asyncio.gather(
                *(
                    stack.enter_async_context(
                        gateway_process(base | {"BACKBEAT_SHARD_IDS": ids}, tmp_path)
                    )
                    for ids in split
                )
            )
            for url, _ in urls:
                await until(lambda u=url: is_ready(u), within=WAIT_S)  # type: ignore[misc]
            sessions = await emu.control.sessions(connected=SHARDS)
            assert sessions["identify_refused"] == 0
            assert sessions["identify_count"] == SHARDS
            connected = sorted(s["shard"][0] for s in sessions["sessions"] if s["connected"])
            assert connected == list(range(SHARDS))

            # Each process holds its own shards' guilds and reads their partitions.
            for (url, _), shards in zip(urls, split.values(), strict=True):
                _, stats = await status_get(f"{url}/stats")
                section = stats["sections"]["gateway"]
                assert section["partitions"] == shards
                assert section["guilds"] == len(shards)

            # A state for every guild: each is rendered, by the process owning its shard.
            config = BusConfig(
                partitions=BusSettings(_env_file=None).bus_partitions, shard_count=SHARDS
            )  # type: ignore[call-arg]
            audio_side = redis_bus(redis_url, prefix=redis_key_prefix, config=config)
            try:
                for place in places:
                    await audio_side.publish(
                        Channel.UI_NOW,
                        UiCreate(
                            guild_id=place.guild,
                            payload=StatePayload(state_seq=1, state=state(place)),
                        ),
                    )
                for place in places:
                    await until(lambda p=place: _posted(emu, p.text), within=WAIT_S)  # type: ignore[misc]
            finally:
                await audio_side.close()


async def _posted(emu: DiscordEmulator, channel_id: int) -> bool:
    messages = await emu.control.channel_messages(channel_id)
    return any(m["embeds"] for m in messages)
