"""The reply components, with the test playing audio's side over the bus: ``/search`` results
as a select menu whose pick is enqueued (and refused outside voice), and ``/queue`` pages
turned with buttons in the same message. (test_gateway_commands_with_audio picks a search
result with the real audio component.)"""

from __future__ import annotations

from typing import Any

from gateway_harness import (
    Place,
    StartGateway,
    Watch,
    notice,
    queue_page,
    track,
    until,
)

from backbeat.bus.interface import Bus
from backbeat.domain.messages import Channel, ReplyTarget
from backbeat.domain.messages.commands import CommandEnvelope, Play, QueueView, Search
from backbeat.domain.messages.to_discord import (
    QueueEntry,
    QueuePage,
    SearchResults,
    SearchResultsPayload,
)
from backbeat.testing.discord import DiscordEmulator

SELECT = 3


def components(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in message.get("components", []) for c in row["components"]]


def page_reply(command: CommandEnvelope, page: int) -> QueuePage:
    entries = [
        QueueEntry(position=n, track=track(f"Song {n}"))
        for n in range((page - 1) * 10 + 1, min(page * 10, 15) + 1)
    ]
    return queue_page(command, entries, total=15, total_length_ms=15 * 180_000, page=page, pages=2)


async def test_search_pick_is_enqueued_and_queue_pages_turn(
    emu: DiscordEmulator,
    place: Place,
    gateway_bus: Bus,
    start_gateway: StartGateway,
) -> None:
    control = emu.control
    await control.move_voice(place.guild, place.alice, place.voice)
    async with (
        Watch(gateway_bus, Channel.COMMANDS) as commands,
        start_gateway(),
    ):
        # /search: the results come back as an embed and a select of the tracks.
        asked = await control.invoke_command(
            guild_id=place.guild,
            channel_id=place.text,
            user_id=place.alice,
            name="search",
            options={"query": "night"},
        )
        search = await commands.next(lambda m: m.type == "search")
        assert isinstance(search, Search)
        assert search.payload.query == "night"
        found = [track("Night Ferry"), track("Night Bus"), track("Nightfall")]
        await gateway_bus.publish(
            Channel.TO_DISCORD,
            SearchResults(
                **search.reply_fields(),  # type: ignore[arg-type]
                payload=SearchResultsPayload(
                    target=ReplyTarget(context=search.context), query="night", tracks=found
                ),
            ),
        )
        record = await control.interaction(asked["id"], min_events=2)
        results = record["original_message"]
        assert results["embeds"][0]["title"] == "Results for night"
        [menu] = components(results)
        assert menu["type"] == SELECT
        assert menu["custom_id"] == f"bbs:{place.guild}"
        assert [o["value"] for o in menu["options"]] == [t.uri for t in found]

        # A pick by someone outside voice is refused (ephemerally) and nothing is published.
        refused = await control.click_component(
            message_id=results["id"],
            user_id=place.bob,
            custom_id=menu["custom_id"],
            values=[str(found[0].uri)],
        )
        record = await control.interaction(refused["id"], min_events=2)
        [told] = record["followups"]
        assert told["content"] == "🔇 Join a voice channel first."

        # The pick is enqueued as /play of that track, and the answer replaces the menu.
        picked = await control.click_component(
            message_id=results["id"],
            user_id=place.alice,
            custom_id=menu["custom_id"],
            values=[str(found[1].uri)],
        )
        play = await commands.next(lambda m: m.type == "play")
        assert isinstance(play, Play)
        assert play.payload.query == found[1].uri
        assert play.context.voice_channel_id == place.voice
        await gateway_bus.publish(
            Channel.TO_DISCORD,
            notice(play, "play.queued", title="Night Bus", author="Chill Artist", position=2),
        )

        async def replaced() -> dict[str, Any] | None:
            message = await control.message(results["id"])
            return message if "Queued" in (message.get("content") or "") else None

        message = await until(replaced)
        assert message["content"] == "➕ Queued **Night Bus** by Chill Artist at position 2"
        assert not components(message)
        assert (await control.interaction(picked["id"]))["initial_response"]["type"] == 6

        # /queue: page 1 of 2 with its buttons; "next" shows page 2 in the same message.
        asked = await control.invoke_command(
            guild_id=place.guild, channel_id=place.text, user_id=place.alice, name="queue"
        )
        first = await commands.next(lambda m: m.type == "queue")
        assert isinstance(first, QueueView)
        await gateway_bus.publish(Channel.TO_DISCORD, page_reply(first, 1))
        record = await control.interaction(asked["id"], min_events=2)
        page_one = record["original_message"]
        assert "Song 1" in page_one["embeds"][0]["description"]
        previous, following = components(page_one)
        assert previous["disabled"] is True
        assert following["custom_id"] == f"bbq:{place.guild}:2"
        await control.click_component(
            message_id=page_one["id"], user_id=place.bob, custom_id=following["custom_id"]
        )
        second = await commands.next(lambda m: m.type == "queue")
        assert isinstance(second, QueueView)
        assert second.payload.page == 2
        await gateway_bus.publish(Channel.TO_DISCORD, page_reply(second, 2))

        async def turned() -> dict[str, Any] | None:
            message = await control.message(page_one["id"])
            embeds = message.get("embeds") or []
            return message if embeds and "Song 11" in embeds[0]["description"] else None

        page_two = await until(turned)
        back, ahead = components(page_two)
        assert back["custom_id"] == f"bbq:{place.guild}:1"
        assert ahead["disabled"] is True
        assert not commands.of_type("play")  # bob's pick from outside voice was refused
