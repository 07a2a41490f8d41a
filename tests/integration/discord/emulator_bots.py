"""A discord.py bot for the emulator tests: unmodified library, test-only subclass."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands


@contextlib.asynccontextmanager
async def running(client: discord.Client, token: str) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``client`` against the emulator for the block, then close it."""
    task = asyncio.create_task(client.start(token))
    try:
        yield task
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


GENRES = [("Rock", "rock"), ("Jazz", "jazz"), ("Techno", "techno")]


class Picker(discord.ui.View):
    """Persistent selects: strings answered by editing the message (callback type 7),
    users and roles answered with a new message (type 4). Each records what it saw."""

    def __init__(self, bot: EmulatorBot) -> None:
        super().__init__(timeout=None)
        self.bot = bot

    @discord.ui.select(
        custom_id="s:genre",
        placeholder="genres",
        min_values=1,
        max_values=2,
        options=[discord.SelectOption(label=label, value=value) for label, value in GENRES],
    )
    async def genre(self, interaction: discord.Interaction, select: discord.ui.Select[Any]) -> None:
        self.bot.outcomes["genre"] = list(select.values)
        self.bot.note()
        await interaction.response.edit_message(content="genres: " + ", ".join(select.values))

    @discord.ui.select(cls=discord.ui.UserSelect, custom_id="s:user", max_values=2)
    async def users(
        self, interaction: discord.Interaction, select: discord.ui.UserSelect[Any]
    ) -> None:
        self.bot.outcomes["user"] = list(select.values)
        self.bot.note()
        names = ", ".join(sorted(u.name for u in select.values))
        await interaction.response.send_message(f"users: {names}")

    @discord.ui.select(cls=discord.ui.RoleSelect, custom_id="s:role")
    async def roles(
        self, interaction: discord.Interaction, select: discord.ui.RoleSelect[Any]
    ) -> None:
        self.bot.outcomes["role"] = list(select.values)
        self.bot.note()
        await interaction.response.send_message(f"role: {select.values[0].name}", ephemeral=True)


class Buttons(discord.ui.View):
    """Persistent buttons, one per callback type the test exercises."""

    def __init__(self, bot: EmulatorBot) -> None:
        super().__init__(timeout=None)
        self.bot = bot

    @discord.ui.button(label="reply", custom_id="b:message")
    async def reply(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await interaction.response.send_message("button reply", ephemeral=True)

    @discord.ui.button(label="update", custom_id="b:update")
    async def update(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await interaction.response.edit_message(content="updated by a button")

    @discord.ui.button(label="defer", custom_id="b:defer")
    async def defer(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="edited after a deferred update")

    @discord.ui.button(label="think", custom_id="b:think")
    async def think(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("thought about it")


class Mixin:
    """Shared by the sharded bot and the plain client: raw event capture and waiting."""

    raw: list[dict[str, Any]]
    changed: asyncio.Event

    def _init_capture(self) -> None:
        self.raw = []
        self.changed = asyncio.Event()
        self.outcomes: dict[str, Any] = {}

    def note(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    async def on_socket_raw_receive(self, message: str) -> None:
        self.raw.append(json.loads(message))
        self.note()

    async def until(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        async with asyncio.timeout(within):
            while not predicate():
                await self.changed.wait()

    def dispatches(self, name: str) -> list[dict[str, Any]]:
        return [m["d"] for m in self.raw if m.get("t") == name]


class EmulatorBot(Mixin, commands.AutoShardedBot):
    def __init__(self, **options: Any) -> None:
        self._init_capture()
        super().__init__(
            command_prefix="!",
            intents=discord.Intents.default(),
            chunk_guilds_at_startup=False,
            guild_ready_timeout=0.1,
            enable_debug_events=True,
            **options,
        )
        self.late_gate = asyncio.Event()
        self.shard_events: list[tuple[str, int]] = []

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No 5-second pause between shards: the emulator's identify limit is off by default."""

    async def setup_hook(self) -> None:
        self.add_view(Buttons(self))
        self.add_view(Picker(self))
        bot = self

        @app_commands.command(name="respond", description="answer in several ways")
        @app_commands.describe(kind="how to answer")
        async def respond(interaction: discord.Interaction, kind: str) -> None:
            if kind == "message":
                await interaction.response.send_message("pick one", view=Buttons(bot))
            elif kind == "select":
                await interaction.response.send_message("choose", view=Picker(bot))
            elif kind == "defer":
                await interaction.response.defer(thinking=True)
                followup = await interaction.followup.send("a followup", wait=True)
                await interaction.edit_original_response(content="done thinking")
                await followup.edit(content="an edited followup")
                await followup.delete()
            elif kind == "late":
                bot.outcomes["late_started"] = True
                bot.note()
                await bot.late_gate.wait()
                try:
                    await interaction.response.send_message("too late?")
                except discord.HTTPException as exc:
                    bot.outcomes["late"] = exc
                else:
                    bot.outcomes["late"] = None
                bot.note()

        @respond.autocomplete("kind")
        async def kinds(interaction: discord.Interaction, current: str) -> list[Any]:
            return [
                app_commands.Choice(name=k, value=k)
                for k in ("message", "defer", "late")
                if k.startswith(current)
            ]

        self.tree.add_command(respond)
        synced = await self.tree.sync()
        self.outcomes["synced"] = [c.name for c in synced]

    async def on_ready(self) -> None:
        self.outcomes["ready"] = True
        self.note()

    async def on_shard_connect(self, shard_id: int) -> None:
        self.shard_events.append(("connect", shard_id))
        self.note()

    async def on_shard_resumed(self, shard_id: int) -> None:
        self.shard_events.append(("resumed", shard_id))
        self.note()


class EmulatorClient(Mixin, discord.Client):
    def __init__(self) -> None:
        self._init_capture()
        super().__init__(
            intents=discord.Intents.default(),
            chunk_guilds_at_startup=False,
            guild_ready_timeout=0.1,
            enable_debug_events=True,
        )

    async def on_ready(self) -> None:
        self.outcomes["ready"] = True
        self.note()
