"""``/play`` and the blacklist over the bus: with the guild's ``blacklist_scope`` at
``autoplay`` (the default) a blacklisted track plays when asked for; at ``all`` it is refused
with ``blacklisted`` (naming the track and the entry), nothing is queued, and a playlist
loses only its blacklisted tracks."""

from __future__ import annotations

from audio_rig import AudioRig, urls

from backbeat.db.repositories.configuration import ConfigurationRepository
from backbeat.domain.guild_settings import BlacklistScope
from backbeat.domain.messages.commands import CommandEnvelope, Play, PlayNext, QueryPayload
from backbeat.domain.messages.to_discord import ErrorReply, Notice
from backbeat.testing.lavalink.catalog import Catalog
from backbeat.testing.lavalink.catalog_data import CatalogTrack

GUILD = 1_000_000_218
CATALOG = Catalog.default()


def _first() -> CatalogTrack:
    playable = [t for t in CATALOG.tracks if t.youtube_id and not t.failure and not t.is_stream]
    assert urls()["one"].endswith(str(playable[0].youtube_id))
    return playable[0]


def _first_id() -> str:
    return str(_first().youtube_id)


async def _configure(rig: AudioRig, guild: int, scope: BlacklistScope) -> None:
    await ConfigurationRepository(rig.engine).update(
        guild_id=guild,
        blacklist=(f"track:{_first_id()}", "keyword:nothing like it"),
        blacklist_scope=scope,
    )


async def _answer(rig: AudioRig, command: CommandEnvelope) -> Notice | ErrorReply:
    reply = await rig.reply(await rig.send(command))
    assert isinstance(reply, Notice | ErrorReply), reply
    return reply


def _play(
    rig: AudioRig, guild: int, key: str, kind: type[Play | PlayNext] = Play
) -> Play | PlayNext:
    return kind(guild_id=guild, context=rig.context(), payload=QueryPayload(query=urls()[key]))


async def test_the_default_scope_lets_play_add_a_blacklisted_track(rig: AudioRig) -> None:
    await _configure(rig, GUILD, BlacklistScope.AUTOPLAY)
    reply = await _answer(rig, _play(rig, GUILD, "one"))
    assert isinstance(reply, Notice), reply
    assert reply.payload.key == "play.started"


async def test_scope_all_refuses_a_blacklisted_track_and_queues_nothing(rig: AudioRig) -> None:
    guild = GUILD + 1
    await _configure(rig, guild, BlacklistScope.ALL)
    for kind in (Play, PlayNext):
        refused = await _answer(rig, _play(rig, guild, "one", kind))
        assert isinstance(refused, ErrorReply), refused
        assert refused.payload.code == "blacklisted"
        assert refused.payload.params == {
            "title": _first().youtube_title,
            "entry": f"track:{_first_id()}",
        }
    assert await rig.emulator.control.player(guild) is None  # nothing started
    # Another track is not on the list: it plays.
    played = await _answer(rig, _play(rig, guild, "two"))
    assert isinstance(played, Notice), played
    assert played.payload.key == "play.started"


async def test_scope_all_takes_only_the_blacklisted_tracks_out_of_a_playlist(
    rig: AudioRig,
) -> None:
    guild = GUILD + 2
    await _configure(rig, guild, BlacklistScope.AUTOPLAY)
    whole = await _answer(rig, _play(rig, guild, "playlist"))
    assert isinstance(whole, Notice), whole
    guild = GUILD + 3
    await _configure(rig, guild, BlacklistScope.ALL)
    kept = await _answer(rig, _play(rig, guild, "playlist"))
    assert isinstance(kept, Notice), kept
    assert kept.payload.key == "play.playlist"
    assert kept.payload.params["count"] == int(whole.payload.params["count"]) - 1
