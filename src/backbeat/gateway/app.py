"""The gateway service's composition root: the bot and every part around it.

:class:`Gateway` logs in (``start``), then runs the shards and, once they are ready, the
consumers of ``to-discord`` and ``ui:now`` for this process's shard partitions. It is what
``backbeat run gateway`` runs (:mod:`backbeat.gateway.component`) and what the tests drive
against the Discord emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.interface import Bus, Consumer
from backbeat.cache import CacheKeys, CacheStore, RateLimiter, SettingsCache
from backbeat.config import Settings
from backbeat.db.repositories import ConfigurationRepository, RateLimitRepository
from backbeat.domain.i18n import Translator
from backbeat.domain.messages import Channel
from backbeat.errors import BackendUnavailableError, ConfigurationError
from backbeat.gateway.autocomplete import Autocomplete
from backbeat.gateway.bot import GatewayBot
from backbeat.gateway.buttons import ButtonHandler
from backbeat.gateway.commands import music_commands
from backbeat.gateway.discord_endpoints import point_discord_py_at
from backbeat.gateway.dispatch import ToDiscordHandler
from backbeat.gateway.flow import CommandFlow
from backbeat.gateway.gate import Gate
from backbeat.gateway.identify import IdentifyPacer
from backbeat.gateway.localization import CommandTranslator
from backbeat.gateway.ops import COMMAND_SYNC, GATEWAY_CONNECT, count_retry, discord_operation
from backbeat.gateway.pending import PendingReplies
from backbeat.gateway.replies import ReplySender
from backbeat.gateway.settings_command import SettingsWriter, settings_group
from backbeat.gateway.shards import ShardState, ShardTracker
from backbeat.gateway.ui.budget import ChannelBudget
from backbeat.gateway.ui.embeds import Branding, EmbedFactory
from backbeat.gateway.ui.lyrics_view import LyricsOptions, LyricsView
from backbeat.gateway.ui.manager import UiManager
from backbeat.gateway.ui.pacer import Pacer
from backbeat.gateway.ui.store import NowPlayingStore
from backbeat.gateway.voice import VoiceForwarder
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)

LATENCY_SAMPLE_S = 5.0
"""How often the shard latency gauges are refreshed."""

Spawn = Callable[[Coroutine[Any, Any, Any], str], "asyncio.Task[Any]"]


@dataclass(frozen=True, slots=True)
class GatewayOptions:
    """Knobs that are not deployment settings (tests shorten them)."""

    identify_delay_s: float | None = None
    """Spacing of IDENTIFYs per concurrency bucket; None: ``BACKBEAT_IDENTIFY_INTERVAL_S``."""
    guild_ready_timeout_s: float = 2.0
    sync_commands: bool = True


def shard_partitions(settings: Settings) -> list[int]:
    """The ``to-discord`` / ``ui:now`` partitions this process reads: its shard ids."""
    discord_settings = settings.discord
    if discord_settings.shard_ids is not None:
        return list(discord_settings.shard_ids)
    if discord_settings.shard_count is not None:
        return list(range(discord_settings.shard_count))
    return [0]  # one partition when the shard count is left to Discord (see docs/bus.md)


class Gateway:
    """The Discord face of Backbeat in one process."""

    def __init__(
        self,
        settings: Settings,
        *,
        bus: Bus,
        engine: AsyncEngine,
        cache: CacheStore,
        keys: CacheKeys | None = None,
        options: GatewayOptions | None = None,
    ) -> None:
        token = settings.discord.discord_token
        if token is None:
            raise ConfigurationError("BACKBEAT_DISCORD_TOKEN", "the gateway needs the bot token")
        self.settings = settings
        self._token = token.get_secret_value()
        self._options = options or GatewayOptions()
        self._bus = bus
        keys = keys or CacheKeys(settings.bus.redis_key_prefix)
        self.partitions = shard_partitions(settings)
        delay = self._options.identify_delay_s
        self.pacer = IdentifyPacer(
            cache,
            keys,
            self._max_concurrency,
            interval_s=settings.gateway.identify_interval_s if delay is None else delay,
        )
        self.bot = GatewayBot(
            shard_count=settings.discord.shard_count,
            shard_ids=settings.discord.shard_ids,
            setup=self._setup,
            pacer=self.pacer,
            guild_ready_timeout_s=self._options.guild_ready_timeout_s,
        )
        self.shards = ShardTracker(self.partitions, self._latency)
        self.pending = PendingReplies()
        self.translator = Translator()
        embeds = EmbedFactory(Branding.from_settings(settings.gateway), translator=self.translator)
        self.settings_cache = SettingsCache(cache, ConfigurationRepository(engine), keys=keys)
        self.limiter = RateLimiter(cache, RateLimitRepository(engine), keys=keys)
        self.voice = VoiceForwarder(self.bot, bus)
        # One pace for the process's message traffic, one edit budget per channel: the
        # now-playing message and the live lyrics share both.
        rest_pacer = Pacer()
        budget = ChannelBudget()
        self.ui = UiManager(
            self.bot,
            NowPlayingStore(engine, cache, keys),
            embeds,
            pacer=rest_pacer,
            budget=budget,
            notice_delete_after_s=settings.gateway.reply_delete_after_s,
        )
        self.lyrics = LyricsView(
            self.bot,
            embeds,
            budget,
            rest_pacer,
            self.ui.snapshot,
            options=LyricsOptions.of(settings.gateway),
        )
        self.ui.watch(self.lyrics.on_state)
        self.replies = ReplySender(
            self.bot,
            self.pending,
            embeds,
            delete_after_s=settings.gateway.reply_delete_after_s,
            live_lyrics=self.lyrics,
        )
        self.autocomplete = Autocomplete(
            bus, self.pending, budget_s=settings.gateway.autocomplete_budget_s
        )
        self.gate = Gate(self.bot, self.ui)
        self.flow = CommandFlow(
            bus,
            self.settings_cache,
            self.limiter,
            self.pending,
            gate=self.gate,
            translator=self.translator,
        )
        self.settings_writer = SettingsWriter(
            engine,
            self.settings_cache,
            bus,
            gate=self.gate,
            embeds=embeds,
            translator=self.translator,
        )
        self.buttons = ButtonHandler(
            self.bot,
            bus,
            self.limiter,
            self.pending,
            self.ui,
            gate=self.gate,
            settings=self.settings_cache,
            translator=self.translator,
        )
        self.to_discord = ToDiscordHandler(
            self.voice, self.replies, self.autocomplete, self.pending, self.ui
        )
        self._consumers: list[Consumer] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self.consuming = asyncio.Event()

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self, spawn: Spawn | None = None) -> None:
        """Log in (fails fast on a bad token), then connect the shards in the background."""
        discord_settings = self.settings.discord
        point_discord_py_at(discord_settings.discord_api_base, discord_settings.discord_gateway_url)
        run = spawn or _spawn
        try:
            await self.bot.login(self._token)
        except discord.LoginFailure as error:
            await self.bot.close()
            raise ConfigurationError("BACKBEAT_DISCORD_TOKEN", "Discord refused it") from error
        except (aiohttp.ClientError, OSError) as error:
            await self.bot.close()
            where = discord_settings.discord_api_base
            raise BackendUnavailableError("discord", f"{where}: {error}") from error
        self._tasks.append(run(self._connect(), "gateway.shards"))
        self._tasks.append(run(self._consume(), "gateway.consumers"))
        self._tasks.append(run(self._sample_latency(), "gateway.latency"))

    async def stop(self) -> None:
        """Stop consuming (finishing the message in hand), then close the bot."""
        for consumer in self._consumers:
            with contextlib.suppress(Exception):
                await consumer.stop()
        await self.lyrics.close()
        await self.ui.close()
        await self.bot.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _connect(self) -> None:
        await self.bot.connect(reconnect=True)

    async def _consume(self) -> None:
        await self.bot.wait_until_ready()
        name = "gateway-" + "-".join(str(p) for p in self.partitions)
        self._consumers = [
            self._bus.consume(
                Channel.TO_DISCORD, self.to_discord, partitions=self.partitions, consumer=name
            ),
            self._bus.consume(
                Channel.UI_NOW, self.ui.handle, partitions=self.partitions, consumer=name
            ),
        ]
        self.consuming.set()
        _log.info("gateway consuming", partitions=self.partitions, consumer=name)
        await asyncio.gather(*(consumer.run() for consumer in self._consumers))

    async def _sample_latency(self) -> None:
        """Keep ``gateway_shard_latency_seconds`` current between ``/stats`` calls."""
        while True:
            await asyncio.sleep(LATENCY_SAMPLE_S)
            self.shards.stats()

    # -- status -----------------------------------------------------------------------------

    async def ready(self) -> bool:
        """Every shard ready and the consumers running."""
        return self.shards.all_up() and self.consuming.is_set()

    def stats(self) -> dict[str, Any]:
        section = self.shards.stats()
        section.update(
            guilds=len(self.bot.guilds),
            partitions=self.partitions,
            pending_replies=len(self.pending),
            autocomplete_answered_without_audio=self.autocomplete.late,
        )
        return section

    async def _max_concurrency(self) -> int:
        return await self.bot.max_concurrency()

    def _latency(self, shard_id: int) -> float | None:
        shard = self.bot.get_shard(shard_id)
        return None if shard is None else shard.latency

    # -- discord.py wiring ------------------------------------------------------------------

    async def _setup(self, bot: GatewayBot) -> None:
        for command in music_commands(self.flow, self.autocomplete):
            bot.tree.add_command(command)
        bot.tree.add_command(settings_group(self.settings_writer))
        await bot.tree.set_translator(CommandTranslator())
        bot.add_listener(self.buttons.on_interaction, "on_interaction")
        bot.add_listener(self._on_shard_connect, "on_shard_connect")
        bot.add_listener(self._on_shard_ready, "on_shard_ready")
        bot.add_listener(self._on_shard_resumed, "on_shard_resumed")
        bot.add_listener(self._on_shard_disconnect, "on_shard_disconnect")
        bot.add_listener(self.voice.reattach, "on_guild_available")
        bot.add_listener(self.voice.reattach, "on_guild_join")
        bot.add_listener(self._on_guild_remove, "on_guild_remove")
        bot.add_listener(self._on_voice_state_update, "on_voice_state_update")
        if self._options.sync_commands:
            async with discord_operation(COMMAND_SYNC):
                synced = await bot.tree.sync()
            _log.info("commands synced", commands=[c.name for c in synced])

    async def _on_shard_connect(self, shard_id: int) -> None:
        if self.bot.shard_count is not None and self.settings.discord.shard_count is None:
            self.shards.set_shard_ids(self.bot.shards.keys())
        self.shards.mark(shard_id, ShardState.CONNECTED)

    async def _on_shard_ready(self, shard_id: int) -> None:
        self.shards.mark(shard_id, ShardState.READY)
        for guild in self.bot.guilds:
            if guild.shard_id == shard_id:
                await self.voice.report_listeners(guild, force=True)

    async def _on_shard_resumed(self, shard_id: int) -> None:
        self.shards.mark(shard_id, ShardState.RESUMED)

    async def _on_shard_disconnect(self, shard_id: int) -> None:
        self.shards.mark(shard_id, ShardState.DISCONNECTED)
        count_retry(GATEWAY_CONNECT)

    async def _on_guild_remove(self, guild: discord.Guild) -> None:
        await self.voice.guild_removed(guild.id)

    async def _on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        if before.channel == after.channel:
            return  # mute, deafen, stream: the listener count did not change
        bot_user = self.bot.user
        await self.voice.report_listeners(
            member.guild, force=bot_user is not None and member.id == bot_user.id
        )


def _spawn(coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
    return asyncio.get_running_loop().create_task(coro, name=name)
