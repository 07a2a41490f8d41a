"""A running audio worker for integration tests: real bus, real SQL, the Lavalink emulator.

The rig plays the gateway: it answers each ``voice-join`` the worker publishes on
``to-discord`` by publishing raw ``VOICE_STATE_UPDATE`` / ``VOICE_SERVER_UPDATE`` on
``to-audio`` (in a chosen order, duplicated, one missing, or not at all), and ``voice-leave``
by a voice state with no channel. It records everything audio publishes on ``to-discord``
and ``ui:now`` (through ``bus.tap``) for the assertions.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.audio.lavalink import LavalinkPlayers
from backbeat.audio.worker import AudioWorker
from backbeat.bus.interface import BusConfig
from backbeat.bus.streams import StreamBus
from backbeat.cache.search import SearchCache
from backbeat.cache.search_throttle import SearchThrottle
from backbeat.config import AudioSettings, LavalinkNode
from backbeat.db.models import (
    AppliedMessage,
    AuditLog,
    EventStoreEvent,
    PlaybackHistory,
)
from backbeat.domain.messages import Channel, DiscordContext, Envelope, InteractionRef
from backbeat.domain.messages.commands import CommandEnvelope
from backbeat.domain.messages.to_audio import (
    ListenerCount,
    ListenerCountPayload,
    VoiceServerPayload,
    VoiceServerUpdate,
    VoiceStatePayload,
    VoiceStateUpdate,
)
from backbeat.domain.messages.to_discord import VoiceJoin, VoiceLeave
from backbeat.testing.dns import CATALOG_HOSTS, FakeResolver
from backbeat.testing.lavalink.catalog import Catalog
from backbeat.testing.lavalink.server import LavalinkEmulator

BOT = 424_242
USER = 4_200_001
WAIT = 15.0  # generous: the machine is shared

#: Leases long enough for a loaded machine, claims short enough for redelivery tests.
AUDIO_BUS_CONFIG = BusConfig(
    partitions=2,
    shard_count=1,
    max_deliveries=5,
    claim_idle_ms=500,
    lease_ttl_ms=3_000,
    block_ms=100,
    batch=50,
)

VoiceMode = Literal["state-first", "server-first", "duplicated", "no-server", "silent"]
M = TypeVar("M", bound=Envelope)


def fast_settings(**overrides: Any) -> AudioSettings:
    values: dict[str, Any] = {
        "voice_connect_timeout_s": 1.5,
        "idle_leave_s": 60.0,
        "alone_pause_s": 60.0,
        "alone_leave_s": 120.0,
        # the catalog's hosts need no resolver (tests use no real DNS)
        "url_allowlist": list(CATALOG_HOSTS),
    }
    values.update(overrides)
    return AudioSettings(**values)


def urls() -> dict[str, str]:
    """Identifiers of playable catalog tracks (URLs) and a playlist, from the emulator's catalog."""
    catalog = Catalog.default()
    playable = [t for t in catalog.tracks if t.youtube_id and not t.failure and not t.is_stream]
    first, second, third = playable[0], playable[1], playable[2]
    streams = [t for t in catalog.tracks if t.youtube_id and not t.failure and t.is_stream]
    found = {
        "one": f"https://www.youtube.com/watch?v={first.youtube_id}",
        "two": f"https://www.youtube.com/watch?v={second.youtube_id}",
        "three": f"https://www.youtube.com/watch?v={third.youtube_id}",
        "playlist": f"https://www.youtube.com/watch?v={first.youtube_id}&list=RD{first.youtube_id}",
        "title": first.title,
    }
    if streams:
        found["stream"] = f"https://www.youtube.com/watch?v={streams[0].youtube_id}"
    return found


