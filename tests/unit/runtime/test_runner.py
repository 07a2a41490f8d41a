"""run_process: start in order, serve status, stop in reverse order on request or failure."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Sequence
from typing import Any

import pytest
import runtime_demo_component as demo
from runtime_support import MakeSettings, get_json

from backbeat.bus.streams import StreamBus
from backbeat.config import Settings
from backbeat.db.migrate import head_revision
from backbeat.errors import ConfigurationError
from backbeat.runtime import Component, ProcessContext
from backbeat.runtime.errors import (
    ComponentStartError,
    ComponentStopError,
    ProcessFailedError,
    StatusServerError,
)
from backbeat.runtime.runner import run_process, stop_on_signals
from backbeat.testing.bus_fixtures import eventually


@pytest.fixture(autouse=True)
def _fresh_events() -> None:
    demo.EVENTS.clear()


class Running:
    """run_process in a task, with the process context once every component started."""

    def __init__(self, settings: Settings, components: Sequence[Component], **options: Any) -> None:
        self.stop = asyncio.Event()
        self.started: asyncio.Future[ProcessContext] = asyncio.get_running_loop().create_future()
        self.task = asyncio.ensure_future(
            run_process(
                settings, components, self.stop, on_started=self.started.set_result, **options
            )
        )

    async def process(self) -> ProcessContext:
        waiters: set[asyncio.Future[Any]] = {self.started, self.task}
        done, _ = await asyncio.wait(waiters, timeout=30, return_when="FIRST_COMPLETED")
        assert self.started in done, "the process did not start"
        return self.started.result()

    async def result(self) -> None:
        await asyncio.wait_for(self.task, 30)


async def test_components_share_one_bus_serve_status_and_stop_in_reverse(
    make_settings: MakeSettings,
) -> None:
    consumer, sender = demo.DemoConsumer(), demo.DemoSender()
    running = Running(make_settings(), [consumer, sender])
    process = await running.process()
    url = process.status.url
    assert isinstance(consumer.bus, StreamBus)
    assert consumer.bus is sender.bus is await process.bus()
    await eventually(lambda: consumer.received >= 3, seconds=20)

    status, ready = await get_json(f"{url}/ready")
    assert status == 200
    assert ready["checks"] == {
        "started": True,
        "bus": True,
        "database": True,
        "demo.consuming": True,
        "demo-sender.sending": True,
    }
    status, stats = await get_json(f"{url}/stats")
    assert status == 200
    assert stats["component"] == "demo,demo-sender"
    assert set(stats["sections"]) == {"demo", "demo-sender"}
    assert stats["sections"]["demo"]["received"] >= 3
    assert stats["sections"]["demo"]["schema"] == head_revision()
    assert stats["sections"]["demo-sender"]["sent"] >= 3
    _, health = await get_json(f"{url}/health")
    assert health["component"] == "demo,demo-sender"

    running.stop.set()
    await running.result()
    assert demo.EVENTS == ["start demo", "start demo-sender", "stop demo-sender", "stop demo"]
    with pytest.raises(RuntimeError, match="closed"):
        await process.database()


async def test_a_failing_start_stops_the_started_ones_and_skips_the_rest(
    make_settings: MakeSettings,
) -> None:
    failing = demo.FailingStart()
    running = Running(make_settings(), [demo.DemoSender(), failing, demo.HangingStop()])
    with pytest.raises(ComponentStartError) as caught:
        await running.result()
    assert (
        str(caught.value) == "component 'failing' failed to start: RuntimeError: the node said no"
    )
    assert isinstance(caught.value.error, RuntimeError)
    assert demo.EVENTS == ["start demo-sender", "start failing", "stop failing", "stop demo-sender"]
    assert not running.started.done()


async def test_a_configuration_error_in_start_is_not_wrapped(make_settings: MakeSettings) -> None:
    running = Running(make_settings(), [demo.DemoSender(), demo.NeedsSetting()])
    with pytest.raises(ConfigurationError) as caught:
        await running.result()
    assert caught.value.variable == "BACKBEAT_LAVALINK_NODES"
    assert demo.EVENTS[-2:] == ["stop picky", "stop demo-sender"]


async def test_a_component_failing_while_running_stops_the_process(
    make_settings: MakeSettings,
) -> None:
    running = Running(make_settings(), [demo.DemoSender(), demo.CrashingLater()])
    with pytest.raises(ProcessFailedError) as caught:
        await running.result()
    assert str(caught.value) == "stopped after a failure: ConnectionResetError: lost the node"
    assert demo.EVENTS == [
        "start demo-sender",
        "start crashing",
        "stop crashing",
        "stop demo-sender",
    ]


async def test_a_stop_that_overruns_its_bound_is_given_up_and_the_others_still_stop(
    make_settings: MakeSettings,
) -> None:
    running = Running(make_settings(), [demo.DemoSender(), demo.HangingStop()], stop_timeout_s=0.2)
    await running.process()
    running.stop.set()
    with pytest.raises(ComponentStopError) as caught:
        await running.result()
    assert caught.value.names == ("hanging",)
    assert demo.EVENTS[-2:] == ["stop hanging", "stop demo-sender"]


async def test_a_stop_request_during_a_slow_start_cancels_it(make_settings: MakeSettings) -> None:
    running = Running(make_settings(), [demo.DemoSender(), demo.SlowStart(), demo.HangingStop()])
    await eventually(lambda: "start slow" in demo.EVENTS, seconds=20)
    running.stop.set()
    await running.result()
    assert demo.EVENTS == ["start demo-sender", "start slow", "stop slow", "stop demo-sender"]
    assert not running.started.done()


async def test_ready_is_false_until_every_component_started(make_settings: MakeSettings) -> None:
    slow = demo.SlowStart()
    running = Running(make_settings(), [slow])
    await eventually(lambda: slow.process is not None, seconds=20)
    assert slow.process is not None
    url = slow.process.status.url
    status, health = await get_json(f"{url}/health")
    assert (status, health["component"]) == (200, "slow")
    status, ready = await get_json(f"{url}/ready")
    assert (status, ready["checks"]) == (503, {"started": False})
    running.stop.set()
    await running.result()


async def test_a_taken_status_port_is_one_clear_error(make_settings: MakeSettings) -> None:
    first = Running(make_settings(), [demo.DemoSender()])
    process = await first.process()
    port = process.status.port
    assert port is not None
    second = Running(make_settings(STATUS_PORT=str(port)), [demo.DemoSender()])
    with pytest.raises(StatusServerError, match=f"cannot listen on 127.0.0.1:{port}"):
        await second.result()
    first.stop.set()
    await first.result()
    assert demo.EVENTS == ["start demo-sender", "stop demo-sender"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_first_signal_asks_the_process_to_stop(signum: signal.Signals) -> None:
    stop = asyncio.Event()
    with stop_on_signals(stop):
        os.kill(os.getpid(), signum)
        await asyncio.wait_for(stop.wait(), 30)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
