"""/lyrics over the emulator and the bus: timed lines follow the ``ui:now`` position (driven
by the states the test publishes, not by waiting), freeze while paused, stop when the track
changes; plain lyrics and "no lyrics found" as before; no edit of the channel runs into a 429
with Discord's own limits."""

from __future__ import annotations

import time
from typing import Any

from gateway_harness import (
    Place,
    StartGateway,
    Watch,
    is_deleted,
    live_messages,
    state,
    track,
    until,
)

from backbeat.bus.interface import Bus
from backbeat.domain.messages import Channel, NowPlayingState, ReplyTarget
from backbeat.domain.messages.commands import CommandEnvelope, Lyrics
from backbeat.domain.messages.to_discord import LyricLine, LyricsPayload, LyricsReply
from backbeat.domain.messages.ui import StatePayload, UiCreate, UiUpdate
from backbeat.testing.discord import DiscordEmulator

EDIT_ROUTE = "PATCH /channels/{channel_id}/messages/{message_id}"
#: "line 0" at 0 s, "line 1" at 30 s… (far apart, so the seconds a loaded machine takes
#: between two steps never move the sung line by themselves).
LINES = [LyricLine(timestamp_ms=30_000 * n, line=f"line {n}") for n in range(10)]


def lyrics_reply(
    command: CommandEnvelope, *, lines: list[LyricLine], text: str | None, identifier: str
) -> LyricsReply:
    return LyricsReply(
        **command.reply_fields(),  # type: ignore[arg-type]
        payload=LyricsPayload(
            target=ReplyTarget(context=command.context),
            title="Lofi Beats",
            author="Chill Artist",
            identifier=identifier,
            text=text,
            lines=lines,
        ),
    )


def sung(message: dict[str, Any]) -> str | None:
    for row in (message["embeds"][0].get("description") or "").splitlines():
        if row.startswith("▶ "):
            return str(row.removeprefix("▶ **").removesuffix("**"))
    return None


class Player:
    """Publishes the guild's ``ui:now`` states, each with a rising ``state_seq``."""

    def __init__(self, bus: Bus, place: Place) -> None:
        self._bus = bus
        self._place = place
        self._seq = 0

    async def show(self, current: NowPlayingState, *, age_s: float = 0.0) -> None:
        """A state that held ``age_s`` seconds ago."""
        self._seq += 1
        kind = UiCreate if self._seq == 1 else UiUpdate
        await self._bus.publish(
            Channel.UI_NOW,
            kind(
                guild_id=self._place.guild,
                ts=time.time() - age_s,
                payload=StatePayload(state_seq=self._seq, state=current),
            ),
        )


async def test_timed_lyrics_follow_the_position_and_stop_with_the_track(
    emu: DiscordEmulator,
    place: Place,
    gateway_bus: Bus,
    start_gateway: StartGateway,
) -> None:
    control = emu.control
    await control.set_rate_limits({"preset": "discord"})
    player = Player(gateway_bus, place)
    async with (
        Watch(gateway_bus, Channel.COMMANDS) as commands,
        start_gateway(),
    ):
        await player.show(state(place, position_ms=5_000))
        [now_playing] = await until(lambda: live_messages(emu, place))

        asked = await control.invoke_command(
            guild_id=place.guild, channel_id=place.text, user_id=place.alice, name="lyrics"
        )
        command = await commands.next(lambda m: m.type == "lyrics")
        assert isinstance(command, Lyrics)
        assert command.payload.query is None
        await gateway_bus.publish(
            Channel.TO_DISCORD,
            lyrics_reply(
                command,
                lines=LINES,
                text="\n".join(line.line for line in LINES),
                identifier="lofi beats",
            ),
        )
        record = await control.interaction(asked["id"], min_events=2)
        answer = record["original_message"]["content"]
        assert answer.startswith("🎤 The lyrics of **Lofi Beats** follow the song here: "), answer

        async def live() -> dict[str, Any] | None:
            for message in await live_messages(emu, place):
                if message["id"] != now_playing["id"]:
                    return message
            return None

        message = await until(live)
        assert str(message["id"]) in answer  # the link names the live message
        assert message["embeds"][0]["title"] == "🎤 Lyrics: Lofi Beats — Chill Artist"
        assert sung(message) == "line 0"

        async def sings(line: str) -> bool:
            return sung(await control.message(message["id"])) == line

        # A seek: the next state's position moves the highlighted line.
        await player.show(state(place, position_ms=65_000))
        await until(lambda: sings("line 2"), within=30)
        # Paused at 95 s two minutes ago: frozen there, however old the state.
        await player.show(state(place, position_ms=95_000, paused=True), age_s=120.0)
        await until(lambda: sings("line 3"), within=30)
        # Resumed from there a minute ago: playing since, so now at 155 s.
        await player.show(state(place, position_ms=95_000), age_s=60.0)
        await until(lambda: sings("line 5"), within=30)

        # Another track: the live message goes (it showed a song that is over).
        await player.show(state(place, track=track("Next Song"), position_ms=1_000))
        await until(lambda: is_deleted(emu, message["id"]), within=30)
        edits = [r for r in await control.requests() if r["route"] == EDIT_ROUTE]
        assert edits, "the messages were edited"
        assert all(r["status"] != 429 for r in edits), [r["status"] for r in edits]


async def test_plain_lyrics_and_none_found(
    emu: DiscordEmulator,
    place: Place,
    gateway_bus: Bus,
    start_gateway: StartGateway,
) -> None:
    control = emu.control
    player = Player(gateway_bus, place)
    async with (
        Watch(gateway_bus, Channel.COMMANDS) as commands,
        start_gateway(),
    ):
        await player.show(state(place, position_ms=5_000))

        async def ask(
            lines: list[LyricLine], text: str | None, identifier: str, **options: str
        ) -> dict[str, Any]:
            asked = await control.invoke_command(
                guild_id=place.guild,
                channel_id=place.text,
                user_id=place.alice,
                name="lyrics",
                options=options or None,
            )
            command = await commands.next(lambda m: m.type == "lyrics")
            assert isinstance(command, CommandEnvelope)
            await gateway_bus.publish(
                Channel.TO_DISCORD,
                lyrics_reply(command, lines=lines, text=text, identifier=identifier),
            )
            record = await control.interaction(asked["id"], min_events=2)
            return dict(record["original_message"])

        untimed = await ask([], "la la la", "lofi beats")
        assert untimed["embeds"][0]["description"] == "la la la"
        none = await ask([], None, "lofi beats")
        assert none["embeds"][0]["description"] == "No lyrics found."
        # Timed lines of a track that is not playing (a named one): shown as text.
        named = await ask(LINES[:2], "line 0\nline 1", "another song", query="another song")
        assert named["embeds"][0]["description"] == "line 0\nline 1"
        titles = [
            m["embeds"][0].get("title", "")
            for m in await control.channel_messages(place.text)
            if m["embeds"]
        ]
        assert not [t for t in titles if t.startswith("🎤")]  # nothing live
