"""Runs the real gateway (unmodified discord.py) against the Discord emulator over a real bus.

The tests play audio's side over the bus themselves: they read ``commands`` and ``to-audio``
with taps and publish replies and states on ``to-discord`` and ``ui:now``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.interface import Bus
from backbeat.cache import CacheKeys, CacheStore
from backbeat.config import SECTIONS, DiscordSettings, GatewaySettings, Settings
from backbeat.domain.messages import Channel, Envelope, NowPlayingState, ReplyTarget, TrackSummary
from backbeat.domain.messages.commands import CommandEnvelope
from backbeat.domain.messages.to_discord import (
    Notice,
    NoticePayload,
    QueueEntry,
    QueuePage,
    QueuePagePayload,
)
from backbeat.domain.messages.ui import StatePayload, UiCreate
from backbeat.gateway.app import Gateway, GatewayOptions
from backbeat.testing.discord import DiscordEmulator

FAST = GatewayOptions(identify_delay_s=0, guild_ready_timeout_s=0.1)
EPHEMERAL = 64
"""The message flag of an answer only its user sees."""
CHANNEL_MESSAGE = 4
"""The interaction callback type of an answer with a message."""


def gateway_settings(emu: DiscordEmulator, *, shard_count: int = 1, **gateway: Any) -> Settings:
    """Defaults for every section (no environment, no .env), Discord pointed at ``emu``."""
    sections: dict[str, Any] = {cls.section: cls(_env_file=None) for cls in SECTIONS}  # type: ignore[call-arg]
    sections["discord"] = DiscordSettings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=emu.token,
        discord_api_base=emu.rest_url,
        discord_gateway_url=emu.gateway_url,
        shard_count=shard_count,
    )
    sections["gateway"] = GatewaySettings(_env_file=None, **gateway)  # type: ignore[call-arg]
    return Settings(**sections)


@contextlib.asynccontextmanager
async def running_gateway(
    settings: Settings,
    *,
    bus: Bus,
    engine: AsyncEngine,
    cache: CacheStore,
    keys: CacheKeys,
    options: GatewayOptions = FAST,
) -> AsyncIterator[Gateway]:
    gateway = Gateway(settings, bus=bus, engine=engine, cache=cache, keys=keys, options=options)
    await gateway.start()
    try:
        async with asyncio.timeout(30):
            await gateway.consuming.wait()
        await until(gateway.ready, 30)
        yield gateway
    finally:
        await gateway.stop()


class StartGateway(Protocol):
    """The ``start_gateway`` fixture: :func:`running_gateway` on the test's emulator, bus,
    database and cache (``settings``: else :func:`gateway_settings`; ``cache``: another store,
    as a new process would have)."""

    def __call__(
        self, settings: Settings | None = None, *, cache: CacheStore | None = None
    ) -> AbstractAsyncContextManager[Gateway]: ...


class Watch:
    """Everything published on a channel from now on, with waiting for a match."""

    def __init__(self, bus: Bus, channel: Channel) -> None:
        self._bus = bus
        self._channel = channel
        self.seen: list[Envelope] = []
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._opened = asyncio.Event()

    async def __aenter__(self) -> Watch:
        self._task = asyncio.create_task(self._read())
        await self._opened.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _read(self) -> None:
        async with self._bus.tap(self._channel) as tap:
            self._opened.set()
            async for message in tap:
                self.seen.append(message)
                self._changed.set()

    async def next(
        self, predicate: Callable[[Envelope], bool] = lambda m: True, within: float = 10.0
    ) -> Envelope:
        async with asyncio.timeout(within):
            while True:
                for message in self.seen:
                    if predicate(message):
                        self.seen.remove(message)
                        return message
                self._changed.clear()
                await self._changed.wait()

    def of_type(self, kind: str) -> list[Envelope]:
        return [m for m in self.seen if m.type == kind]


async def until(probe: Callable[[], Any], within: float = 10.0, every: float = 0.02) -> Any:
    """Poll an async or sync ``probe`` until it returns something truthy."""
    async with asyncio.timeout(within):
        while True:
            value = probe()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(every)


def track(title: str = "Lofi Beats", length_ms: int = 180_000) -> TrackSummary:
    return TrackSummary(
        title=title,
        author="Chill Artist",
        uri=f"https://example.test/{title.replace(' ', '-').lower()}",
        identifier=title.lower(),
        source_name="youtube",
        length_ms=length_ms,
        artwork_url="https://example.test/art.jpg",
    )


def state(place: Place, **changes: Any) -> NowPlayingState:
    values: dict[str, Any] = {
        "track": track(),
        "position_ms": 5_000,
        "requester_id": place.alice,
        "text_channel_id": place.text,
        "voice_channel_id": place.voice,
        "queue_length": 2,
        "queue_length_ms": 400_000,
        "listeners": 1,
    }
    values.update(changes)
    return NowPlayingState(**values)


@dataclass
class Place:
    guild: int
    text: int
    voice: int
    alice: int
    bob: int
    other_voice: int = 0
    extra: dict[str, int] = field(default_factory=dict)


async def make_place(emu: DiscordEmulator, shard: tuple[int, int] = (0, 1)) -> Place:
    control = emu.control
    alice = int((await control.create_user("alice"))["id"])
    bob = int((await control.create_user("bob"))["id"])
    guild = int((await control.create_guild("g", shard=shard, members=[alice, bob]))["id"])
    text = int((await control.create_channel(guild, "general"))["id"])
    voice = int((await control.create_channel(guild, "Lounge", "voice"))["id"])
    other = int((await control.create_channel(guild, "Studio", "voice"))["id"])
    return Place(guild, text, voice, alice, bob, other)


def notice(command: CommandEnvelope, key: str, **params: str | int) -> Notice:
    """Audio's confirmation (message ``key`` with ``params``) in reply to ``command``."""
    return Notice(
        **command.reply_fields(),  # type: ignore[arg-type]
        payload=NoticePayload(target=ReplyTarget(context=command.context), key=key, params=params),
    )


