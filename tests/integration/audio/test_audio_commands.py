"""Every other command type through the bus: queue edits, navigation, settings, filters."""

from __future__ import annotations

from audio_rig import (
    AudioRig,
    AuditLog,
    EventStoreEvent,
    PlaybackHistory,
    RigFactory,
    fast_settings,
    urls,
)

from backbeat.db.models import Queue, QueueItem, ServerConfiguration
from backbeat.db.types import utc_now
from backbeat.domain.filters import preset_filters
from backbeat.domain.messages.commands import (
    Autoplay,
    AutoplayPayload,
    Clear,
    CommandEnvelope,
    Disconnect,
    Filters,
    FiltersPayload,
    Loop,
    LoopPayload,
    Move,
    MovePayload,
    Play,
    PlayNext,
    PlayNow,
    Previous,
    QueryPayload,
    QueueView,
    Remove,
    RemovePayload,
    SettingsChanged,
    SettingsChangedPayload,
    Shuffle,
    Skip,
    SkipPayload,
    Stay,
    StayPayload,
    Summon,
    Toggle,
    VoteSkip,
)
from backbeat.domain.messages.to_discord import (
    ErrorReply,
    Notice,
    QueuePage,
    TrackStart,
    VoiceLeave,
)
from backbeat.domain.messages.ui import UiDelete, UiUpdate
from backbeat.domain.queue import LoopMode

GUILD = 1_000_000_010


async def _ask(rig: AudioRig, command: CommandEnvelope) -> Notice:
    reply = await rig.reply(await rig.send(command))
    assert isinstance(reply, Notice), reply
    assert len(await rig.replies(command)) == 1
    return reply


async def _refused(rig: AudioRig, command: CommandEnvelope) -> ErrorReply:
    reply = await rig.reply(await rig.send(command))
    assert isinstance(reply, ErrorReply), reply
    return reply


def _play(rig: AudioRig, key: str, kind: type[Play | PlayNext | PlayNow] = Play) -> CommandEnvelope:
    return kind(guild_id=GUILD, context=rig.context(), payload=QueryPayload(query=urls()[key]))


async def _titles(rig: AudioRig) -> list[str]:
    page = await rig.reply(await rig.send(QueueView(guild_id=GUILD, context=rig.context())))
    assert isinstance(page, QueuePage)
    return [entry.track.title for entry in page.payload.entries]


async def _current_title(rig: AudioRig) -> str | None:
    page = await rig.reply(await rig.send(QueueView(guild_id=GUILD, context=rig.context())))
    assert isinstance(page, QueuePage)
    return page.payload.now_playing.title if page.payload.now_playing else None


async def test_playnext_playnow_move_remove_shuffle_clear(rig: AudioRig) -> None:
    one = await _ask(rig, _play(rig, "one"))
    two = await _ask(rig, _play(rig, "two"))
    three = await _ask(rig, _play(rig, "three", PlayNext))
    first, second, third = (r.payload.params["title"] for r in (one, two, three))
    assert await _titles(rig) == [third, second]

    await _ask(rig, Move(guild_id=GUILD, context=rig.context(), payload=MovePayload(
        from_position=2, to_position=1)))  # fmt: skip
    assert await _titles(rig) == [second, third]
    refused = await _refused(rig, Remove(guild_id=GUILD, context=rig.context(),
                                         payload=RemovePayload(position=9)))  # fmt: skip
    assert refused.payload.code == "no_such_position"
    assert refused.payload.params == {"position": 9}
    remove_first = RemovePayload(position=1)
    await _ask(rig, Remove(guild_id=GUILD, context=rig.context(), payload=remove_first))
    assert await _titles(rig) == [third]

    now = await _ask(rig, _play(rig, "two", PlayNow))
    assert now.payload.key == "play.started"
    assert await _current_title(rig) == second
    await rig.discord.count(TrackStart, 2, GUILD)
    reasons = [h.skip_reason for h in await rig.rows(PlaybackHistory, GUILD)]
    assert reasons[0] == "replaced"

    await _ask(rig, _play(rig, "one"))
    shuffled = await _ask(rig, Shuffle(guild_id=GUILD, context=rig.context()))
    assert shuffled.payload.params["count"] == 2
    assert sorted(await _titles(rig)) == sorted([third, first])
    cleared = await _ask(rig, Clear(guild_id=GUILD, context=rig.context()))
    assert cleared.payload.params["removed"] == 2
    assert await _titles(rig) == []
    assert await _current_title(rig) == second
    refused = await _refused(rig, Shuffle(guild_id=GUILD, context=rig.context()))
    assert refused.payload.code == "nothing_to_shuffle"
    events = [e.type for e in await rig.rows(EventStoreEvent, GUILD)]
    assert events.count("queue.changed") >= 6