class Recorder:
    """Everything published on one channel since the rig started."""

    def __init__(self) -> None:
        self.seen: list[Envelope] = []
        self._changed = asyncio.Event()

    def add(self, message: Envelope) -> None:
        self.seen.append(message)
        self._changed.set()

    def of(self, kind: type[M], guild_id: int | None = None) -> list[M]:
        return [
            m
            for m in self.seen
            if isinstance(m, kind) and (guild_id is None or m.guild_id == guild_id)
        ]

    def correlated(self, command: Envelope) -> list[Envelope]:
        return [m for m in self.seen if m.correlation_id == command.id]

    async def wait(
        self, kind: type[M], match: Callable[[M], bool] = lambda _: True, wait: float = WAIT
    ) -> M:
        deadline = time.monotonic() + wait
        while True:
            for message in self.seen:
                if isinstance(message, kind) and match(message):
                    return message
            left = deadline - time.monotonic()
            if left <= 0:
                kinds = [m.type for m in self.seen[-20:]]
                raise AssertionError(f"no {kind.__name__} matching within {wait} s; last: {kinds}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))

    async def count(
        self, kind: type[M], n: int, guild_id: int | None = None, wait: float = WAIT
    ) -> list[M]:
        """Wait until at least ``n`` messages of ``kind`` (of the guild) were seen."""
        deadline = time.monotonic() + wait
        while len(found := self.of(kind, guild_id)) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{len(found)} {kind.__name__} within {wait} s, not {n}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))
        return found


