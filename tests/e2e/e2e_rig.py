"""The whole bot for the acceptance tests: unmodified discord.py in the gateway against the
Discord emulator, lavalink.py in audio against the Lavalink emulator (which accepts only the
voice credentials the Discord emulator issued), in one of two set-ups:

- ``embedded``: the default deployment, both components in one process (this one), on the
  in-process bus and SQLite under the test's directory;
- ``distributed``: Redis and PostgreSQL, the gateway and audio as separate processes started
  as an operator starts them (``python -m backbeat run gateway`` / ``run audio``) with
  ``BACKBEAT_*`` environment settings pointing at the emulators.

A :class:`Deployment` gives what the tests observe: a bus to tap (:class:`Taps`: every
message crossing each channel, in order), an engine on the same database, the status
servers' ``/metrics`` (:func:`scrape`), and the emulators' control clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.audio.component import COMPONENT_FACTORY as AUDIO
from backbeat.bus.factory import redis_bus
from backbeat.bus.interface import Bus
from backbeat.config import load_settings
from backbeat.db.engine import create_engine
from backbeat.db.migrate import migrate_to
from backbeat.domain.messages import Channel, Envelope
from backbeat.gateway.component import COMPONENT_FACTORY as GATEWAY
from backbeat.observability.status import StatusServer
from backbeat.runtime import ProcessContext
from backbeat.testing.backends import create_database, drop_database
from backbeat.testing.discord import DiscordEmulator
from backbeat.testing.dns import CATALOG_HOSTS
from backbeat.testing.lavalink.control_client import LavalinkControlClient
from backbeat.testing.lavalink.server import LavalinkEmulator
from backbeat.testing.voice import VoiceCredentialRegistry

SETUPS = ("embedded", "distributed")
EPHEMERAL = 64
WAIT_S = 60.0
_HTTP_TIMEOUT = aiohttp.ClientTimeout(total=10)


async def until(probe: Callable[[], Any], within: float = 30.0, every: float = 0.05) -> Any:
    """Poll an async or sync ``probe`` until it returns something truthy."""
    async with asyncio.timeout(within):
        while True:
            value = probe()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(every)


@dataclass
class Place:
    """A guild with a text channel, a voice channel and two members."""

    guild: int
    text: int
    voice: int
    alice: int
    bob: int


async def make_place(emu: DiscordEmulator) -> Place:
    control = emu.control
    alice = int((await control.create_user("alice"))["id"])
    bob = int((await control.create_user("bob"))["id"])
    guild = int((await control.create_guild("g", shard=(0, 1), members=[alice, bob]))["id"])
    text = int((await control.create_channel(guild, "general"))["id"])
    voice = int((await control.create_channel(guild, "Lounge", "voice"))["id"])
    return Place(guild, text, voice, alice, bob)


class Taps:
    """Every message published on each of the four channels from now on, in order."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self.seen: dict[Channel, list[Envelope]] = {channel: [] for channel in Channel}
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Taps:
        opened = [asyncio.Event() for _ in Channel]
        for channel, event in zip(Channel, opened, strict=True):
            self._tasks.append(asyncio.create_task(self._read(channel, event)))
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in opened)), WAIT_S)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        # bounded: a tap whose read does not end on cancellation must not hang the test
        done, stuck = await asyncio.wait(self._tasks, timeout=WAIT_S)
        assert not stuck, f"{len(stuck)} bus taps did not stop within {WAIT_S} s"
        failed = [t.exception() for t in done if not t.cancelled() and t.exception()]
        if failed:
            raise failed[0]  # type: ignore[misc]

    async def _read(self, channel: Channel, opened: asyncio.Event) -> None:
        async with self._bus.tap(channel) as tap:
            opened.set()
            async for message in tap:
                self.seen[channel].append(message)

    def of(self, channel: Channel, guild: int, *types: str) -> list[Envelope]:
        """The guild's messages on ``channel`` (of ``types``, if given), in order."""
        return [
            m for m in self.seen[channel] if m.guild_id == guild and (not types or m.type in types)
        ]

    def types(self, channel: Channel, guild: int) -> list[str]:
        return [m.type for m in self.of(channel, guild)]

    async def wait(
        self, channel: Channel, predicate: Callable[[Envelope], bool], within: float = WAIT_S
    ) -> Envelope:
        async def found() -> Envelope | None:
            return next((m for m in self.seen[channel] if predicate(m)), None)

        message: Envelope = await until(found, within=within)
        return message


