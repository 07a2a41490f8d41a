"""``backbeat run gateway`` as an operator runs it, against the Discord emulator."""

from __future__ import annotations

from pathlib import Path

from gateway_harness import until
from gateway_process import WAIT_S, gateway_process, is_ready, run_env

from backbeat.testing.discord import DiscordEmulator


async def test_backbeat_run_gateway_connects_is_ready_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    async with DiscordEmulator(port=0) as emu:
        await emu.control.create_guild("g", shard=(0, 1))
        env = run_env(emu, tmp_path, {"BACKBEAT_SHARD_COUNT": "1"})
        # Exits 0 on SIGTERM after the block (asserted by gateway_process).
        async with gateway_process(env, tmp_path, wait_for=("gateway consuming",)) as (url, _):
            assert await until(lambda: is_ready(url), within=WAIT_S)
            sessions = await emu.control.sessions(connected=1)
            assert [s["shard"] for s in sessions["sessions"] if s["connected"]] == [[0, 1]]
