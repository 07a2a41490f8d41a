"""Guild settings bounds: volume is Lavalink's percentage, at most 200."""

from __future__ import annotations

import pytest

from backbeat.domain.guild_settings import MAX_VOLUME, GuildSettings
from backbeat.domain.messages.commands import MAX_VOLUME as COMMAND_MAX_VOLUME


def test_the_default_volume_is_bounded_like_the_volume_command() -> None:
    assert MAX_VOLUME == COMMAND_MAX_VOLUME == 200
    assert GuildSettings(guild_id=1, default_volume=200).default_volume == 200
    with pytest.raises(ValueError, match="default_volume"):
        GuildSettings(guild_id=1, default_volume=201)
