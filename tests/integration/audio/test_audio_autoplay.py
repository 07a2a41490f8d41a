"""Autoplay over the bus against the emulator's catalog: artist, genre and similar picks,
the no-repeat window (re-uploads included), an all-filtered queue end, and candidates
prepared before the track ends (no search between TrackEnd and the next track)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from audio_rig import AudioRig, RigFactory, fast_settings

from backbeat.db.repositories.configuration import ConfigurationRepository
from backbeat.domain.messages.commands import (
    Autoplay,
    AutoplayPayload,
    AutoplayReject,
    AutoplayRejectPayload,
    Play,
    QueryPayload,
)
from backbeat.domain.messages.to_discord import Notice, QueueEnd, TrackStart
from backbeat.domain.messages.ui import UiError, UiUpdate
from backbeat.testing.lavalink.catalog import Catalog
from backbeat.testing.lavalink.catalog_data import CatalogTrack

GUILD = 1_000_000_018
CATALOG = Catalog.default()


def _by_id(track_id: str) -> CatalogTrack:
    return next(t for t in CATALOG.tracks if t.id == track_id)


def _url(track: CatalogTrack) -> str:
    return f"https://www.youtube.com/watch?v={track.youtube_id}"


async def _start(rig: AudioRig, mode: str, seed: CatalogTrack) -> None:
    on = await rig.reply(
        await rig.send(
            Autoplay(
                guild_id=GUILD,
                context=rig.context(),
                payload=AutoplayPayload(enabled=True, mode=mode),
            )
        )
    )
    assert isinstance(on, Notice), on
    played = await rig.reply(
        await rig.send(
            Play(guild_id=GUILD, context=rig.context(), payload=QueryPayload(query=_url(seed)))
        )
    )
    assert isinstance(played, Notice), played


async def _picks(rig: AudioRig, count: int) -> list[CatalogTrack]:
    """Let ``count`` tracks end on the emulator's clock; the catalog entries autoplay chose."""
    picks: list[CatalogTrack] = []
    for index in range(1, count + 1):
        start = (await rig.discord.count(TrackStart, index, GUILD))[index - 1]
        await rig.emulator.control.advance(start.payload.track.length_ms + 1_000)
        nxt = (await rig.discord.count(TrackStart, index + 1, GUILD))[index]
        assert nxt.payload.is_autoplay
        found = CATALOG.by_youtube_id.get(nxt.payload.track.identifier)
        assert found is not None, nxt.payload.track
        picks.append(found)
    return picks


async def test_artist_picks_have_the_last_artist_and_skip_reuploads(rig: AudioRig) -> None:
    seed = _by_id("t0001")  # Gentle Pulse by Harbor Pilots, uploaded three more times
    await _start(rig, "artist", seed)
    picks = await _picks(rig, 4)
    assert all(p.artist == seed.artist for p in picks), [p.artist for p in picks]
    songs = [seed.song_id, *(p.song_id for p in picks)]
    assert len(set(songs)) == len(songs), "a song (or a re-upload of it) came back"


async def test_genre_picks_have_the_detected_genre(rig: AudioRig) -> None:
    seed = _by_id("t0002")  # "… ☕ lofi hip hop beat to study to"
    await _start(rig, "genre", seed)
    picks = await _picks(rig, 3)
    assert all("lofi" in p.genres for p in picks), [p.genres for p in picks]
    assert len({p.song_id for p in picks} | {seed.song_id}) == 4


async def test_similar_picks_are_among_the_related_tracks(rig: AudioRig) -> None:
    seed = _by_id("t0101")
    await _start(rig, "similar", seed)
    picks = await _picks(rig, 3)
    previous = seed
    for pick in picks:
        related = {t.id for t in CATALOG.related(previous, 25)}
        assert pick.id in related, (pick.id, previous.id)
        previous = pick


async def test_candidates_are_ready_before_the_track_ends(rig: AudioRig) -> None:
    seed = _by_id("t0101")
    await _start(rig, "similar", seed)
    start = await rig.discord.wait(TrackStart, lambda m: m.guild_id == GUILD)
    # the preparation searches while the track plays (three searches: mix, artist, genre)
    await _until(rig, lambda n: n >= 3)
    await rig.emulator.control.clear_requests()
    control = rig.emulator.control
    # The manual clock stands still unless moved: jump to the track's exact end, then let
    # time flow in 20 ms steps (never faster than real time) until the pick plays, and
    # read its start from the emulator (its clock minus the pick's position), not ours.
    clock_ms, first = await _snapshot(rig)
    assert first is not None
    ended_at = clock_ms - first["track"]["info"]["position"] + start.payload.track.length_ms
    await control.advance(ended_at - clock_ms)
    picked: dict[str, Any] | None = None
    for _ in range(int(STEPPED_MS / STEP_MS)):
        clock_ms, playing = await _snapshot(rig)
        if playing is not None and playing["track"]["info"]["identifier"] != seed.youtube_id:
            picked = playing
            break
        await control.advance(STEP_MS)
        await asyncio.sleep(STEP_MS / 1000)  # paces the emulated clock, waits for nothing
    assert picked is not None, f"no pick within {STEPPED_MS} ms of the emulator's clock"
    started_at = clock_ms - picked["track"]["info"]["position"]
    assert 0 <= started_at - ended_at <= 500, started_at - ended_at
    nxt = (await rig.discord.count(TrackStart, 2, GUILD))[1]
    assert nxt.payload.is_autoplay
    requests = await control.requests("/v4/")
    play_at = next(
        i for i, r in enumerate(requests) if r["method"] == "PATCH" and "players" in str(r["path"])
    )
    searches = [r for r in requests[:play_at] if str(r["path"]).startswith("/v4/loadtracks")]
    assert searches == [], "a search sat between the track's end and the next track"


