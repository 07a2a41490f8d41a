"""The measures of ``backbeat bench``, each driving the running :class:`~.rig.Bot`.

Latencies seen by Discord users are taken from the Discord emulator's own records: an
interaction's ``created_at`` (just before INTERACTION_CREATE is written to the gateway's
socket), its first callback's ``at`` (the acknowledgement) and the ``timestamp`` of the
message the bot posted, so polling adds nothing to them.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backbeat.benchmark.progress import Progress
from backbeat.benchmark.rig import Bot
from backbeat.cache import RedisCacheStore, cache_keys
from backbeat.cache.search import StoreSearchCache
from backbeat.domain.messages import Channel, DiscordContext
from backbeat.domain.messages.commands import (
    CommandEnvelope,
    Loop,
    LoopPayload,
    Play,
    QueryPayload,
    QueueView,
    Seek,
    SeekPayload,
    Toggle,
    Volume,
    VolumePayload,
)
from backbeat.domain.queue import LoopMode
from backbeat.observability.metrics import REGISTRY

EPHEMERAL = 64
NOW_PLAYING = "🎶 Now playing"
#: The closed loop's cycle, one command in flight per guild.
CYCLE: tuple[tuple[str, dict[str, Any] | None], ...] = (
    ("pause", None),
    ("resume", None),
    ("volume", {"percent": 50}),
    ("queue", None),
    ("play", {"query": "house"}),
    ("skip", None),
)
#: The mix of bench/audio_commands.py (kind, share).
MIX: tuple[tuple[str, float], ...] = (
    ("volume", 0.30),
    ("toggle", 0.20),
    ("seek", 0.15),
    ("loop", 0.15),
    ("play", 0.10),
    ("queue", 0.10),
)


@dataclass
class Place:
    guild: int
    text: int
    voice: int
    user: int


async def make_places(bot: Bot, count: int, progress: Progress | None = None) -> list[Place]:
    """``count`` guilds, each with a member in its voice channel."""
    control = bot.emu.control
    places = []
    for index in range(count):
        user = int((await control.create_user(f"listener{index}"))["id"])
        guild = int((await control.create_guild(f"g{index}", shard=(0, 1), members=[user]))["id"])
        text = int((await control.create_channel(guild, "general"))["id"])
        voice = int((await control.create_channel(guild, "Lounge", "voice"))["id"])
        await control.move_voice(guild, user, voice)
        places.append(Place(guild, text, voice, user))
        if progress is not None:
            progress.advance()
    return places


def _iso(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def _answered(record: dict[str, Any]) -> bool:
    message = record.get("original_message") or {}
    content = message.get("content") or ""
    return bool(message.get("embeds")) or bool(content and not content.startswith("🎵 "))


async def slash(
    bot: Bot, place: Place, name: str, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run a slash command and return its record once answered (the final text shown)."""
    control = bot.emu.control
    created = await control.invoke_command(
        guild_id=place.guild,
        channel_id=place.text,
        user_id=place.user,
        name=name,
        options=options,
    )
    async with asyncio.timeout(30):
        while True:
            record: dict[str, Any] = await control.interaction(created["id"], min_events=2, wait=10)
            if _answered(record):
                return record
            await asyncio.sleep(0.005)


def ack_ms(record: dict[str, Any]) -> float:
    """From INTERACTION_CREATE sent to the acknowledgement received, in ms."""
    return (float(record["events"][0]["at"]) - float(record["created_at"])) * 1000


async def _now_playing(bot: Bot, place: Place, after: float) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            for message in await bot.emu.control.channel_messages(place.text):
                embeds = message.get("embeds") or []
                if (
                    embeds
                    and embeds[0].get("title") == NOW_PLAYING
                    and not message.get("deleted")
                    and not message["flags"] & EPHEMERAL
                    and _iso(message["timestamp"]) >= after
                ):
                    return message
            await asyncio.sleep(0.01)


async def play_to_now_playing_ms(bot: Bot, place: Place, query: str = "house") -> float:
    """``/play`` to the now-playing message being created, in ms (Discord's clock)."""
    created = await bot.emu.control.invoke_command(
        guild_id=place.guild,
        channel_id=place.text,
        user_id=place.user,
        name="play",
        options={"query": query},
    )
    began = float(created.get("created_at") or 0.0)
    if not began:
        began = float((await bot.emu.control.interaction(created["id"]))["created_at"])
    message = await _now_playing(bot, place, began - 1.0)
    return (_iso(message["timestamp"]) - began) * 1000


async def stop_keeping_voice(bot: Bot, place: Place) -> None:
    """``/stop``: the queue is cleared and the message deleted; the bot stays in voice."""
    await slash(bot, place, "stop")
    async with asyncio.timeout(30):
        while True:
            messages = await bot.emu.control.channel_messages(place.text)
            if not any(
                (msg.get("embeds") or [{}])[0].get("title") == NOW_PLAYING
                and not msg.get("deleted")
                for msg in messages
            ):
                return
            await asyncio.sleep(0.01)


async def in_voice(bot: Bot, place: Place) -> bool:
    states = await bot.emu.control.voice_states(place.guild)
    return any(
        s["user_id"] == str(bot.emu.bot_user_id) and s["channel_id"] == str(place.voice)
        for s in states
    )


async def idle_acks(bot: Bot, place: Place, count: int, progress: Progress) -> list[float]:
    """One ``/queue`` at a time: the acknowledgement with nothing else going on."""
    acks = []
    for _ in range(count):
        acks.append(ack_ms(await slash(bot, place, "queue")))
        progress.advance()
    return acks