def in_order(sequence: Iterable[str], expected: Iterable[str]) -> bool:
    """Whether ``expected`` appears in ``sequence`` in that order (other items between)."""
    it = iter(sequence)
    return all(any(item == wanted for item in it) for wanted in expected)


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(urls: Iterable[str]) -> Samples:
    """Every sample of every status server's ``/metrics``, summed over the servers."""
    samples: Samples = {}
    async with aiohttp.ClientSession(timeout=_HTTP_TIMEOUT) as http:
        for base in urls:
            async with http.get(f"{base}/metrics") as response:
                assert response.status == 200
                text = await response.text()
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    key = (sample.name, tuple(sorted(sample.labels.items())))
                    samples[key] = samples.get(key, 0.0) + sample.value
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(
        value
        for (sample, pairs), value in samples.items()
        if sample == name and set(labels.items()) <= set(pairs)
    )


@dataclass
class Deployment:
    setup: str
    emu: DiscordEmulator
    node: LavalinkEmulator
    lavalink: LavalinkControlClient
    bus: Bus
    engine: AsyncEngine
    status_urls: list[str]
    #: The status server serving each component's metrics (one for both when embedded).
    component_urls: dict[str, str] = field(default_factory=dict)
    logs: list[Path] = field(default_factory=list)

    async def metrics(self) -> Samples:
        return await scrape(self.status_urls)

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in self.logs if p.exists())


@contextlib.asynccontextmanager
async def emulator_pair() -> AsyncIterator[tuple[DiscordEmulator, LavalinkEmulator]]:
    registry = VoiceCredentialRegistry()
    lavalink = LavalinkEmulator(port=0, voice_registry=registry, player_update_interval=1.0)
    await lavalink.start()
    try:
        async with DiscordEmulator(port=0, voice_registry=registry) as discord_emu:
            yield discord_emu, lavalink
    finally:
        await lavalink.stop()


def environment(
    emu: DiscordEmulator,
    node: LavalinkEmulator,
    data_dir: Path,
    *,
    database_url: str | None = None,
    redis: tuple[str, str] | None = None,
) -> dict[str, str]:
    """The ``BACKBEAT_*`` settings of the deployment (nothing else of the caller's)."""
    nodes = [{"name": "n1", "url": f"http://{node.host}:{node.port}", "password": node.password}]
    values = {
        "STATUS_PORT": "0",
        "LOG_FORMAT": "json",
        "DATA_DIR": str(data_dir),
        "DISCORD_TOKEN": emu.token,
        "DISCORD_API_BASE": emu.rest_url,
        "DISCORD_GATEWAY_URL": emu.gateway_url,
        "BOT_USER_ID": str(emu.bot_user_id),
        "SHARD_COUNT": "1",
        "LAVALINK_NODES": json.dumps(nodes),
        "VOICE_CONNECT_TIMEOUT_S": "10",
        # The catalog's hosts (autoplay's YouTube Mix links) do not resolve here: admit them.
        "URL_ALLOWLIST": json.dumps(sorted(CATALOG_HOSTS)),
    }
    if database_url is not None:
        values["DATABASE_URL"] = database_url
    if redis is not None:
        values["REDIS_URL"], values["REDIS_KEY_PREFIX"] = redis
    return {f"BACKBEAT_{name}": value for name, value in values.items()}


async def _status(url: str) -> int:
    try:
        async with (
            aiohttp.ClientSession(timeout=_HTTP_TIMEOUT) as http,
            http.get(url) as response,
        ):
            return response.status
    except (aiohttp.ClientError, TimeoutError):
        return 0


async def _ready(base: str) -> bool:
    return await _status(f"{base}/ready") == 200


@contextlib.asynccontextmanager
async def embedded(tmp_path: Path, monkeypatch: Any) -> AsyncIterator[Deployment]:
    """Both components in this process on the in-process bus and SQLite (the default)."""
    async with emulator_pair() as (emu, node):
        for name in list(os.environ):
            if name.startswith("BACKBEAT_") and not name.startswith("BACKBEAT_TEST_"):
                monkeypatch.delenv(name)
        for name, value in environment(emu, node, tmp_path / "data").items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("BACKBEAT_LOG_FORMAT", "console")
        settings = load_settings(None)
        assert settings.bus.redis_url is None
        assert settings.database.database_url is None
        audio, gateway = AUDIO(settings), GATEWAY(settings)
        lavalink = LavalinkControlClient(node.control_url)
        async with StatusServer(port=0) as status:
            process = ProcessContext(settings, status)
            try:
                await audio.start(process)
                await gateway.start(process)
                await until(lambda: _ready(status.url), within=WAIT_S)
                yield Deployment(
                    "embedded",
                    emu,
                    node,
                    lavalink,
                    await process.bus(),
                    await process.database(),
                    [status.url],
                    {"audio": status.url, "gateway": status.url},
                )
            finally:
                await gateway.stop()
                await audio.stop()
                await process.close()
                await lavalink.close()


