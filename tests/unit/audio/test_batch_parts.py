"""Pure parts of the batch path: how a batch is cut into rounds, and the coalesced patch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from backbeat.audio.handlers.player_patch import CURRENT_PATCH, PlayerPatch, player_for
from backbeat.audio.ports import Players
from backbeat.audio.processor import rounds
from backbeat.bus.interface import Delivery
from backbeat.domain.messages import Channel, DiscordContext
from backbeat.domain.messages.commands import (
    CommandEnvelope,
    Loop,
    LoopPayload,
    QueueView,
    Skip,
    SkipPayload,
    Toggle,
    Volume,
    VolumePayload,
)
from backbeat.domain.queue import LoopMode

CONTEXT = DiscordContext(user_id=7, text_channel_id=8)
A, B = 10, 20


def _item(command: CommandEnvelope) -> tuple[Delivery, CommandEnvelope]:
    return Delivery(command, Channel.COMMANDS, 0, "1-0", 1), command


def _types(found: list[list[tuple[Delivery, CommandEnvelope]]]) -> list[list[str]]:
    return [[f"{c.guild_id}:{c.type}" for _, c in round_] for round_ in found]


def test_a_round_takes_a_guilds_controls_up_to_its_first_other_command() -> None:
    items = [
        _item(Volume(guild_id=A, context=CONTEXT, payload=VolumePayload(percent=5))),
        _item(Toggle(guild_id=B, context=CONTEXT)),
        _item(Toggle(guild_id=A, context=CONTEXT)),
        _item(Skip(guild_id=A, context=CONTEXT, payload=SkipPayload(count=1))),
        _item(Volume(guild_id=A, context=CONTEXT, payload=VolumePayload(percent=6))),
        _item(QueueView(guild_id=B, context=CONTEXT)),
        _item(Loop(guild_id=B, context=CONTEXT, payload=LoopPayload(mode=LoopMode.OFF))),
    ]
    assert _types(rounds(items)) == [
        ["10:volume", "10:toggle", "10:skip", "20:toggle"],
        ["10:volume", "20:queue"],  # a read-only command is alone in its guild's round
        ["20:loop"],
    ]


class _Players:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def set_paused(self, guild_id: int, paused: bool) -> None:
        self.calls.append(("paused", paused))

    async def set_volume(self, guild_id: int, percent: int) -> None:
        self.calls.append(("volume", percent))

    async def set_filters(self, guild_id: int, filters: Mapping[str, Any]) -> None:
        self.calls.append(("filters", dict(filters)))


async def test_a_patch_sends_each_changed_field_once_with_its_last_value() -> None:
    players = _Players()
    patch = PlayerPatch(cast(Players, players), A)
    token = CURRENT_PATCH.set(patch)
    try:
        for index, (paused, volume) in enumerate([(True, 10), (False, 20), (True, 30)]):
            patch.current = index
            await player_for(cast(Players, players), A).set_paused(A, paused)
            await player_for(cast(Players, players), A).set_volume(A, volume)
        assert players.calls == []
        assert player_for(cast(Players, players), B) is players  # another guild: at once
    finally:
        CURRENT_PATCH.reset(token)
    assert await patch.flush() == [0, 1, 2]
    assert players.calls == [("volume", 30), ("paused", True)]
    assert not patch.pending