#: How far the clock steps while the pick is awaited, and in what steps.
STEPPED_MS = 10_000
STEP_MS = 20


async def _snapshot(rig: AudioRig) -> tuple[float, dict[str, Any] | None]:
    """The emulator's clock and the guild's player (with a track), taken together."""
    state = await rig.emulator.control.state()
    for session in state["sessions"]:
        for found in session.get("players", []):
            if found["guildId"] == str(GUILD) and found.get("track"):
                return float(state["clockMs"]), found
    return float(state["clockMs"]), None


async def _until(rig: AudioRig, check: Callable[[int], bool]) -> None:
    """Wait until the node's count of loads passes ``check``."""
    for _ in range(500):
        found = await rig.emulator.control.requests("/v4/loadtracks")
        if check(len(found)):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the candidates were never searched")


async def test_all_filtered_widens_then_gives_up_with_a_message(make_rig: RigFactory) -> None:
    rig = await make_rig()
    artists = {f"artist:{t.artist}" for t in CATALOG.tracks}
    blocked = sorted(artists | {f"channel:{t.youtube_channel}" for t in CATALOG.tracks})
    await ConfigurationRepository(rig.engine).update(guild_id=GUILD, blacklist=tuple(blocked))
    seed = _by_id("t0101")
    await _start(rig, "mixed", seed)
    start = await rig.discord.wait(TrackStart, lambda m: m.guild_id == GUILD)
    await rig.emulator.control.clear_requests()
    await rig.emulator.control.advance(start.payload.track.length_ms + 1_000)
    notice = await rig.ui.wait(UiError, lambda m: m.guild_id == GUILD)
    assert notice.payload.code == "autoplay_exhausted"
    await rig.discord.wait(QueueEnd, lambda m: m.guild_id == GUILD)
    loads = await rig.emulator.control.requests("/v4/loadtracks")
    widened = [r for r in loads if "mix" in str(r["query"]).lower() and "RD" not in str(r["query"])]
    assert widened, "no wider search before giving up"
    assert len(rig.discord.of(TrackStart, GUILD)) == 1


async def test_a_rejected_artist_never_comes_back(rig: AudioRig) -> None:
    seed = _by_id("t0001")  # its related tracks start with four more of Harbor Pilots
    await _start(rig, "similar", seed)
    first = (await _picks(rig, 1))[0]
    assert first.artist == seed.artist
    rejected = await rig.reply(
        await rig.send(
            AutoplayReject(
                guild_id=GUILD,
                context=rig.context(),
                payload=AutoplayRejectPayload(identifier=first.youtube_id or "", scope="artist"),
            )
        )
    )
    assert isinstance(rejected, Notice), rejected
    assert rejected.payload.params["entry"] == f"artist:{seed.artist}"
    after = (await rig.discord.count(TrackStart, 3, GUILD))[2]
    assert after.payload.is_autoplay
    picks = [CATALOG.by_youtube_id[after.payload.track.identifier]]
    for index in range(3, 6):
        start = (await rig.discord.count(TrackStart, index, GUILD))[index - 1]
        await rig.emulator.control.advance(start.payload.track.length_ms + 1_000)
        nxt = (await rig.discord.count(TrackStart, index + 1, GUILD))[index]
        picks.append(CATALOG.by_youtube_id[nxt.payload.track.identifier])
    assert all(p.artist != seed.artist for p in picks), [p.artist for p in picks]
    settings = await ConfigurationRepository(rig.engine).get(guild_id=GUILD)
    assert f"artist:{seed.artist}" in settings.blacklist


async def test_rejecting_a_track_blacklists_it_by_id(rig: AudioRig) -> None:
    seed = _by_id("t0101")
    await _start(rig, "similar", seed)
    first = (await _picks(rig, 1))[0]
    rejected = await rig.reply(
        await rig.send(
            AutoplayReject(
                guild_id=GUILD,
                context=rig.context(),
                payload=AutoplayRejectPayload(identifier=first.youtube_id or ""),
            )
        )
    )
    assert isinstance(rejected, Notice), rejected
    assert rejected.payload.params["scope"] == "track"
    assert rejected.payload.params["entry"] == f"track:{first.youtube_id}"
    after = (await rig.discord.count(TrackStart, 3, GUILD))[2]
    assert after.payload.track.identifier != first.youtube_id


async def test_the_now_playing_state_says_why_autoplay_chose_the_track(rig: AudioRig) -> None:
    seed = _by_id("t0001")
    await _start(rig, "artist", seed)
    await _picks(rig, 1)
    update = await rig.ui.wait(
        UiUpdate, lambda m: m.guild_id == GUILD and m.payload.state.is_autoplay_track
    )
    assert update.payload.state.autoplay_reason == f"more from {seed.artist}"
    why = update.payload.state.autoplay_why
    assert why is not None
    assert (why.kind, why.subject) == ("artist", seed.artist)
    first = rig.ui.of(UiUpdate, GUILD)[0]
    assert first.payload.state.autoplay_reason is None  # the user's own track


async def test_a_stop_at_the_failure_streak_does_not_autoplay(make_rig: RigFactory) -> None:
    rig = await make_rig(fast_settings(play_failure_streak_limit=1))
    seed = _by_id("t0101")
    await rig.emulator.control.fail_load(str(seed.youtube_id), kind="private", stage="play")
    await _start(rig, "similar", seed)
    notice = await rig.ui.wait(UiError, lambda m: m.guild_id == GUILD)
    assert notice.payload.code == "failure_streak"
    await rig.discord.wait(QueueEnd, lambda m: m.guild_id == GUILD)
    assert len(rig.discord.of(TrackStart, GUILD)) == 1