def queue_page(
    command: CommandEnvelope,
    entries: list[QueueEntry],
    *,
    total: int,
    total_length_ms: int,
    page: int = 1,
    pages: int = 1,
    now_playing: TrackSummary | None = None,
) -> QueuePage:
    """Audio's ``/queue`` page in reply to ``command``."""
    return QueuePage(
        **command.reply_fields(),  # type: ignore[arg-type]
        payload=QueuePagePayload(
            target=ReplyTarget(context=command.context),
            page=page,
            pages=pages,
            total=total,
            total_length_ms=total_length_ms,
            now_playing=now_playing,
            entries=entries,
        ),
    )


async def live_messages(emu: DiscordEmulator, place: Place) -> list[dict[str, Any]]:
    """The place's text channel's messages with an embed, less the deleted ones."""
    return [
        m
        for m in await emu.control.channel_messages(place.text)
        if m["embeds"] and not m.get("deleted")
    ]


async def post_now_playing(
    emu: DiscordEmulator,
    bus: Bus,
    place: Place,
    current: NowPlayingState | None = None,
    *,
    seq: int = 1,
) -> dict[str, Any]:
    """Publishes audio's first ui:now state (``current``, else :func:`state`) and waits for
    the now-playing message it posts."""
    snapshot = current if current is not None else state(place)
    await bus.publish(
        Channel.UI_NOW,
        UiCreate(guild_id=place.guild, payload=StatePayload(state_seq=seq, state=snapshot)),
    )
    [message] = await until(lambda: live_messages(emu, place))
    return message  # type: ignore[no-any-return]


async def acknowledged_play(emu: DiscordEmulator, place: Place, query: str) -> dict[str, Any]:
    """Alice's ``/play query``, once answered: at once, with a message only she sees; its
    interaction record."""
    created = await emu.control.invoke_command(
        guild_id=place.guild,
        channel_id=place.text,
        user_id=place.alice,
        name="play",
        options={"query": query},
    )
    record: dict[str, Any] = await emu.control.interaction(created["id"], min_events=1)
    assert record["initial_response"]["type"] == CHANNEL_MESSAGE
    assert record["original_message"]["flags"] & EPHEMERAL
    return record


async def is_deleted(emu: DiscordEmulator, message_id: str) -> bool:
    """Whether the emulator shows the message as deleted."""
    return bool((await emu.control.message(message_id)).get("deleted"))


def buttons_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in message.get("components", []) for c in row["components"]]
