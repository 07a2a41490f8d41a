"""Small real components for the runtime's tests, loaded by name like any component module.

``demo`` consumes ``discord-bot:to-audio`` and counts what arrives; ``demo-sender`` publishes
a listener count there every few milliseconds. Run together on the in-process bus, ``demo``
receives only if both got the same bus object. Both read the database's schema revision
for their ``/stats`` section and add a readiness check. Other factories here fail on
purpose (at build, at start, while running, at stop) for the error paths.

Register them with ``backbeat run --component-module demo=runtime_demo_component
--component-module demo-sender=runtime_demo_component:SENDER_FACTORY`` (this directory on
``PYTHONPATH``) or ``component_modules({...})``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus import StreamBus
from backbeat.bus.interface import Consumer, Delivery
from backbeat.config import Settings
from backbeat.domain.messages import Channel
from backbeat.domain.messages.to_audio import ListenerCount, ListenerCountPayload
from backbeat.errors import ConfigurationError
from backbeat.runtime import Component, ProcessContext

GUILD_ID = 81_000_000_000_000_042
GROUP = "runtime-demo"

#: What every demo component did, in order ("start demo", "stop demo-sender"…).
EVENTS: list[str] = []


class DemoConsumer:
    """Consumes to-audio in its own group; ready while its consumer task runs."""

    def __init__(self, name: str = "demo") -> None:
        self._name = name
        self.received = 0
        self.bus: StreamBus | None = None
        self.engine: AsyncEngine | None = None
        self._consumer: Consumer | None = None
        self._task: asyncio.Task[Any] | None = None

    @property
    def name(self) -> str:
        return self._name

    async def start(self, process: ProcessContext) -> None:
        EVENTS.append(f"start {self.name}")
        self.bus = await process.bus()
        self.engine = await process.database()
        partitions = range(self.bus.config.partition_count(Channel.TO_AUDIO))
        self._consumer = self.bus.consume(
            Channel.TO_AUDIO, self._handle, partitions=partitions, group=GROUP, consumer="demo"
        )
        self._task = process.create_task(self._consumer.run(), name=f"{self.name}.consumer")
        process.status.add_readiness_check(f"{self.name}.consuming", self._consuming)
        process.status.add_stats_section(self.name, self._stats)

    async def stop(self) -> None:
        EVENTS.append(f"stop {self.name}")
        if self._consumer is not None:
            await self._consumer.stop()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _handle(self, delivery: Delivery) -> None:
        self.received += 1

    async def _consuming(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _stats(self) -> dict[str, Any]:
        return {"received": self.received, "schema": await schema_revision(self.engine)}


class DemoSender:
    """Publishes a listener count every 20 ms; its stats section is a plain (sync) mapping."""

    def __init__(self, name: str = "demo-sender") -> None:
        self._name = name
        self.sent = 0
        self.bus: StreamBus | None = None
        self._task: asyncio.Task[Any] | None = None

    @property
    def name(self) -> str:
        return self._name

    async def start(self, process: ProcessContext) -> None:
        EVENTS.append(f"start {self.name}")
        self.bus = await process.bus()
        self._task = process.create_task(self._send(self.bus), name=f"{self.name}.sender")
        process.status.add_readiness_check(f"{self.name}.sending", self._sending)
        process.status.add_stats_section(self.name, lambda: {"sent": self.sent})

    async def stop(self) -> None:
        EVENTS.append(f"stop {self.name}")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _send(self, bus: StreamBus) -> None:
        while True:
            payload = ListenerCountPayload(channel_id=None, listeners=self.sent)
            await bus.publish(Channel.TO_AUDIO, ListenerCount(guild_id=GUILD_ID, payload=payload))
            self.sent += 1
            await asyncio.sleep(0.02)

    async def _sending(self) -> bool:
        return self._task is not None and not self._task.done()


class FailingStart:
    """Starts a task, then raises from ``start``: the runner must still call ``stop``."""

    name = "failing"

    def __init__(self) -> None:
        self.stopped = False

    async def start(self, process: ProcessContext) -> None:
        EVENTS.append(f"start {self.name}")
        process.create_task(asyncio.sleep(3600), name="failing.sleeper")
        raise RuntimeError("the node said no")

    async def stop(self) -> None:
        EVENTS.append(f"stop {self.name}")
        self.stopped = True


class CrashingLater:
    """Starts fine; its supervised task raises soon after."""

    name = "crashing"

    async def start(self, process: ProcessContext) -> None:
        EVENTS.append(f"start {self.name}")
        process.create_task(self._crash(), name="crashing.loop")

    async def stop(self) -> None:
        EVENTS.append(f"stop {self.name}")

    async def _crash(self) -> None:
        await asyncio.sleep(0.05)
        raise ConnectionResetError("lost the node")


class HangingStop:
    """Starts fine and never finishes stopping."""

    name = "hanging"

    async def start(self, process: ProcessContext) -> None:
        EVENTS.append(f"start {self.name}")

    async def stop(self) -> None:
        EVENTS.append(f"stop {self.name}")
        await asyncio.Event().wait()


class SlowStart:
    """A start that never returns by itself (waits for a backend that never comes)."""

    name = "slow"

    def __init__(self) -> None:
        self.process: ProcessContext | None = None

    async def start(self, process: ProcessContext) -> None:
        EVENTS.append(f"start {self.name}")
        self.process = process
        await asyncio.Event().wait()

    async def stop(self) -> None:
        EVENTS.append(f"stop {self.name}")


class NeedsSetting:
    """Raises ConfigurationError from ``start``."""

    name = "picky"

    async def start(self, process: ProcessContext) -> None:
        raise ConfigurationError("BACKBEAT_LAVALINK_NODES", "needs at least one node")

    async def stop(self) -> None:
        EVENTS.append(f"stop {self.name}")


async def schema_revision(engine: AsyncEngine | None) -> str | None:
    """The alembic revision the database is at."""
    if engine is None:
        return None
    async with engine.connect() as connection:
        return (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()


def needs_bot_user_id(settings: Settings) -> Component:
    """As the audio component's factory: no bot user id, no component."""
    if settings.discord.bot_user_id is None:
        raise ConfigurationError(
            "BACKBEAT_BOT_USER_ID", "needed to run demo; set it or BACKBEAT_DISCORD_TOKEN"
        )
    return DemoConsumer()


def factory_bug(settings: Settings) -> Component:
    raise KeyError("oops")


def _factory(build: Callable[[], Component]) -> Callable[[Settings], Component]:
    def factory(settings: Settings) -> Component:
        return build()

    return factory


COMPONENT_FACTORY = _factory(DemoConsumer)
SENDER_FACTORY = _factory(DemoSender)
FAILING_START_FACTORY = _factory(FailingStart)
CRASHING_FACTORY = _factory(CrashingLater)
HANGING_STOP_FACTORY = _factory(HangingStop)
SLOW_START_FACTORY = _factory(SlowStart)
NEEDS_SETTING_FACTORY = _factory(NeedsSetting)
NEEDS_BOT_USER_ID_FACTORY = needs_bot_user_id
FACTORY_BUG = factory_bug
WRONG_NAME_FACTORY = _factory(lambda: DemoConsumer("not-the-registered-name"))