async def test_skip_count_previous_loop_toggle(rig: AudioRig) -> None:
    one = await _ask(rig, _play(rig, "one"))
    await _ask(rig, _play(rig, "two"))
    three = await _ask(rig, _play(rig, "three"))
    await _ask(rig, Skip(guild_id=GUILD, context=rig.context(), payload=SkipPayload(count=2)))
    assert await _current_title(rig) == three.payload.params["title"]
    refused = await _refused(
        rig, Skip(guild_id=GUILD, context=rig.context(), payload=SkipPayload(count=5))
    )
    assert refused.payload.code == "skip_out_of_range"
    await _ask(rig, Previous(guild_id=GUILD, context=rig.context()))
    await _ask(rig, Previous(guild_id=GUILD, context=rig.context()))
    assert await _current_title(rig) == one.payload.params["title"]
    assert (await _refused(rig, Previous(guild_id=GUILD, context=rig.context()))).payload.code == (
        "no_previous"
    )

    await _ask(rig, Loop(guild_id=GUILD, context=rig.context(), payload=LoopPayload(
        mode=LoopMode.QUEUE)))  # fmt: skip
    await rig.ui.wait(UiUpdate, lambda m: m.payload.state.loop is LoopMode.QUEUE)
    assert (await rig.rows(Queue, GUILD))[0].loop_mode == "queue"

    paused = await _ask(rig, Toggle(guild_id=GUILD, context=rig.context()))
    assert paused.payload.key == "pause.paused"
    resumed = await _ask(rig, Toggle(guild_id=GUILD, context=rig.context()))
    assert resumed.payload.key == "pause.resumed"


async def test_voteskip_counts_listeners_and_resets_on_track_change(rig: AudioRig) -> None:
    await _ask(rig, _play(rig, "one"))
    await _ask(rig, _play(rig, "two"))
    await _ask(rig, _play(rig, "three"))
    await rig.discord.wait(TrackStart, lambda m: m.guild_id == GUILD)
    await rig.listeners(GUILD, 9_001, 4)  # ratio 0.5 of 4 listeners: 2 votes
    await rig.ui.wait(UiUpdate, lambda m: m.payload.state.listeners == 4)

    def vote(user: int) -> VoteSkip:
        return VoteSkip(guild_id=GUILD, context=rig.context(user_id=user))

    first = await _ask(rig, vote(1))
    assert first.payload.key == "voteskip.voted"
    assert first.payload.params == {"votes": 1, "needed": 2}
    again = await _ask(rig, vote(1))
    assert again.payload.params["votes"] == 1, "one vote per user"
    skipped = await _ask(rig, vote(2))
    assert skipped.payload.key == "voteskip.skipped"
    await rig.discord.count(TrackStart, 2, GUILD)
    fresh = await _ask(rig, vote(2))
    assert fresh.payload.params["votes"] == 1, "votes reset on the track change"


