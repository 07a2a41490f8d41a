"""Graceful hand-over and taking over another worker's players, with worker processes.

Two real audio workers (subprocesses) over the test's Redis and PostgreSQL, one Lavalink
emulator on a real-time clock. A second worker joining takes half the partitions: their
players move into its Lavalink session by REST. SIGTERM of the first: it stops reading,
records the positions, releases its leases at once and exits 0 within the lease TTL; the
second owns every partition soon after and takes the rest of the players over. Throughout,
a monitor polling the emulator checks that no guild ever sounds in two players and measures
the longest silence.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest
from audio_rig import AUDIO_BUS_CONFIG, WAIT, AudioRig, fast_settings, urls
from resilience_rig import PlaybackMonitor, WorkerProcess
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.streams import StreamBus
from backbeat.domain.messages.commands import Play, QueryPayload
from backbeat.domain.messages.to_discord import TrackStart
from backbeat.testing.lavalink.fixtures import EmulatorFactory

GUILDS = [1_000_000_200 + i for i in range(6)]  # three in each of the two partitions
#: The default lease TTL: lease rounds every 3.3 s, so a hand-over well under that shows the
#: pool-change signal at work (the other worker takes released leases within a 200 ms poll).
CONFIG = dataclasses.replace(AUDIO_BUS_CONFIG, lease_ttl_ms=10_000)
ALL = frozenset({0, 1})


async def _eventually(check: object, wait: float = WAIT) -> None:
    assert callable(check)
    deadline = time.monotonic() + wait
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)


async def test_sigterm_hands_every_player_over_without_overlap(
    audio_stack: str,
    audio_bus: StreamBus,
    audio_engine: AsyncEngine,
    audio_db_url: str,
    lavalink_emulator_factory: EmulatorFactory,
    request: pytest.FixtureRequest,
) -> None:
    if audio_stack == "embedded":
        pytest.skip("worker processes need the Redis bus")
    emulator = await lavalink_emulator_factory()  # real-time clock
    rig = AudioRig(bus=audio_bus, engine=audio_engine, emulator=emulator, settings=fast_settings())
    rig.db_url = audio_db_url
    await rig.start(start_worker=False)
    monitor = PlaybackMonitor(emulator)
    for guild in GUILDS:
        monitor.watch(guild)
    common = {
        "redis_url": request.getfixturevalue("redis_url"),
        "prefix": request.getfixturevalue("redis_key_prefix"),
        "db_url": audio_db_url,
        "emulator": emulator,
        "config": CONFIG,
    }
    workers: list[WorkerProcess] = []
    try:
        first = await WorkerProcess.start(worker_id="audio-first", **common)  # type: ignore[arg-type]
        workers.append(first)
        await first.wait_owned(ALL)
        monitor.start()
        for guild in GUILDS:
            query = QueryPayload(query=urls()["title"])
            await rig.send(Play(guild_id=guild, context=rig.context(), payload=query))
        for guild in GUILDS:
            await rig.discord.wait(TrackStart, lambda m, g=guild: m.guild_id == g)
        await _eventually(lambda: all(monitor.session_of(g) for g in GUILDS))
        first_session = monitor.session_of(GUILDS[0])
        assert {monitor.session_of(g) for g in GUILDS} == {first_session}

        # a second worker joins: one partition moves, its players into the second session
        second = await WorkerProcess.start(worker_id="audio-second", **common)  # type: ignore[arg-type]
        workers.append(second)
        await _eventually(lambda: any(o and o != ALL for o, _ in second.owned))
        moved = next(o for o, _ in second.owned if o)
        moved_guilds = [g for g in GUILDS if g % 2 in moved]
        await _eventually(
            lambda: all(monitor.session_of(g) not in (None, first_session) for g in moved_guilds)
        )
        second_session = monitor.session_of(moved_guilds[0])

        # SIGTERM: released at once, owned by the second worker soon after, exit 0 in the TTL
        sent = first.terminate()
        stopped = float((await first.wait_line(lambda s: s.startswith("stopped "))).split()[1])
        owned_at = await second.wait_owned(ALL)
        assert await asyncio.wait_for(first.process.wait(), WAIT) == 0
        exited = time.time()
        await _eventually(lambda: all(monitor.session_of(g) == second_session for g in GUILDS))
        await asyncio.sleep(0.5)
        handover_s = owned_at - sent
        print(
            f"\nhand-over: owned by the other worker {handover_s:.3f} s after SIGTERM; "
            f"hand-over done {stopped - sent:.3f} s, exit {exited - sent:.3f} s after it; "
            "longest silence per guild "
            + ", ".join(f"{monitor.guilds[g].longest_gap_s * 1000:.0f} ms" for g in GUILDS)
        )
        assert handover_s < 2.0, "released at once (not after the TTL), margin for the machine"
        assert stopped - sent < CONFIG.lease_ttl_ms / 1000, "hand-over within the lease TTL"
        for guild in GUILDS:
            record = monitor.guilds[guild]
            assert record.overlaps == 0, f"guild {guild} sounded twice at once"
            assert record.longest_gap_s < 1.0, f"guild {guild} silent {record.longest_gap_s} s"
            drift = monitor.drift_ms(guild)
            assert drift is not None
            assert abs(drift) < 2_000, (guild, drift, record)
    finally:
        await monitor.close()
        for worker in workers:
            await worker.close()
        await rig.close()
