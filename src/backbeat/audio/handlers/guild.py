"""Guild settings commands: autoplay (on/off and mode), stay (24/7), settings-changed."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from backbeat.audio.context import Audio
from backbeat.audio.guilds import GuildState
from backbeat.audio.ledger import Effect
from backbeat.audio.replies import notice
from backbeat.bus.interface import Delivery
from backbeat.domain.messages.commands import Autoplay, SettingsChanged, Stay


async def autoplay(
    audio: Audio, state: GuildState, delivery: Delivery | None, command: Autoplay
) -> None:
    """Persist autoplay on/off and its mode in ServerConfiguration (the engine comes later)."""
    before = await audio.guild_settings(state)
    enabled = (
        not before.autoplay_enabled if command.payload.enabled is None else command.payload.enabled
    )
    changes: dict[str, object] = {"autoplay_enabled": enabled}
    if command.payload.mode is not None:
        changes["autoplay_mode"] = command.payload.mode

    async def work(conn: AsyncConnection) -> Effect:
        settings = await audio.config.update(guild_id=state.guild_id, conn=conn, **changes)

        async def follow() -> None:
            state.settings = settings

        return Effect(
            reply=notice(
                command, "autoplay.set", enabled=enabled, mode=settings.autoplay_mode.value
            ),
            audit={"enabled": enabled, "mode": settings.autoplay_mode.value},
            events=[("settings.changed", {"keys": sorted(changes)})],
            follow=follow,
        )

    await audio.run(state, delivery, command, work)


async def stay(audio: Audio, state: GuildState, delivery: Delivery | None, command: Stay) -> None:
    """24/7: no idle or alone timers while on."""
    before = await audio.guild_settings(state)
    enabled = (
        not before.twenty_four_seven if command.payload.enabled is None else command.payload.enabled
    )

    async def work(conn: AsyncConnection) -> Effect:
        settings = await audio.config.update(
            guild_id=state.guild_id, twenty_four_seven=enabled, conn=conn
        )

        async def follow() -> None:
            state.settings = settings
            if audio.timers is not None:
                await audio.timers.settings_changed(state)

        return Effect(
            reply=notice(command, "stay.set", enabled=enabled),
            audit={"enabled": enabled},
            events=[("settings.changed", {"keys": ["twenty_four_seven"]})],
            follow=follow,
        )

    await audio.run(state, delivery, command, work)


async def settings_changed(
    audio: Audio, state: GuildState, delivery: Delivery | None, command: SettingsChanged
) -> None:
    """Reload the guild's settings (changed by the panel or another process); nothing is
    written, so no applied row either: reloading twice is harmless."""
    await audio.guild_settings(state, reload=True)
    if audio.timers is not None:
        await audio.timers.settings_changed(state)
    await audio.publish_ui(state, "update")
    await audio.to_discord(notice(command, "settings.reloaded", count=len(command.payload.keys)))
