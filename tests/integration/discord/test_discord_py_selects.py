"""Select menus: unmodified discord.py 2.7 views receive picks made through the control API."""

from __future__ import annotations

from typing import Any

import discord
from emulator_bots import EmulatorBot, running

from backbeat.gateway.discord_endpoints import discord_py_endpoints
from backbeat.testing.discord import DiscordEmulator


async def test_persistent_view_selects_see_the_picked_values() -> None:
    async with DiscordEmulator(default_world=True) as emu:
        ids = emu.default_ids
        control = emu.control
        dj = await control.create_role(ids["guild"], "DJ")
        with discord_py_endpoints(emu.rest_url, emu.gateway_url):
            bot = EmulatorBot()
            async with running(bot, emu.token):
                await bot.until(lambda: bot.outcomes.get("ready", False), 20)
                created = await control.invoke_command(
                    guild_id=ids["guild"],
                    channel_id=ids["text"],
                    user_id=ids["alice"],
                    name="respond",
                    options={"kind": "select"},
                )
                record = await control.interaction(created["id"], min_events=1)
                message = record["original_message"]
                selects = [c for row in message["components"] for c in row["components"]]
                assert [(c["type"], c["custom_id"]) for c in selects] == [
                    (3, "s:genre"),
                    (5, "s:user"),
                    (6, "s:role"),
                ]

                await _string_select(emu, bot, message["id"], ids)
                await _user_select(emu, bot, message["id"], ids)
                await _role_select(emu, bot, message["id"], ids, int(dj["id"]))


async def _string_select(
    emu: DiscordEmulator, bot: EmulatorBot, message_id: str, ids: dict[str, int]
) -> None:
    picked = await emu.control.click_component(
        message_id=message_id, user_id=ids["bob"], custom_id="s:genre", values=["jazz", "rock"]
    )
    assert picked["data"] == {
        "custom_id": "s:genre",
        "component_type": 3,
        "values": ["jazz", "rock"],
    }
    record = await emu.control.interaction(picked["id"], min_events=1)
    assert bot.outcomes["genre"] == ["jazz", "rock"]
    # Answered with callback type 7: the select's own message is edited in place.
    assert record["initial_response"]["type"] == 7
    edited = record["original_message"]
    assert edited["id"] == message_id
    assert edited["content"] == "genres: jazz, rock"
    assert edited["history"][0]["content"] == "choose"
    assert [row["components"][0]["custom_id"] for row in edited["components"]] == [
        "s:genre",
        "s:user",
        "s:role",
    ]


async def _user_select(
    emu: DiscordEmulator, bot: EmulatorBot, message_id: str, ids: dict[str, int]
) -> None:
    picked = await emu.control.click_component(
        message_id=message_id,
        user_id=ids["alice"],
        custom_id="s:user",
        values=[str(ids["carol"]), str(ids["bob"])],
    )
    assert set(picked["data"]["resolved"]["members"]) == {str(ids["carol"]), str(ids["bob"])}
    record = await emu.control.interaction(picked["id"], min_events=1)
    users: list[Any] = bot.outcomes["user"]
    # The resolved data became guild members, not bare snowflakes.
    assert all(isinstance(u, discord.Member) for u in users)
    assert sorted(u.id for u in users) == sorted([ids["bob"], ids["carol"]])
    assert record["initial_response"]["type"] == 4
    assert record["original_message"]["content"] == "users: bob, carol"
    assert record["original_message"]["id"] != message_id


async def _role_select(
    emu: DiscordEmulator, bot: EmulatorBot, message_id: str, ids: dict[str, int], role: int
) -> None:
    picked = await emu.control.click_component(
        message_id=message_id, user_id=ids["alice"], custom_id="s:role", values=[str(role)]
    )
    record = await emu.control.interaction(picked["id"], min_events=1)
    [seen] = bot.outcomes["role"]
    assert isinstance(seen, discord.Role)
    assert (seen.id, seen.name) == (role, "DJ")
    assert record["initial_response"]["type"] == 4
    assert record["original_message"]["content"] == "role: DJ"
    assert record["original_message"]["flags"] & 64
