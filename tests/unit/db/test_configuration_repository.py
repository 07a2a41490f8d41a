"""Guild settings: defaults, updates, validation and change hooks."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.db.repositories import ConfigurationRepository
from backbeat.domain.guild_settings import AutoplayMode, GuildSettings, PremiumTier

GUILD = 444_444_444_444_444_444


async def test_absent_guild_gets_defaults(engine: AsyncEngine) -> None:
    repo = ConfigurationRepository(engine)
    assert await repo.get(guild_id=GUILD) == GuildSettings(guild_id=GUILD)


async def test_update_persists_and_runs_hooks_after_commit(engine: AsyncEngine) -> None:
    repo = ConfigurationRepository(engine)
    seen: list[GuildSettings] = []

    async def hook(settings: GuildSettings) -> None:
        # Runs after commit: a fresh read already sees the new value.
        assert await repo.get(guild_id=settings.guild_id) == settings
        seen.append(settings)

    repo.on_change(hook)
    updated = await repo.update(
        guild_id=GUILD,
        premium_tier="pro",
        autoplay_enabled=True,
        autoplay_mode=AutoplayMode.MIXED,
        default_volume=80,
        dj_role_id=1_234_567_890_123_456_789,
        blacklist=["badword", "https://spam.test"],
    )
    again = await repo.update(guild_id=GUILD, twenty_four_seven=True, vote_skip_ratio=0.75)

    assert updated.premium_tier is PremiumTier.PRO
    assert updated.blacklist == ("badword", "https://spam.test")
    assert again.autoplay_mode is AutoplayMode.MIXED
    assert again.twenty_four_seven
    assert await repo.get(guild_id=GUILD) == again
    assert seen == [updated, again]


async def test_invalid_updates_write_nothing(engine: AsyncEngine) -> None:
    repo = ConfigurationRepository(engine)
    calls: list[GuildSettings] = []

    async def hook(settings: GuildSettings) -> None:
        calls.append(settings)

    repo.on_change(hook)
    with pytest.raises(ValueError, match="unknown settings: colour"):
        await repo.update(guild_id=GUILD, colour="red")
    with pytest.raises(ValueError, match="default_volume"):
        await repo.update(guild_id=GUILD, default_volume=5000)
    with pytest.raises(ValueError, match="loud"):
        await repo.update(guild_id=GUILD, autoplay_mode="loud")
    assert await repo.get(guild_id=GUILD) == GuildSettings(guild_id=GUILD)
    assert calls == []


async def test_failing_hook_does_not_undo_the_update(engine: AsyncEngine) -> None:
    repo = ConfigurationRepository(engine)
    later: list[int] = []

    async def broken(settings: GuildSettings) -> None:
        raise RuntimeError("cache down")

    async def fine(settings: GuildSettings) -> None:
        later.append(settings.default_volume)

    repo.on_change(broken)
    repo.on_change(fine)
    await repo.update(guild_id=GUILD, default_volume=55)
    assert (await repo.get(guild_id=GUILD)).default_volume == 55
    assert later == [55]

    reset = await repo.reset(guild_id=GUILD)
    assert reset == GuildSettings(guild_id=GUILD)
    assert await repo.get(guild_id=GUILD) == reset
    assert later == [55, 100]
