"""Seed flow "Button interaction": the pause button is acknowledged at once (deferred
update) and the buttons show disabled while the command is in flight; ``pause`` crosses
``commands`` with the clicking user, Lavalink's player pauses, ``ui:now`` carries the paused
state, the message shows the resume button instead; the reply is tied to the command by
correlation id, the audit row names the user, metrics move."""

from __future__ import annotations

import pytest
from e2e_rig import (
    Deployment,
    Taps,
    answered,
    buttons_of,
    live_messages,
    make_place,
    player,
    total,
    until,
)
from sqlalchemy import select

from backbeat.db.models import AuditLog
from backbeat.domain.messages import Channel

pytestmark = pytest.mark.slow

DEFERRED_UPDATE = 6
HELD_MS = 6_000  # long enough for the disabling edit to land on a loaded machine


async def test_button_interaction_flow(deployment: Deployment) -> None:
    d = deployment
    place = await make_place(d.emu)
    await d.emu.control.move_voice(place.guild, place.alice, place.voice)
    created = await d.emu.control.invoke_command(
        guild_id=place.guild,
        channel_id=place.text,
        user_id=place.alice,
        name="play",
        options={"query": "house"},
    )
    await until(lambda: answered(d.emu, created["id"]))
    await until(lambda: player(d.lavalink, place.guild))
    [message] = await until(lambda: live_messages(d.emu, place.text))
    pause, resume = f"bb:pause:{place.guild}", f"bb:resume:{place.guild}"
    assert pause in buttons_of(message)

    before = await d.metrics()
    # Lavalink answers the pause late, so the message shows its in-flight state first.
    await d.lavalink.delay(HELD_MS, path_prefix="/v4/sessions/", times=1)
    async with Taps(d.bus) as taps:
        click = await d.emu.control.click_component(
            message_id=message["id"], user_id=place.alice, custom_id=pause
        )

        async def paused() -> bool:
            found = await d.lavalink.player(place.guild)
            return found is not None and found["paused"] is True

        await until(paused)

        async def shows_resume() -> dict[str, bool] | None:
            buttons = buttons_of(await d.emu.control.message(message["id"]))
            return buttons if buttons.get(resume) is False else None

        buttons = await until(shows_resume)
        await taps.wait(
            Channel.UI_NOW,
            lambda m: m.type == "update" and m.payload.state.paused is True,  # type: ignore[attr-defined]
        )

    # What the user sees: acknowledged at once, then ⏸️ became ▶️ on the same message.
    record = await d.emu.control.interaction(click["id"], min_events=1)
    assert record["initial_response"]["type"] == DEFERRED_UPDATE
    assert pause not in buttons
    live = await live_messages(d.emu, place.text)
    assert [m["id"] for m in live] == [message["id"]]
    # Meanwhile (Lavalink held the pause back) the buttons showed disabled, then ▶️.
    shown = [buttons_of(h) for h in live[0]["history"]]
    assert any(h.get(pause) is True for h in shown), shown

    # The bus: one pause from alice; the reply correlated; UI states after it in order.
    [command] = taps.of(Channel.COMMANDS, place.guild)
    assert command.type == "pause"
    assert command.context.user_id == place.alice  # type: ignore[attr-defined]
    replies = taps.of(Channel.TO_DISCORD, place.guild, "notice", "error-reply")
    assert [r.correlation_id for r in replies] == [command.id]
    ui = taps.of(Channel.UI_NOW, place.guild)
    assert ui
    assert all(m.type == "update" for m in ui)
    assert ui[-1].payload.state.paused is True  # type: ignore[attr-defined]
    seqs = [m.payload.state_seq for m in ui]  # type: ignore[attr-defined]
    assert seqs == sorted(seqs)

    # SQL: the audit row of the pause, by alice, naming the bus message.
    async with d.engine.connect() as conn:
        audit = (
            await conn.execute(
                select(AuditLog.action, AuditLog.actor_id, AuditLog.payload)
                .where(AuditLog.guild_id == place.guild)
                .order_by(AuditLog.id)
            )
        ).all()
    assert [(a.action, a.actor_id) for a in audit] == [
        ("play", place.alice),
        ("pause", place.alice),
    ]
    assert audit[-1].payload == {"message_id": command.id, "paused": True}

    # Metrics: one component acknowledgement, one pause handled, the message edited.
    after = await d.metrics()

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("gateway_interaction_ack_seconds_count", operation="component") == 1
    assert moved("audio_command_duration_seconds_count", command="pause", outcome="ok") == 1
    assert moved("discord_operation_duration_seconds_count", operation="message.edit") >= 1
