"""Pure parts of the gateway: button ids and the commands they stand for, texts, embeds."""

from __future__ import annotations

import discord
import pytest

from backbeat.domain.i18n import Translator
from backbeat.domain.messages import DiscordContext, NowPlayingState, TrackSummary
from backbeat.domain.messages.commands import Loop, Pause, Volume
from backbeat.domain.messages.common import AutoplayMode, LoopMode
from backbeat.gateway.buttons import command_for
from backbeat.gateway.pending import Origin, PendingReplies
from backbeat.gateway.texts import duration, notice_text
from backbeat.gateway.ui.buttons import Action, ButtonId, controls
from backbeat.gateway.ui.embeds import Branding, EmbedFactory

GUILD = 81_000_000_000_000_000
CONTEXT = DiscordContext(user_id=5)


def playing(**changes: object) -> NowPlayingState:
    track = TrackSummary(
        title="Song *bold*",
        author="Artist",
        uri="https://example.test/s",
        identifier="s",
        source_name="youtube",
        length_ms=200_000,
        artwork_url="https://example.test/a.png",
    )
    values: dict[str, object] = {"track": track, "position_ms": 50_000, "requester_id": 9}
    values.update(changes)
    return NowPlayingState(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("action", list(Action))
def test_button_ids_round_trip(action: Action) -> None:
    button = ButtonId(action, GUILD)
    assert str(button) == f"bb:{action.value}:{GUILD}"
    assert ButtonId.parse(str(button)) == button


@pytest.mark.parametrize("custom_id", ["b:message", "bb:dance:1", "bb:pause:x", "bb:pause", ""])
def test_foreign_custom_ids_are_not_ours(custom_id: str) -> None:
    assert ButtonId.parse(custom_id) is None


def test_buttons_stand_for_commands_given_the_state_shown() -> None:
    assert isinstance(command_for(Action.PAUSE, GUILD, CONTEXT, None), Pause)
    loops = [command_for(Action.LOOP, GUILD, CONTEXT, playing(loop=mode)) for mode in LoopMode]
    assert [c.payload.mode for c in loops if isinstance(c, Loop)] == [
        LoopMode.TRACK,
        LoopMode.QUEUE,
        LoopMode.OFF,
    ]
    up = command_for(Action.VOLUME_UP, GUILD, CONTEXT, playing(volume=195))
    down = command_for(Action.VOLUME_DOWN, GUILD, CONTEXT, playing(volume=5))
    assert isinstance(up, Volume)
    assert up.payload.percent == 200
    assert isinstance(down, Volume)
    assert down.payload.percent == 0


async def test_controls_follow_the_state_and_can_be_disabled() -> None:
    playing_view = controls(GUILD, playing())
    ids = [item.custom_id for item in playing_view.children if isinstance(item, discord.ui.Button)]
    assert len(ids) == 10
    assert f"bb:pause:{GUILD}" in ids
    assert f"bb:resume:{GUILD}" not in ids
    paused_view = controls(GUILD, playing(paused=True), disabled=True)
    buttons = [item for item in paused_view.children if isinstance(item, discord.ui.Button)]
    assert f"bb:resume:{GUILD}" in [b.custom_id for b in buttons]
    assert all(b.disabled for b in buttons)
    assert playing_view.is_finished()  # never stored by discord.py: clicks go by custom id


def test_progress_is_written_as_discord_timestamps() -> None:
    factory = EmbedFactory(Branding(color=0x123456, footer="F"), clock=lambda: 10_000.0)
    assert factory.progress(playing()) == "Started <t:9950:R> · ends <t:10150:R> (3:20)"
    assert factory.progress(playing(paused=True)) == "⏸️ Paused at 0:50 / 3:20"
    embed = factory.now_playing(
        playing(autoplay=True, autoplay_mode=AutoplayMode.ARTIST, filters=["nightcore"])
    )
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Autoplay"] == "on (artist)"
    assert fields["Filters"] == "nightcore"
    assert fields["Requested by"] == "<@9>"
    assert embed.color is not None
    assert embed.color.value == 0x123456
    assert embed.footer.text == "F"
    assert "Song \\*bold\\*" in (embed.description or "")
    assert factory.now_playing(NowPlayingState(track=None)).title == "Nothing playing"


def test_the_now_playing_message_in_the_guilds_language() -> None:
    factory = EmbedFactory(Branding(), clock=lambda: 10_000.0)
    state = playing(autoplay=True, autoplay_mode=AutoplayMode.ARTIST, queue_length=1)
    english = {f.name: f.value for f in factory.now_playing(state, "en-US").fields}
    german_embed = factory.now_playing(state, "de")
    german = {f.name: f.value for f in german_embed.fields}
    assert german_embed.title == "🎶 Es läuft"
    assert "Begonnen <t:9950:R> · endet <t:10150:R> (3:20)" in (german_embed.description or "")
    assert german["Autoplay"] == "an (Künstler)"
    assert german["Wiederholen"] == "aus"
    assert german["Als Nächstes"].startswith("1 Titel")
    assert english["Up next"].startswith("1 track")
    assert len(german) == len(english)
    assert factory.progress(playing(paused=True), "de") == "⏸️ Pausiert bei 0:50 / 3:20"


def test_notice_texts_and_durations() -> None:
    tr = Translator()
    assert tr.text("en-US", "volume.set", {"percent": 80}) == "🔊 Volume set to 80%"
    assert tr.text("en-US", "pause.paused", {}) == "⏸️ Paused"
    assert tr.text("en-US", "play.queued", {}) is None  # its values are missing: said plainly
    assert notice_text("play.queued", {}) == "Play queued"
    assert notice_text("queue.cleared", {"count": 3}) == "Queue cleared (count: 3)"
    assert duration(59_999) == "0:59"
    assert duration(3_723_000) == "1:02:03"


async def test_pending_replies_are_forgotten_after_the_token_lifetime() -> None:
    now = [0.0]
    pending = PendingReplies(lambda: now[0])
    pending.add("a" * 32, guild_id=1, origin=Origin.SLASH, interaction=None)
    now[0] = 16 * 60
    pending.add("b" * 32, guild_id=1, origin=Origin.AUTOCOMPLETE, interaction=None)
    assert pending.pop("a" * 32) is None
    entry = pending.pop("b" * 32)
    assert entry is not None
    assert entry.suggestions is not None
