"""Replies, rate limits and autocomplete, with the test answering as audio over the bus."""

from __future__ import annotations

import asyncio
import time

from gateway_harness import (
    Place,
    StartGateway,
    Watch,
    gateway_settings,
    is_deleted,
    post_now_playing,
    queue_page,
    until,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.bus.interface import Bus
from backbeat.cache import CONTROL_BUCKET
from backbeat.db.repositories import RateLimitRepository
from backbeat.domain.messages import Channel, InteractionRef, ReplyTarget
from backbeat.domain.messages.commands import CommandEnvelope
from backbeat.domain.messages.to_discord import (
    Choice,
    ErrorReply,
    ErrorReplyPayload,
    QueueEntry,
    Suggestions,
    SuggestionsPayload,
)
from backbeat.domain.records import RateLimitPolicy
from backbeat.testing.discord import DiscordEmulator

from gateway_harness import track  # isort: skip


def error_for(command: CommandEnvelope, message: str, **context: object) -> ErrorReply:
    target_context = command.context.model_copy(update=context) if context else command.context
    return ErrorReply(
        **command.reply_fields(),  # type: ignore[arg-type]
        payload=ErrorReplyPayload(
            target=ReplyTarget(context=target_context), code="nothing_playing", message=message
        ),
    )


async def test_queue_reply_rate_limit_and_an_expired_token(
    emu: DiscordEmulator,
    place: Place,
    gateway_bus: Bus,
    start_gateway: StartGateway,
    engine: AsyncEngine,
) -> None:
    control = emu.control
    await RateLimitRepository(engine).put(
        policy=RateLimitPolicy(bucket=CONTROL_BUCKET, limit=1, window_seconds=60)
    )
    settings = gateway_settings(emu, reply_delete_after_s=0.3)
    async with (
        Watch(gateway_bus, Channel.COMMANDS) as commands,
        start_gateway(settings),
    ):
        # /queue: the page replaces "Processing…" as an embed.
        created = await control.invoke_command(
            guild_id=place.guild, channel_id=place.text, user_id=place.alice, name="queue"
        )
        queue = await commands.next(lambda m: m.type == "queue")
        assert isinstance(queue, CommandEnvelope)
        await gateway_bus.publish(
            Channel.TO_DISCORD,
            queue_page(
                queue,
                [QueueEntry(position=1, track=track("Next Up"))],
                total=1,
                total_length_ms=180_000,
                now_playing=track("Now"),
            ),
        )
        record = await control.interaction(created["id"], min_events=2)
        embed = record["original_message"]["embeds"][0]
        assert embed["title"] == "Queue"
        assert "Next Up" in embed["description"]

        # The control bucket allows one use a minute: the second /pause is told to slow down
        # and never reaches the bus.
        first = await control.invoke_command(
            guild_id=place.guild, channel_id=place.text, user_id=place.alice, name="pause"
        )
        pause = await commands.next(lambda m: m.type == "pause")
        second = await control.invoke_command(
            guild_id=place.guild, channel_id=place.text, user_id=place.alice, name="pause"
        )
        record = await control.interaction(second["id"], min_events=2)
        assert "Slow down" in record["original_message"]["content"]
        assert (
            "60 s" in record["original_message"]["content"]
            or " s." in (record["original_message"]["content"])
        )
        assert commands.of_type("pause") == []
        # bob has his own counter.
        await control.invoke_command(
            guild_id=place.guild, channel_id=place.text, user_id=place.bob, name="pause"
        )
        await commands.next(lambda m: m.type == "pause" and m.context.user_id == place.bob)  # type: ignore[attr-defined]

        # An error reply after the token expired goes to the text channel, and deletes itself.
        assert isinstance(pause, CommandEnvelope)
        assert pause.context.interaction is not None
        expired = pause.context.interaction.model_copy(update={"created_at": time.time() - 3600})
        await gateway_bus.publish(
            Channel.TO_DISCORD, error_for(pause, "Nothing is playing.", interaction=expired)
        )

        async def channel_notice() -> dict[str, object] | None:
            for message in await control.channel_messages(place.text):
                if "Nothing is playing" in message["content"]:
                    return message
            return None

        notice = await until(channel_notice)
        assert f"<@{place.alice}>" in str(notice["content"])
        await until(lambda: is_deleted(emu, str(notice["id"])))
        first_record = await control.interaction(first["id"])
        assert [e["kind"] for e in first_record["events"]] == ["initial"]


async def test_a_failed_button_command_is_told_and_the_buttons_come_back(
    emu: DiscordEmulator,
    place: Place,
    gateway_bus: Bus,
    start_gateway: StartGateway,
) -> None:
    control = emu.control
    async with (
        Watch(gateway_bus, Channel.COMMANDS) as commands,
        start_gateway(),
    ):
        message = await post_now_playing(emu, gateway_bus, place)
        click = await control.click_component(
            message_id=str(message["id"]), user_id=place.alice, custom_id=f"bb:skip:{place.guild}"
        )
        skip = await commands.next(lambda m: m.type == "skip")
        assert isinstance(skip, CommandEnvelope)
        await gateway_bus.publish(Channel.TO_DISCORD, error_for(skip, "Nothing to skip to."))
        record = await control.interaction(click["id"], min_events=2)
        [followup] = record["followups"]
        assert followup["flags"] & 64
        # Rendered from the code in the clicker's locale, not from the English message.
        assert followup["content"] == "⚠️ Nothing is playing."

        async def enabled_again() -> bool:
            current = await control.message(str(message["id"]))
            buttons = [c for row in current["components"] for c in row["components"]]
            return bool(current["history"]) and not any(b.get("disabled") for b in buttons)

        await until(enabled_again)

        # The queue button answers the clicker alone, leaving the message as it is.
        edits_before = len((await control.message(str(message["id"])))["history"])
        click = await control.click_component(
            message_id=str(message["id"]), user_id=place.alice, custom_id=f"bb:queue:{place.guild}"
        )
        view = await commands.next(lambda m: m.type == "queue")
        assert isinstance(view, CommandEnvelope)
        await gateway_bus.publish(
            Channel.TO_DISCORD, queue_page(view, [], total=0, total_length_ms=0)
        )
        record = await control.interaction(click["id"], min_events=2)
        [followup] = record["followups"]
        assert followup["flags"] & 64
        assert followup["embeds"][0]["title"] == "Queue"
        assert len((await control.message(str(message["id"])))["history"]) == edits_before


async def test_autocomplete_answers_from_audio_or_by_itself_in_time(
    emu: DiscordEmulator,
    place: Place,
    gateway_bus: Bus,
    start_gateway: StartGateway,
) -> None:
    control = emu.control
    settings = gateway_settings(emu, autocomplete_budget_s=0.5)

    async def ask(text: str) -> dict[str, object]:
        return await control.invoke_autocomplete(
            guild_id=place.guild,
            channel_id=place.text,
            user_id=place.alice,
            name="play",
            options={"query": text},
            focused="query",
        )

    async with (
        Watch(gateway_bus, Channel.COMMANDS) as commands,
        start_gateway(settings),
    ):
        # Audio answers in time.
        asked = await ask("lo")
        suggest = await commands.next(lambda m: m.type == "suggest")
        assert isinstance(suggest, CommandEnvelope)
        assert suggest.payload.partial == "lo"  # type: ignore[attr-defined]
        await gateway_bus.publish(Channel.TO_DISCORD, suggestions(suggest, ["lofi beats"]))
        record = await control.interaction(str(asked["id"]), min_events=1)
        assert record["initial_response"]["type"] == 8
        assert [c["value"] for c in record["initial_response"]["data"]["choices"]] == ["lofi beats"]

        # Audio is silent: the gateway answers with nothing, before Discord's deadline.
        asked = await ask("jazz")
        suggest = await commands.next(lambda m: m.type == "suggest")
        record = await control.interaction(str(asked["id"]), min_events=1)
        assert record["initial_response"]["data"]["choices"] == []
        # The late answer is remembered and used the next time audio is silent.
        await gateway_bus.publish(Channel.TO_DISCORD, suggestions(suggest, ["jazz standards"]))
        await asyncio.sleep(0.1)
        asked = await ask("jazz")
        record = await control.interaction(str(asked["id"]), min_events=1)
        assert [c["value"] for c in record["initial_response"]["data"]["choices"]] == [
            "jazz standards"
        ]


def suggestions(command: CommandEnvelope, values: list[str]) -> Suggestions:
    ref: InteractionRef | None = command.context.interaction
    assert ref is not None
    return Suggestions(
        **command.reply_fields(),  # type: ignore[arg-type]
        payload=SuggestionsPayload(
            interaction_id=ref.id,
            interaction_token=ref.token,
            choices=[Choice(name=v, value=v) for v in values],
        ),
    )