async def test_filters_autoplay_stay_settings_changed(rig: AudioRig) -> None:
    await _ask(rig, _play(rig, "one"))
    await rig.discord.wait(TrackStart, lambda m: m.guild_id == GUILD)
    await _ask(rig, Filters(guild_id=GUILD, context=rig.context(), payload=FiltersPayload(
        preset="nightcore")))  # fmt: skip
    player = await rig.node_player(GUILD)
    assert player is not None
    assert player["filters"] == preset_filters("nightcore")
    await rig.ui.wait(UiUpdate, lambda m: m.payload.state.filters == ["nightcore"])
    assert (await rig.rows(Queue, GUILD))[0].filters == preset_filters("nightcore")
    unknown = await _refused(rig, Filters(guild_id=GUILD, context=rig.context(),
                                          payload=FiltersPayload(preset="nope")))  # fmt: skip
    assert unknown.payload.code == "unknown_filter"
    await _ask(rig, Filters(guild_id=GUILD, context=rig.context(), payload=FiltersPayload(
        preset="off")))  # fmt: skip
    await rig.ui.wait(UiUpdate, lambda m: m.payload.state.filters == [])

    on = await _ask(rig, Autoplay(guild_id=GUILD, context=rig.context(), payload=AutoplayPayload(
        enabled=True, mode="artist")))  # fmt: skip
    assert on.payload.params == {"enabled": True, "mode": "artist"}
    config = (await rig.rows(ServerConfiguration, GUILD))[0]
    assert (config.autoplay_enabled, config.autoplay_mode) == (True, "artist")
    toggled = await _ask(rig, Autoplay(guild_id=GUILD, context=rig.context()))
    assert toggled.payload.params["enabled"] is False

    await _ask(rig, Stay(guild_id=GUILD, context=rig.context(), payload=StayPayload(enabled=True)))
    await rig.ui.wait(UiUpdate, lambda m: m.payload.state.stay)
    assert (await rig.rows(ServerConfiguration, GUILD))[0].twenty_four_seven

    async with rig.engine.begin() as conn:  # the panel changes a setting behind audio's back
        await conn.execute(
            ServerConfiguration.__table__.update()
            .where(ServerConfiguration.guild_id == GUILD)
            .values(twenty_four_seven=False)
        )
    changed = SettingsChangedPayload(keys=["twenty_four_seven"])
    await _ask(rig, SettingsChanged(guild_id=GUILD, context=rig.context(), payload=changed))
    await rig.ui.wait(UiUpdate, lambda m: not m.payload.state.stay)
    actions = [a.action for a in await rig.rows(AuditLog, GUILD)]
    assert "settings-changed" not in actions
    assert actions.count("filters") == 2
    assert actions.count("autoplay") == 2


async def test_disconnect_keeps_the_queue_and_summon_resumes(rig: AudioRig) -> None:
    await _ask(rig, _play(rig, "one"))
    await _ask(rig, _play(rig, "two"))
    await rig.discord.wait(TrackStart, lambda m: m.guild_id == GUILD)
    await _ask(rig, Disconnect(guild_id=GUILD, context=rig.context()))
    await rig.discord.wait(VoiceLeave, lambda m: m.payload.reason == "requested")
    await rig.ui.wait(UiDelete, lambda m: m.payload.reason == "disconnected")
    assert await rig.node_player(GUILD) is None
    assert len(await rig.rows(QueueItem)) == 2
    assert [h.skip_reason for h in await rig.rows(PlaybackHistory, GUILD)] == ["stopped"]

    await _ask(rig, Summon(guild_id=GUILD, context=rig.context(voice_channel_id=9_003)))
    await rig.discord.count(TrackStart, 2, GUILD)
    player = await rig.node_player(GUILD)
    assert player is not None
    assert player["voice"]["channelId"] == "9003"


async def test_queue_limits(make_rig: RigFactory) -> None:
    rig = await make_rig(fast_settings(guild_queue_max=2))
    for key in ("one", "two", "three"):  # the current track and two upcoming
        await _ask(rig, _play(rig, key))
    full = await _refused(rig, _play(rig, "one"))
    assert full.payload.code == "queue_full"
    assert full.payload.params == {"limit": 2}

    async with rig.engine.begin() as conn:
        await conn.execute(
            ServerConfiguration.__table__.insert().values(
                guild_id=GUILD + 2, max_queue_per_user=1, **_config_defaults()
            )
        )
    other = GUILD + 2
    first = Play(guild_id=other, context=rig.context(), payload=QueryPayload(query=urls()["one"]))
    await _ask(rig, first)
    second = Play(guild_id=other, context=rig.context(), payload=QueryPayload(query=urls()["two"]))
    await _ask(rig, second)  # the current track does not count: one upcoming
    third = Play(guild_id=other, context=rig.context(), payload=QueryPayload(query=urls()["three"]))
    limited = await _refused(rig, third)
    assert limited.payload.code == "user_queue_limit"


def _config_defaults() -> dict[str, object]:
    now = utc_now()
    return {
        "premium_tier": "free",
        "autoplay_enabled": False,
        "autoplay_mode": "similar",
        "default_volume": 100,
        "twenty_four_seven": False,
        "vote_skip_ratio": 0.5,
        "blacklist": [],
        "created_at": now,
        "updated_at": now,
    }