class AudioRig:
    """One audio worker with its emulated node, the fake gateway and the recorders."""

    def __init__(
        self,
        *,
        bus: StreamBus,
        engine: AsyncEngine,
        emulator: LavalinkEmulator,
        settings: AudioSettings,
        worker_id: str = "audio-test",
    ) -> None:
        self.bus = bus
        self.engine = engine
        self.emulator = emulator
        self.settings = settings
        self.worker_id = worker_id
        #: The URL-safety guard's resolver (no real DNS): the catalog's hosts are public.
        self.resolver = FakeResolver()
        #: The searcher's cache and throttle (None: the worker's in-process defaults).
        self.search_cache: SearchCache | None = None
        self.search_throttle: SearchThrottle | None = None
        self.voice_modes: dict[int, VoiceMode] = {}
        self.discord = Recorder()
        self.ui = Recorder()
        self._tasks: list[asyncio.Task[None]] = []
        self._taps: list[Any] = []
        self.worker: AudioWorker | None = None
        self.worker_task: asyncio.Task[None] | None = None
        self.players: LavalinkPlayers | None = None
        self.db_url = ""

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self, *, start_worker: bool = True) -> None:
        for channel, recorder in ((Channel.TO_DISCORD, self.discord), (Channel.UI_NOW, self.ui)):
            tap = self.bus.tap(channel)
            await tap.__aenter__()
            self._taps.append(tap)
            self._tasks.append(asyncio.create_task(self._drain(tap, recorder)))
        if start_worker:
            await self.start_worker()

    async def start_worker(self) -> None:
        holder: list[AudioWorker] = []

        async def voice_request(guild_id: int, channel_id: int | None) -> None:
            await holder[0].audio.voice_request(guild_id, channel_id)

        players = LavalinkPlayers(
            user_id=BOT,
            nodes=[
                LavalinkNode(
                    name="node-0",
                    url=f"http://{self.emulator.host}:{self.emulator.port}",
                    password=SecretStr(self.emulator.password),
                )
            ],
            voice_request=voice_request,
            voice_connect_timeout_s=self.settings.voice_connect_timeout_s,
        )
        worker = AudioWorker(
            bus=self.bus,
            engine=self.engine,
            players=players,
            settings=self.settings,
            bot_user_id=BOT,
            worker_id=self.worker_id,
            resolver=self.resolver,
            search_cache=self.search_cache,
            search_throttle=self.search_throttle,
        )
        holder.append(worker)
        await players.start()
        self.players, self.worker = players, worker
        self.worker_task = asyncio.create_task(worker.run())
        deadline = time.monotonic() + WAIT
        while not (await players.ready() and worker.owned):
            if time.monotonic() > deadline:
                raise AssertionError("the worker did not get ready (node and leases)")
            await asyncio.sleep(0.02)

    async def kill_worker(self) -> None:
        """Cancel the worker as a crash would (nothing in hand acknowledged), drop its players."""
        assert self.worker_task is not None
        assert self.players is not None
        self.worker_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.worker_task
        await self.players.close()
        self.worker_task = None

    async def stop_worker(self) -> None:
        if self.worker_task is None:
            return
        assert self.worker is not None
        assert self.players is not None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.worker.stop(), WAIT)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self.worker_task, WAIT)
        await self.players.close()
        self.worker_task = None

    async def close(self) -> None:
        await self.stop_worker()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for tap in self._taps:
            with contextlib.suppress(Exception):
                await tap.__aexit__(None, None, None)

    # --- the gateway's part ---------------------------------------------------------------------

    async def _drain(self, tap: Any, recorder: Recorder) -> None:
        async for message in tap:
            recorder.add(message)
            if isinstance(message, VoiceJoin):
                self._spawn(self._answer_join(message))
            elif isinstance(message, VoiceLeave):
                self._spawn(self.voice_state(message.guild_id, None))

    def _spawn(self, coro: Any) -> None:
        self._tasks.append(asyncio.create_task(coro))

    async def voice_state(self, guild_id: int, channel_id: int | None) -> None:
        data = {
            "guild_id": str(guild_id),
            "user_id": str(BOT),
            "session_id": f"voice-session-{guild_id}",
            "channel_id": None if channel_id is None else str(channel_id),
            "deaf": False,
            "mute": False,
        }
        await self.bus.publish(
            Channel.TO_AUDIO,
            VoiceStateUpdate(guild_id=guild_id, payload=VoiceStatePayload(data=data)),
        )

    async def voice_server(self, guild_id: int) -> None:
        data = {
            "guild_id": str(guild_id),
            "token": f"token-{guild_id}",
            "endpoint": "c.discord.media",
        }
        await self.bus.publish(
            Channel.TO_AUDIO,
            VoiceServerUpdate(guild_id=guild_id, payload=VoiceServerPayload(data=data)),
        )

    async def _answer_join(self, join: VoiceJoin) -> None:
        guild_id, channel_id = join.guild_id, join.payload.channel_id
        mode = self.voice_modes.get(guild_id, "state-first")
        if mode == "silent":
            return
        if mode == "server-first":
            await self.voice_server(guild_id)
            await self.voice_state(guild_id, channel_id)
        elif mode == "duplicated":
            await self.voice_state(guild_id, channel_id)
            await self.voice_state(guild_id, channel_id)
            await self.voice_server(guild_id)
            await self.voice_server(guild_id)
        elif mode == "no-server":
            await self.voice_state(guild_id, channel_id)
        else:
            await self.voice_state(guild_id, channel_id)
            await self.voice_server(guild_id)

    async def listeners(self, guild_id: int, channel_id: int | None, count: int) -> None:
        await self.bus.publish(
            Channel.TO_AUDIO,
            ListenerCount(
                guild_id=guild_id,
                payload=ListenerCountPayload(channel_id=channel_id, listeners=count),
            ),
        )

    # --- commands -------------------------------------------------------------------------------

    @staticmethod
    def context(
        *, user_id: int = USER, voice_channel_id: int | None = 9_001, interaction: bool = True
    ) -> DiscordContext:
        return DiscordContext(
            user_id=user_id,
            text_channel_id=9_500,
            voice_channel_id=voice_channel_id,
            interaction=InteractionRef(
                id=77, token="interaction-token", application_id=BOT, created_at=time.time()
            )
            if interaction
            else None,
        )

    async def send(self, command: CommandEnvelope) -> CommandEnvelope:
        await self.bus.publish(Channel.COMMANDS, command)
        return command

    async def reply(self, command: Envelope, wait: float = WAIT) -> Envelope:
        """The one correlated reply on to-discord (waits for it)."""
        return await self.discord.wait(Envelope, lambda m: m.correlation_id == command.id, wait)

    async def replies(self, command: Envelope) -> list[Envelope]:
        return [m for m in self.discord.seen if m.correlation_id == command.id]

    async def node_player(self, guild_id: int) -> dict[str, Any] | None:
        return await self.emulator.control.player(guild_id)

    async def rows(self, model: Any, guild_id: int | None = None) -> list[Any]:
        statement = select(model.__table__)
        if guild_id is not None:
            statement = statement.where(model.guild_id == guild_id)
        async with self.engine.connect() as conn:
            return list(
                (await conn.execute(statement.order_by(model.__table__.c[_key(model)]))).all()
            )


def _key(model: Any) -> str:
    columns = model.__table__.c
    for name in ("id", "seq", "applied_at", "guild_id"):
        if name in columns:
            return name
    raise AssertionError(f"no order for {model}")


RigFactory = Callable[..., Awaitable["AudioRig"]]
"""``await make_rig(settings=None, *, start_worker=True)``: the ``make_rig`` fixture."""

__all__ = [
    "AUDIO_BUS_CONFIG",
    "BOT",
    "USER",
    "WAIT",
    "AppliedMessage",
    "AudioRig",
    "AuditLog",
    "EventStoreEvent",
    "PlaybackHistory",
    "Recorder",
    "RigFactory",
    "fast_settings",
    "urls",
]