class Child:
    """One ``python -m backbeat run COMPONENT`` process, its log in a file."""

    def __init__(self, component: str, env: dict[str, str], log: Path) -> None:
        self.component = component
        self.env = env
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("wb") as sink:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "backbeat",
                "run",
                self.component,
                env=self.env,
                cwd=self.log.parent,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
            )

    def _event(self, name: str) -> dict[str, Any] | None:
        for line in self.log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict) and record.get("event") == name:
                    return record
        return None

    async def status_url(self) -> str:
        async def listening() -> dict[str, Any] | None:
            assert self.proc is not None
            assert self.proc.returncode is None, f"{self.component} ended:\n{self.tail()}"
            return self._event("status server listening")

        record: dict[str, Any] = await until(listening, within=WAIT_S, every=0.1)
        return str(record["url"])

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    async def stop(self) -> int | None:
        if self.proc is None or self.proc.returncode is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.terminate()
        try:
            return await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await asyncio.wait_for(self.proc.wait(), 10)  # bounded even after SIGKILL
            return None


@contextlib.asynccontextmanager
async def distributed(
    tmp_path: Path, redis_url: str, redis_key_prefix: str
) -> AsyncIterator[Deployment]:
    """Redis, PostgreSQL (migrated first, as ``backbeat migrate`` does), and the gateway and
    audio each in a process of its own."""
    async with asyncio.timeout(WAIT_S):  # bounded: a database server that stalls fails here
        database_url = await create_database(
            "postgresql", f"bbe2e_{uuid.uuid4().hex[:12]}", sqlite_dir=tmp_path
        )
    engine = create_engine(database_url)
    try:
        async with asyncio.timeout(WAIT_S):
            await migrate_to(engine, "head")
        async with emulator_pair() as (emu, node):
            base = {k: v for k, v in os.environ.items() if not k.startswith("BACKBEAT_")}
            base.update(
                environment(
                    emu,
                    node,
                    tmp_path / "data",
                    database_url=database_url,
                    redis=(redis_url, redis_key_prefix),
                )
            )
            children = [
                Child(name, base, tmp_path / f"{name}.log") for name in ("audio", "gateway")
            ]
            bus = redis_bus(redis_url, prefix=redis_key_prefix)
            lavalink = LavalinkControlClient(node.control_url)
            try:
                for child in children:
                    await child.start()
                urls = [await child.status_url() for child in children]
                for child, url in zip(children, urls, strict=True):
                    try:
                        await until(lambda url=url: _ready(url), within=WAIT_S, every=0.2)
                    except TimeoutError:
                        raise AssertionError(
                            f"{child.component} not ready:\n{child.tail()}"
                        ) from None
                    assert child.proc is not None
                    assert child.proc.returncode is None
                yield Deployment(
                    "distributed",
                    emu,
                    node,
                    lavalink,
                    bus,
                    engine,
                    urls,
                    {c.component: url for c, url in zip(children, urls, strict=True)},
                    [c.log for c in children],
                )
            finally:
                codes = [await child.stop() for child in reversed(children)]
                await bus.close()
                await lavalink.close()
            assert codes == [0, 0], "\n".join(c.tail() for c in children)
    finally:
        await engine.dispose()
        await drop_database("postgresql", database_url)


async def bot_in(emu: DiscordEmulator, guild: int, channel: int) -> bool:
    states = await emu.control.voice_states(guild)
    return any(
        s["user_id"] == str(emu.bot_user_id) and s["channel_id"] == str(channel) for s in states
    )


async def player(lavalink: LavalinkControlClient, guild: int) -> dict[str, Any] | None:
    found = await lavalink.player(guild)
    return found if found and found.get("track") else None


async def live_messages(emu: DiscordEmulator, channel: int) -> list[dict[str, Any]]:
    """The channel's messages a user sees (not deleted, not ephemeral) with an embed."""
    return [
        m
        for m in await emu.control.channel_messages(channel)
        if m["embeds"] and not m.get("deleted") and not m["flags"] & EPHEMERAL
    ]


def buttons_of(message: dict[str, Any]) -> dict[str, bool]:
    """custom_id -> disabled, for every button of a message."""
    return {
        c["custom_id"]: bool(c.get("disabled", False))
        for row in message.get("components", [])
        for c in row["components"]
        if "custom_id" in c
    }


async def answered(emu: DiscordEmulator, interaction_id: str) -> dict[str, Any] | None:
    """The interaction's record once its answer replaced "Processing…"."""
    record = await emu.control.interaction(interaction_id, min_events=1)
    message = record.get("original_message") or {}
    content = message.get("content") or ""
    if message.get("embeds") or (content and not content.startswith("🎵 ")):
        return record
    return None
