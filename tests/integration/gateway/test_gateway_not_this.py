"""Steering autoplay from the now-playing message: the reason line and "not this", with the
test playing audio's side over the bus."""

from __future__ import annotations

import asyncio

from gateway_harness import (
    EPHEMERAL,
    Place,
    StartGateway,
    Watch,
    buttons_of,
    notice,
    post_now_playing,
    state,
    until,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.interface import Bus
from backbeat.cache import CONTROL_BUCKET
from backbeat.db.repositories import RateLimitRepository
from backbeat.domain.messages import Channel
from backbeat.domain.messages.commands import AutoplayReject
from backbeat.domain.messages.ui import AutoplayReason, StatePayload, UiUpdate
from backbeat.domain.records import RateLimitPolicy
from backbeat.testing.discord import DiscordEmulator


async def owned_place(emu: DiscordEmulator) -> Place:
    """A guild alice owns (a manager: she may skip anyone's track) and bob is in."""
    control = emu.control
    alice = int((await control.create_user("alice"))["id"])
    bob = int((await control.create_user("bob"))["id"])
    guild = int((await control.create_guild("g", owner_id=alice, members=[alice, bob]))["id"])
    text = int((await control.create_channel(guild, "general"))["id"])
    voice = int((await control.create_channel(guild, "Lounge", "voice"))["id"])
    return Place(guild, text, voice, alice, bob)


async def told(emu: DiscordEmulator, interaction_id: str) -> str:
    """The ephemeral followup a click got."""
    record = await emu.control.interaction(interaction_id, min_events=2)
    [followup] = record["followups"]
    assert followup["flags"] & EPHEMERAL
    return str(followup["content"])


async def test_not_this_rejects_an_autoplay_pick_with_its_scope(
    emu: DiscordEmulator,
    gateway_bus: Bus,
    start_gateway: StartGateway,
    engine: AsyncEngine,
) -> None:
    control = emu.control
    place = await owned_place(emu)
    await RateLimitRepository(engine).put(
        policy=RateLimitPolicy(bucket=CONTROL_BUCKET, limit=1, window_seconds=60)
    )
    pick = state(
        place,
        requester_id=None,
        is_autoplay_track=True,
        autoplay_reason="more from Chill Artist",
        autoplay_why=AutoplayReason(kind="artist", subject="Chill Artist"),
    )
    async with (
        Watch(gateway_bus, Channel.COMMANDS) as commands,
        start_gateway(),
    ):
        message = await post_now_playing(emu, gateway_bus, place, pick)
        embed = message["embeds"][0]
        assert embed["title"] == "🎶 Now playing · ♾️ autoplay pick (more from Chill Artist)"
        labels = {b["custom_id"]: b.get("label") for b in buttons_of(message)}
        assert labels[f"bb:nottrack:{place.guild}"] == "Not this track"
        assert labels[f"bb:notartist:{place.guild}"] == "Not this artist"

        # bob may not skip a track autoplay chose (no DJ role: managers only): told, no command.
        refused = await control.click_component(
            message_id=message["id"], user_id=place.bob, custom_id=f"bb:notartist:{place.guild}"
        )
        assert "/voteskip" in await told(emu, refused["id"])

        # alice (the owner): autoplay-reject for the track shown, with the artist scope.
        click = await control.click_component(
            message_id=message["id"], user_id=place.alice, custom_id=f"bb:notartist:{place.guild}"
        )
        reject = await commands.next(lambda m: m.type == "autoplay-reject")
        assert isinstance(reject, AutoplayReject)
        assert (reject.payload.identifier, reject.payload.scope) == ("lofi beats", "artist")
        assert reject.context.user_id == place.alice
        assert not [m for m in commands.seen if m.type == "autoplay-reject"]  # bob's never came
        # audio's confirmation is told to the clicker (the message cannot show it).
        await gateway_bus.publish(
            Channel.TO_DISCORD,
            notice(reject, "autoplay.rejected", scope="artist", entry="artist:chill artist"),
        )
        assert (
            await told(emu, click["id"])
            == "🚫 Autoplay will not suggest artist:chill artist again."
        )

        # The rate limit of the other controls: a second click within the minute slows down.
        async def enabled() -> bool:
            current = await control.message(message["id"])
            return not any(b.get("disabled") for b in buttons_of(current))

        await until(enabled)
        again = await control.click_component(
            message_id=message["id"], user_id=place.alice, custom_id=f"bb:nottrack:{place.guild}"
        )
        assert "Slow down" in await told(emu, again["id"])

        # A user's own track: no "not this" row; a button of an older message is refused.
        await gateway_bus.publish(
            Channel.UI_NOW,
            UiUpdate(guild_id=place.guild, payload=StatePayload(state_seq=2, state=state(place))),
        )

        async def plain() -> bool:
            current = await control.message(message["id"])
            ids = [b["custom_id"] for b in buttons_of(current)]
            return len(ids) == 10 and f"bb:nottrack:{place.guild}" not in ids

        await until(plain)
        title = (await control.message(message["id"]))["embeds"][0]["title"]
        assert "autoplay" not in title
        old = await control.post_message(
            place.text,
            place.alice,
            "an older now-playing message",
            components=[
                {
                    "type": 1,
                    "components": [
                        {
                            "type": 2,
                            "style": 2,
                            "label": "x",
                            "custom_id": f"bb:nottrack:{place.guild}",
                        }
                    ],
                }
            ],
        )
        stale = await control.click_component(
            message_id=old["id"], user_id=place.alice, custom_id=f"bb:nottrack:{place.guild}"
        )
        assert await told(emu, stale["id"]) == "♾️ Autoplay did not choose the track playing now."
        await asyncio.sleep(0.2)  # a wrongly published command would have arrived by now
        assert not [m for m in commands.seen if m.type == "autoplay-reject"]