async def closed_loop(
    bot: Bot, places: list[Place], seconds: float, progress: Progress
) -> tuple[int, float, list[float]]:
    """Every guild runs the cycle, one command in flight each, for ``seconds``.

    Returns answered commands, the elapsed seconds and the acknowledgement latencies."""
    acks: list[float] = []
    answered = 0
    deadline = time.monotonic() + seconds
    started = time.monotonic()

    async def guild_loop(place: Place, offset: int) -> None:
        nonlocal answered
        step = offset
        while time.monotonic() < deadline:
            name, options = CYCLE[step % len(CYCLE)]
            record = await slash(bot, place, name, options)
            acks.append(ack_ms(record))
            answered += 1
            step += 1

    async def ticker() -> None:
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            progress.advance(1)

    tick = asyncio.create_task(ticker())
    await asyncio.gather(*(guild_loop(p, i) for i, p in enumerate(places)))
    tick.cancel()
    return answered, time.monotonic() - started, acks


def _command(kind: str, place: Place, rng: random.Random) -> CommandEnvelope:
    ctx = DiscordContext(user_id=place.user, voice_channel_id=place.voice)  # replies dropped
    guild = place.guild
    if kind == "volume":
        return Volume(
            guild_id=guild, context=ctx, payload=VolumePayload(percent=rng.randint(10, 150))
        )
    if kind == "toggle":
        return Toggle(guild_id=guild, context=ctx)
    if kind == "seek":
        return Seek(
            guild_id=guild, context=ctx, payload=SeekPayload(position_ms=rng.randint(0, 60_000))
        )
    if kind == "loop":
        mode = rng.choice([LoopMode.OFF, LoopMode.TRACK, LoopMode.QUEUE])
        return Loop(guild_id=guild, context=ctx, payload=LoopPayload(mode=mode))
    if kind == "play":
        return Play(guild_id=guild, context=ctx, payload=QueryPayload(query="house"))
    return QueueView(guild_id=guild, context=ctx)


def _pick(rng: random.Random) -> str:
    value, total = rng.random(), 0.0
    for kind, share in MIX:
        total += share
        if value < total:
            return kind
    return MIX[-1][0]


def handled_commands() -> float:
    """Commands audio has handled in this process (any outcome), from its metric."""
    value = 0.0
    for family in REGISTRY.collect():
        if family.name == "audio_command_duration_seconds":
            value += sum(s.value for s in family.samples if s.name.endswith("_count"))
    return value


async def worker_throughput(
    bot: Bot, places: list[Place], per_guild: int, progress: Progress
) -> tuple[int, float]:
    """All commands published at once on ``commands``; the time until audio handled every
    one (its ``audio_command_duration_seconds`` count). Returns (commands, seconds).

    The commands carry no interaction and no text channel, so their notices go nowhere
    and the gateway does no Discord call for them."""
    rng = random.Random(7)
    commands = [_command(_pick(rng), p, rng) for _ in range(per_guild) for p in places]
    base = handled_commands()
    started = time.perf_counter()
    await asyncio.gather(*(bot.bus.publish(Channel.COMMANDS, c) for c in commands))
    async with asyncio.timeout(300):
        done = 0
        while done < len(commands):
            await asyncio.sleep(0.01)
            now = int(handled_commands() - base)
            progress.advance(now - done)
            done = now
    return len(commands), time.perf_counter() - started


async def search_hits(bot: Bot, runs: int, progress: Progress) -> list[float]:
    """A search cache hit in Redis (the query ``/play house`` stored), in ms."""
    store = RedisCacheStore.from_url(bot.redis_url)
    cache = StoreSearchCache(store, keys=cache_keys(bot.settings))
    provider = bot.settings.audio.search_provider
    try:
        if await cache.get(provider, "house") is None:
            raise RuntimeError(f"no cached results for {provider!r} 'house' to read")
        times = []
        for index in range(runs):
            began = time.perf_counter()
            await cache.get(provider, "house")
            times.append((time.perf_counter() - began) * 1000)
            if index % 100 == 0:
                progress.advance(100)
        return times
    finally:
        await store.close()


def rss_bytes() -> int:
    """This process's resident set size (Linux /proc; else the peak from getrusage)."""
    try:
        with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


async def live_players(
    bot: Bot, count: int, idle_s: float, progress: Progress
) -> tuple[int, int, float]:
    """``count`` more guilds each playing (30 started at a time); returns the players alive,
    the RSS growth in bytes and the extra CPU (cores) of the process idling with them
    (measured over ``idle_s`` before and after)."""
    places = await make_places(bot, count)
    base_cores = await _idle_cores(idle_s)
    rss_before = rss_bytes()
    gate = asyncio.Semaphore(30)

    async def start(place: Place) -> None:
        async with gate:
            await slash(bot, place, "play", {"query": "house"})
            progress.advance()

    await asyncio.gather(*(start(p) for p in places))
    players = len(await bot.lavalink.players())
    rss_after = rss_bytes()
    cores = await _idle_cores(idle_s)
    return players, rss_after - rss_before, max(0.0, cores - base_cores)


async def _idle_cores(seconds: float) -> float:
    """CPU this process uses while nothing is asked of it (players just playing), in cores."""
    cpu_began, wall_began = cpu_seconds(), time.monotonic()
    await asyncio.sleep(seconds)
    return (cpu_seconds() - cpu_began) / (time.monotonic() - wall_began)
