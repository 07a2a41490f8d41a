"""Component clicks and select picks: the interaction data, resolved entities and refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from backbeat.testing.discord import DiscordEmulator
from backbeat.testing.discord.control_client import ControlError

STRING_SELECT = {
    "type": 3,
    "custom_id": "genre",
    "min_values": 1,
    "max_values": 2,
    "options": [{"label": "Rock", "value": "rock"}, {"label": "Jazz", "value": "jazz"}],
}
COMPONENTS: list[dict[str, Any]] = [
    {"type": 1, "components": [{"type": 2, "style": 1, "label": "go", "custom_id": "go"}]},
    {"type": 1, "components": [STRING_SELECT]},
    {"type": 1, "components": [{"type": 5, "custom_id": "users", "max_values": 2}]},
    {"type": 1, "components": [{"type": 7, "custom_id": "who", "max_values": 2}]},
    {"type": 1, "components": [{"type": 8, "custom_id": "voice", "channel_types": [2]}]},
    {"type": 1, "components": [{"type": 6, "custom_id": "off", "disabled": True}]},
]


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(default_world=True) as emulator:
        yield emulator


@pytest.fixture
async def message_id(emu: DiscordEmulator) -> str:
    """A bot message in the default text channel carrying every kind of component."""
    url = f"{emu.rest_url}/channels/{emu.default_ids['text']}/messages"
    headers = {"Authorization": f"Bot {emu.token}"}
    body = {"content": "pick", "components": COMPONENTS}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.post(url, json=body) as response,
    ):
        assert response.status == 200
        created: dict[str, Any] = await response.json()
    return str(created["id"])


async def pick(
    emu: DiscordEmulator,
    message_id: str,
    custom_id: str,
    values: list[str] | None = None,
    **kw: Any,
) -> dict[str, Any]:
    return await emu.control.click_component(
        message_id=message_id,
        user_id=emu.default_ids["alice"],
        custom_id=custom_id,
        values=values,
        **kw,
    )


async def test_button_click_takes_its_type_from_the_message(
    emu: DiscordEmulator, message_id: str
) -> None:
    clicked = await pick(emu, message_id, "go")
    assert clicked["type"] == 3
    assert clicked["data"] == {"custom_id": "go", "component_type": 2}


async def test_string_select_values_are_sent_as_picked(
    emu: DiscordEmulator, message_id: str
) -> None:
    picked = await pick(emu, message_id, "genre", ["jazz", "rock"], component_type=3)
    assert picked["data"] == {"custom_id": "genre", "component_type": 3, "values": ["jazz", "rock"]}


async def test_user_select_resolves_users_and_members(
    emu: DiscordEmulator, message_id: str
) -> None:
    ids = emu.default_ids
    picked = await pick(emu, message_id, "users", [str(ids["bob"])])
    resolved = picked["data"]["resolved"]
    assert resolved["users"][str(ids["bob"])]["username"] == "bob"
    member = resolved["members"][str(ids["bob"])]
    assert "user" not in member
    assert "deaf" not in member
    assert int(member["permissions"]) > 0


async def test_mentionable_select_resolves_users_and_roles(
    emu: DiscordEmulator, message_id: str
) -> None:
    ids = emu.default_ids
    role = await emu.control.create_role(ids["guild"], "DJ")
    picked = await pick(emu, message_id, "who", [str(ids["carol"]), role["id"]])
    resolved = picked["data"]["resolved"]
    assert set(resolved["users"]) == {str(ids["carol"])}
    assert resolved["roles"][role["id"]]["name"] == "DJ"


async def test_channel_select_resolves_partial_channels_of_its_types(
    emu: DiscordEmulator, message_id: str
) -> None:
    ids = emu.default_ids
    picked = await pick(emu, message_id, "voice", [str(ids["lounge"])])
    channel = picked["data"]["resolved"]["channels"][str(ids["lounge"])]
    assert (channel["name"], channel["type"]) == ("Lounge", 2)
    assert int(channel["permissions"]) > 0
    with pytest.raises(ControlError) as refused:
        await pick(emu, message_id, "voice", [str(ids["text"])])
    assert "channel_types" in str(refused.value)


@pytest.mark.parametrize(
    ("custom_id", "values", "extra", "reason"),
    [
        ("genre", ["metal"], {}, "Not options"),
        ("genre", [], {}, "0 values picked"),
        ("genre", ["rock", "jazz", "rock"], {}, "3 values picked"),
        ("genre", ["rock"], {"component_type": 2}, "not 2"),
        ("go", ["rock"], {}, "Only select menus"),
        ("off", [], {}, "disabled"),
        ("users", ["12345"], {}, "Unknown user"),
        ("nothing", [], {}, "no component"),
    ],
)
async def test_picks_a_discord_client_would_not_allow_are_refused(
    emu: DiscordEmulator,
    message_id: str,
    custom_id: str,
    values: list[str],
    extra: dict[str, Any],
    reason: str,
) -> None:
    with pytest.raises(ControlError) as refused:
        await pick(emu, message_id, custom_id, values, **extra)
    assert (refused.value.status, refused.value.code) == (400, 50035)
    assert reason in str(refused.value)
