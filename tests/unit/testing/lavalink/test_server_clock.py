"""The emulator's clocks and the control API's handling of bad input."""

from __future__ import annotations

import time

import aiohttp
import pytest

from backbeat.testing.lavalink.clock import ManualClock, ScaledClock
from backbeat.testing.lavalink.server import LavalinkEmulator


def test_manual_clock_moves_only_when_advanced() -> None:
    clock = ManualClock()
    assert clock.now_ms() == 0
    clock.advance(250)
    assert clock.now_ms() == 250
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


def test_scaled_clock_runs_faster_and_keeps_time_continuous_on_speed_change() -> None:
    clock = ScaledClock(speed=1000)
    start = clock.now_ms()
    time.sleep(0.01)
    assert clock.now_ms() - start >= 10_000
    clock.advance(5_000)
    before = clock.now_ms()
    clock.set_speed(0.001)
    assert clock.now_ms() >= before
    assert clock.now_ms() - before < 1_000
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(speed=0)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/clock/advance", {}),
        ("/clock/advance", {"ms": -5}),
        ("/clock/speed", {"speed": 2}),
        ("/faults/load", {"match": "x", "kind": "meteor"}),
        ("/faults/http", {"count": 1, "status": 200}),
        ("/faults/delay", "not an object"),
    ],
)
async def test_control_api_rejects_bad_input_with_400(
    lavalink_emulator: LavalinkEmulator, path: str, body: object
) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(lavalink_emulator.control_url + path, json=body) as response,
    ):
        assert response.status == 400
        assert "error" in await response.json()
