"""LavalinkPlayers (the Players seam on lavalink.py) against the Lavalink emulator.

The test plays the gateway: its ``VoiceRequest`` answers a join by issuing voice credentials
(the emulator accepts only those) and feeding the raw voice events back, in a chosen order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal, TypeVar

import pytest
import pytest_asyncio
from pydantic import SecretStr

from backbeat.audio.errors import (
    LavalinkRequestError,
    NoNodeAvailableError,
    PlayerGoneError,
    VoiceTimeoutError,
)
from backbeat.audio.lavalink import LavalinkPlayers
from backbeat.audio.lavalink.nodes import NodeAddress
from backbeat.audio.ports import (
    LoadKind,
    NodeChanged,
    PlayerEvent,
    PlayerPosition,
    TrackEnded,
    TrackFailed,
    TrackStarted,
    TrackStuck,
    VoiceClosed,
    VoiceDisconnected,
    VoiceMoved,
)
from backbeat.config import LavalinkNode, load_settings
from backbeat.domain.filters import preset_filters, preset_names
from backbeat.domain.queue import QueueTrack
from backbeat.testing.lavalink.catalog import Catalog
from backbeat.testing.lavalink.control_client import LavalinkControlClient
from backbeat.testing.lavalink.fixtures import EmulatorFactory
from backbeat.testing.lavalink.server import LavalinkEmulator
from backbeat.testing.voice import VoiceCredentialRegistry, VoiceCredentials

BOT = 424_242
GUILD = 700_000_001
CHANNEL = 800_000_001
OTHER_CHANNEL = 800_000_002
ENDPOINT = "c-ams.discord.media"
WAIT = 10.0  # generous: the machine is shared

Mode = Literal[
    "state-first", "server-first", "duplicated", "concurrent", "no-state", "no-server", "silent"
]
E = TypeVar("E", bound=PlayerEvent)


class FakeGateway:
    """Answers ``VoiceRequest`` as the gateway would: credentials, then the raw events."""

    def __init__(self, registry: VoiceCredentialRegistry) -> None:
        self.registry = registry
        self.mode: Mode = "state-first"
        self.requests: list[tuple[int, int | None]] = []
        self.joined: dict[int, int] = {}  # the bot's voice channel per guild, as Discord has it
        self.players: LavalinkPlayers | None = None
        self._tokens = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, guild_id: int, channel_id: int | None) -> None:
        self.requests.append((guild_id, channel_id))
        task = asyncio.create_task(self._answer(guild_id, channel_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _state(self, guild_id: int, channel_id: int | None) -> dict[str, Any]:
        return {
            "guild_id": str(guild_id),
            "user_id": str(BOT),
            "session_id": f"voice-session-{guild_id}",
            "channel_id": None if channel_id is None else str(channel_id),
            "deaf": False,
            "mute": False,
        }

    def _issue(self, guild_id: int, channel_id: int, *, new_token: bool = True) -> dict[str, Any]:
        if new_token:
            self._tokens += 1
        self.registry.issue(
            VoiceCredentials(
                guild_id=guild_id,
                user_id=BOT,
                channel_id=channel_id,
                session_id=f"voice-session-{guild_id}",
                token=f"token-{self._tokens}",
                endpoint=ENDPOINT,
            )
        )
        return {"guild_id": str(guild_id), "token": f"token-{self._tokens}", "endpoint": ENDPOINT}

    async def _answer(self, guild_id: int, channel_id: int | None) -> None:
        assert self.players is not None
        if channel_id is None:
            self.joined.pop(guild_id, None)
            self.registry.revoke(guild_id, BOT)
            await self.players.voice_state(self._state(guild_id, None))
            return
        state = self._state(guild_id, channel_id)
        if self.joined.get(guild_id) == channel_id:
            # Discord: op 4 to the channel the bot is in repeats the voice state only
            await self.players.voice_state(state)
            return
        self.joined[guild_id] = channel_id
        server = self._issue(guild_id, channel_id)
        mode = self.mode
        if mode == "server-first":
            await self.players.voice_server(server)
            await self.players.voice_state(state)
        elif mode == "duplicated":
            await self.players.voice_state(state)
            await self.players.voice_state(state)
            await self.players.voice_server(server)
            await self.players.voice_server(server)
            await self.players.voice_state(state)
        elif mode == "concurrent":  # delivered by different tasks at once
            await asyncio.gather(
                self.players.voice_server(server),
                self.players.voice_state(state),
                self.players.voice_server(server),
                self.players.voice_state(state),
            )
        elif mode == "no-state":
            await self.players.voice_server(server)
        elif mode == "no-server":
            await self.players.voice_state(state)
        elif mode == "state-first":
            await self.players.voice_state(state)
            await self.players.voice_server(server)

    async def moderator_move(self, guild_id: int, channel_id: int, *, with_server: bool) -> None:
        """A moderator drags the bot: Discord keeps the voice session id."""
        assert self.players is not None
        self.joined[guild_id] = channel_id
        server = self._issue(guild_id, channel_id, new_token=with_server)
        await self.players.voice_state(self._state(guild_id, channel_id))
        if with_server:
            await self.players.voice_server(server)

    async def moderator_disconnect(self, guild_id: int) -> None:
        assert self.players is not None
        self.joined.pop(guild_id, None)
        self.registry.revoke(guild_id, BOT)
        await self.players.voice_state(self._state(guild_id, None))

    async def settle(self) -> None:
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class Events:
    """Drains ``players.events()`` in the background; waits for and filters events."""

    def __init__(self, players: LavalinkPlayers) -> None:
        self.seen: list[PlayerEvent] = []
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._drain(players))

    async def _drain(self, players: LavalinkPlayers) -> None:
        async for event in players.events():
            self.seen.append(event)
            self._changed.set()

    def of(self, *kinds: type[PlayerEvent]) -> list[PlayerEvent]:
        return [e for e in self.seen if isinstance(e, kinds)]

    async def wait_for(
        self,
        kind: type[E],
        match: Callable[[E], bool] = lambda _: True,
        wait: float = WAIT,
        since: int = 0,
    ) -> E:
        """The first event of ``kind`` matching, from index ``since`` on, waiting if needed."""

        async def find() -> E:
            while True:
                for event in self.seen[since:]:
                    if isinstance(event, kind) and match(event):
                        return event
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(find(), wait)

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


class Rig:
    """One LavalinkPlayers on emulated nodes, with its gateway, events and control clients."""

    def __init__(
        self,
        players: LavalinkPlayers,
        gateway: FakeGateway,
        emulators: list[LavalinkEmulator],
        new_players: Callable[[], LavalinkPlayers],
    ) -> None:
        self.players = players
        self.gateway = gateway
        self.events = Events(players)
        self.emulators = emulators
        self.controls = [LavalinkControlClient(e.control_url) for e in emulators]
        self._new_players = new_players

    async def start(self, wait_ready: bool = True) -> None:
        await self.players.start()
        if wait_ready:
            for i in range(len(self.emulators)):
                await self.events.wait_for(NodeChanged, lambda e, i=i: e.node == f"node-{i}")
            assert await self.players.ready()

    async def restart(self) -> None:
        """The audio process restarts: new players and client, Discord's state unchanged."""
        await self.events.close()
        await self.players.close()
        self.players = self._new_players()
        self.events = Events(self.players)
        await self.start()

    @property
    def control(self) -> LavalinkControlClient:
        return self.controls[0]

    async def emulator_player(self, guild_id: int = GUILD) -> dict[str, Any] | None:
        return await self.control.player(guild_id)

    async def close(self) -> None:
        await self.gateway.settle()
        await self.events.close()
        await self.players.close()
        for control in self.controls:
            await control.close()


RigFactory = Callable[..., Awaitable[Rig]]


def _node(emulator: LavalinkEmulator, name: str) -> LavalinkNode:
    return LavalinkNode(
        name=name,
        url=f"http://{emulator.host}:{emulator.port}",
        password=SecretStr(emulator.password),
        region="eu",
    )


@pytest_asyncio.fixture
async def rig_factory(lavalink_emulator_factory: EmulatorFactory) -> AsyncIterator[RigFactory]:
    rigs: list[Rig] = []

    async def make(
        nodes: int = 1,
        timeout_s: float = WAIT,
        wait_ready: bool = True,
        rejoin_after_s: float = 2.0,
    ) -> Rig:
        registry = VoiceCredentialRegistry()
        emulators = [
            await lavalink_emulator_factory(manual_clock=True, voice_registry=registry)
            for _ in range(nodes)
        ]
        gateway = FakeGateway(registry)

        def new_players() -> LavalinkPlayers:
            players = LavalinkPlayers(
                user_id=BOT,
                nodes=[_node(e, f"node-{i}") for i, e in enumerate(emulators)],
                voice_request=gateway,
                voice_connect_timeout_s=timeout_s,
                voice_rejoin_after_s=rejoin_after_s,
                # short enough that a killed node's players move within WAIT (the node's
                # manual clock stands still; the move extrapolates up to the timeout)
                resume_timeout_s=1,
                failover_grace_s=0.5,
            )
            gateway.players = players
            return players

        rig = Rig(new_players(), gateway, emulators, new_players)
        rigs.append(rig)
        await rig.start(wait_ready)
        return rig

    try:
        yield make
    finally:
        for rig in rigs:
            await rig.close()


@pytest_asyncio.fixture
async def rig(rig_factory: RigFactory) -> Rig:
    return await rig_factory()


def _identifiers() -> dict[str, str]:
    catalog = Catalog.default()
    playable = [t for t in catalog.tracks if t.youtube_id and not t.failure and not t.is_stream]
    first, second = playable[0], playable[1]
    return {
        "track": f"https://www.youtube.com/watch?v={first.youtube_id}",
        "other": f"https://www.youtube.com/watch?v={second.youtube_id}",
        "playlist": f"https://www.youtube.com/watch?v={first.youtube_id}&list=RD{first.youtube_id}",
        "search": f"ytsearch:{first.title}",
        "empty": "ytsearch:qqzzxv nothing could ever match this 0xdeadbeef",
    }


async def _track(rig: Rig, key: str = "track") -> QueueTrack:
    result = await rig.players.load(_identifiers()[key])
    assert result.kind is LoadKind.TRACK
    return result.tracks[0]


async def _eventually(check: Callable[[], bool], wait: float = WAIT) -> None:
    """Wait until ``check()`` holds (polling: the thing checked has no event)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while not check():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def _voice_of(rig: Rig, guild_id: int = GUILD) -> tuple[str | None, bool]:
    player = await rig.emulator_player(guild_id)
    assert player is not None
    return player["voice"]["channelId"], bool(player["state"]["connected"])


# ----- voice handshake -------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["state-first", "server-first", "duplicated", "concurrent"])
async def test_connect_completes_with_voice_events_in_any_order(rig: Rig, mode: Mode) -> None:
    rig.gateway.mode = mode
    await rig.players.connect(GUILD, CHANNEL)

    assert rig.players.is_connected(GUILD)
    assert rig.players.holds(GUILD)
    assert await _voice_of(rig) == (str(CHANNEL), True)
    snapshot = rig.players.snapshot(GUILD)
    assert snapshot is not None
    assert (snapshot.channel_id, snapshot.connected, snapshot.node) == (CHANNEL, True, "node-0")
    assert rig.gateway.requests == [(GUILD, CHANNEL)]
    assert not rig.events.of(VoiceMoved, VoiceDisconnected)


async def test_connect_to_the_same_channel_returns_at_once(rig: Rig) -> None:
    await rig.players.connect(GUILD, CHANNEL)
    await rig.players.connect(GUILD, CHANNEL)
    assert rig.gateway.requests == [(GUILD, CHANNEL)]


async def test_connect_to_another_channel_moves_the_bot(rig: Rig) -> None:
    await rig.players.connect(GUILD, CHANNEL)
    await rig.players.connect(GUILD, OTHER_CHANNEL)

    assert rig.gateway.requests == [(GUILD, CHANNEL), (GUILD, OTHER_CHANNEL)]
    assert await _voice_of(rig) == (str(OTHER_CHANNEL), True)
    assert not rig.events.of(VoiceMoved)  # a requested move is no moderator's move


@pytest.mark.parametrize("mode", ["no-state", "no-server", "silent"])
async def test_a_missing_voice_event_times_out_leaving_no_player(
    rig_factory: RigFactory, mode: Mode
) -> None:
    rig = await rig_factory(timeout_s=0.5)
    rig.gateway.mode = mode
    with pytest.raises(VoiceTimeoutError) as raised:
        await rig.players.connect(GUILD, CHANNEL)

    assert (raised.value.guild_id, raised.value.channel_id) == (GUILD, CHANNEL)
    await rig.gateway.settle()
    if mode == "no-server":  # voice state only: a rejoin for fresh credentials was tried
        assert rig.gateway.requests == [
            (GUILD, CHANNEL),
            (GUILD, None),
            (GUILD, CHANNEL),
            (GUILD, None),
        ]
    else:
        assert rig.gateway.requests == [(GUILD, CHANNEL), (GUILD, None)]
    assert await rig.emulator_player() is None
    assert rig.players.snapshot(GUILD) is None
    assert not rig.players.is_connected(GUILD)
    assert not rig.events.of(VoiceDisconnected)


async def test_a_restarted_process_rejoins_the_channel_the_bot_is_still_in(
    rig_factory: RigFactory,
) -> None:
    """Discord answers the join with the voice state only: leave and join for credentials."""
    rig = await rig_factory(rejoin_after_s=0.3)
    await rig.players.connect(GUILD, CHANNEL)
    await rig.restart()
    assert rig.players.snapshot(GUILD) is None

    await rig.players.connect(GUILD, CHANNEL)
    assert rig.gateway.requests == [
        (GUILD, CHANNEL),
        (GUILD, CHANNEL),
        (GUILD, None),
        (GUILD, CHANNEL),
    ]
    assert await _voice_of(rig) == (str(CHANNEL), True)
    assert rig.players.is_connected(GUILD)
    assert not rig.events.of(VoiceDisconnected)


async def test_refused_credentials_time_out(rig_factory: RigFactory) -> None:
    """Lavalink never reports connected (Discord refused the token): the join is abandoned."""
    rig = await rig_factory(timeout_s=3.0)
    rig.gateway.mode = "silent"
    connecting = asyncio.create_task(rig.players.connect(GUILD, CHANNEL))
    await _eventually(lambda: bool(rig.gateway.requests))
    await rig.players.voice_state(rig.gateway._state(GUILD, CHANNEL))
    forged = {"guild_id": str(GUILD), "token": "forged", "endpoint": ENDPOINT}
    await rig.players.voice_server(forged)
    closed = await rig.events.wait_for(VoiceClosed)
    assert closed.code == 4006
    if not connecting.done():  # on a very slow machine the timeout may already have struck
        assert await _voice_of(rig) == (str(CHANNEL), False)
    with pytest.raises(VoiceTimeoutError):
        await connecting
    assert await rig.emulator_player() is None
    assert rig.gateway.requests[-1] == (GUILD, None)


async def test_a_moderator_move_is_reported_and_sent_to_lavalink(rig: Rig) -> None:
    await rig.players.connect(GUILD, CHANNEL)

    await rig.gateway.moderator_move(GUILD, OTHER_CHANNEL, with_server=False)
    moved = await rig.events.wait_for(VoiceMoved)
    assert moved == VoiceMoved(GUILD, OTHER_CHANNEL)
    assert await _voice_of(rig) == (str(OTHER_CHANNEL), True)

    await rig.gateway.moderator_move(GUILD, CHANNEL, with_server=True)
    await rig.events.wait_for(VoiceMoved, lambda e: e.channel_id == CHANNEL)
    assert await _voice_of(rig) == (str(CHANNEL), True)
    assert len(rig.events.of(VoiceMoved)) == 2
    snapshot = rig.players.snapshot(GUILD)
    assert snapshot is not None
    assert snapshot.channel_id == CHANNEL


async def test_a_moderator_disconnect_is_reported_once(rig: Rig) -> None:
    await rig.players.connect(GUILD, CHANNEL)
    await rig.gateway.moderator_disconnect(GUILD)
    await rig.gateway.moderator_disconnect(GUILD)  # a duplicate changes nothing
    await rig.events.wait_for(VoiceDisconnected)
    assert rig.events.of(VoiceDisconnected) == [VoiceDisconnected(GUILD)]
    assert not rig.players.is_connected(GUILD)


async def test_a_requested_leave_is_no_disconnect_event(rig: Rig) -> None:
    await rig.players.connect(GUILD, CHANNEL)
    await rig.players.disconnect(GUILD)
    await rig.gateway.settle()  # the leave's echo (channel None) has arrived

    assert rig.gateway.requests == [(GUILD, CHANNEL), (GUILD, None)]
    assert await rig.emulator_player() is None
    assert rig.players.snapshot(GUILD) is None
    assert not rig.players.holds(GUILD)
    assert not rig.events.of(VoiceDisconnected)
    await rig.players.disconnect(GUILD)  # no player: the leave is asked for all the same
    await rig.gateway.settle()
    assert rig.gateway.requests[2:] == [(GUILD, None)]
    assert not rig.events.of(VoiceDisconnected)


async def test_disconnect_after_a_restart_leaves_the_channel(rig_factory: RigFactory) -> None:
    rig = await rig_factory()
    await rig.players.connect(GUILD, CHANNEL)
    await rig.restart()
    await rig.players.disconnect(GUILD)
    await rig.gateway.settle()
    assert rig.gateway.requests[-1] == (GUILD, None)
    assert GUILD not in rig.gateway.joined


# ----- playback ----------------------------------------------------------------------------


async def test_play_pause_seek_volume_and_filters_reach_the_node(rig: Rig) -> None:
    await rig.players.connect(GUILD, CHANNEL)
    track = await _track(rig)

    await rig.players.play(GUILD, track, start_ms=5_000, volume=80)
    started = await rig.events.wait_for(TrackStarted)
    assert started == TrackStarted(GUILD, track.encoded)
    node_player = await rig.emulator_player()
    assert node_player is not None
    assert node_player["track"]["info"]["identifier"] == track.identifier
    assert (node_player["volume"], node_player["paused"]) == (80, False)
    assert await rig.control.position(GUILD) == 5_000

    await rig.control.advance(10_000)
    await rig.players.set_paused(GUILD, True)
    await rig.control.advance(10_000)
    assert await rig.control.position(GUILD) == 15_000
    node_player = await rig.emulator_player()
    assert node_player is not None
    assert node_player["paused"] is True
    await rig.players.set_paused(GUILD, False)

    await rig.players.seek(GUILD, 60_000)
    assert await rig.control.position(GUILD) == 60_000
    await rig.players.set_volume(GUILD, 150)
    await rig.players.set_filters(GUILD, preset_filters("nightcore"))
    node_player = await rig.emulator_player()
    assert node_player is not None
    assert node_player["volume"] == 150
    assert node_player["filters"] == preset_filters("nightcore")

    snapshot = rig.players.snapshot(GUILD)
    assert snapshot is not None
    assert snapshot.playing == track.encoded
    assert (snapshot.paused, snapshot.volume) == (False, 150)
    assert snapshot.position_ms == 60_000
    assert snapshot.filters == preset_filters("nightcore")
    assert snapshot.position_time_ms > 0
    stats = rig.players.stats()
    assert (stats["players"], stats["playing"]) == (1, 1)
    assert stats["nodes"][0]["local_players"] == 1
    assert stats["nodes"][0]["cpu"] is not None  # the node's first stats op came at once
    assert isinstance(stats["nodes"][0]["penalty"], float)
    assert stats["nodes"][0]["name"] == "node-0"
    assert stats["nodes"][0]["available"] is True

    await rig.players.stop(GUILD)
    await rig.events.wait_for(TrackEnded, lambda e: e.reason == "stopped")
    snapshot = rig.players.snapshot(GUILD)
    assert snapshot is not None
    assert snapshot.playing is None
    assert rig.players.is_connected(GUILD)  # voice stays


async def test_track_events_arrive_in_lavalink_order(rig: Rig) -> None:
    await rig.players.connect(GUILD, CHANNEL)
    first, second = await _track(rig), await _track(rig, "other")

    await rig.players.play(GUILD, first)
    await rig.events.wait_for(TrackStarted)
    await rig.players.play(GUILD, second)  # replaces
    await rig.events.wait_for(TrackStarted, lambda e: e.encoded == second.encoded)
    await rig.control.advance(second.length_ms + 1_000)
    await rig.events.wait_for(TrackEnded, lambda e: e.reason == "finished")

    track_events = [
        (type(e).__name__, getattr(e, "reason", None), e.encoded)
        for e in rig.events.of(TrackStarted, TrackEnded)
        if isinstance(e, TrackStarted | TrackEnded)
    ]
    assert track_events == [
        ("TrackStarted", None, first.encoded),
        ("TrackEnded", "replaced", first.encoded),
        ("TrackStarted", None, second.encoded),
        ("TrackEnded", "finished", second.encoded),
    ]
    positions = rig.events.of(PlayerPosition)
    assert positions
    assert all(isinstance(p, PlayerPosition) and p.guild_id == GUILD for p in positions)
    snapshot = rig.players.snapshot(GUILD)
    assert snapshot is not None
    assert snapshot.playing is None


async def test_a_track_failing_at_play_gives_failed_then_ended(rig: Rig) -> None:
    await rig.players.connect(GUILD, CHANNEL)
    track = await _track(rig)
    await rig.control.fail_load(track.identifier, kind="bot_check", stage="play")
    await rig.players.play(GUILD, track)
    await rig.events.wait_for(TrackEnded, lambda e: e.reason == "loadFailed")
    failed = rig.events.of(TrackFailed)
    assert len(failed) == 1
    assert isinstance(failed[0], TrackFailed)
    assert failed[0].message == "Sign in to confirm you’re not a bot"
    assert failed[0].severity == "common"
    assert failed[0].encoded == track.encoded


async def test_stuck_and_mid_track_failures_are_reported(rig: Rig) -> None:
    await rig.players.connect(GUILD, CHANNEL)
    track = await _track(rig)
    await rig.control.track_stuck(after_ms=1_000, guild_id=GUILD, threshold_ms=10_000)
    await rig.control.track_exception(after_ms=5_000, guild_id=GUILD, kind="decoding")
    await rig.players.play(GUILD, track)
    await rig.control.advance(2_000)
    stuck = await rig.events.wait_for(TrackStuck)
    assert stuck == TrackStuck(GUILD, track.encoded, 10_000)
    await rig.control.advance(4_000)
    failed = await rig.events.wait_for(TrackFailed)
    assert (failed.encoded, failed.severity) == (track.encoded, "fault")
    assert failed.message == "Something broke when playing the track."
    ended = await rig.events.wait_for(TrackEnded)
    assert ended == TrackEnded(GUILD, track.encoded, "loadFailed")


async def test_every_filter_preset_plays(rig: Rig) -> None:
    await rig.players.connect(GUILD, CHANNEL)
    track = await _track(rig)
    for name in preset_names():
        await rig.players.play(GUILD, track, filters=preset_filters(name))
        node_player = await rig.emulator_player()
        assert node_player is not None
        assert node_player["filters"] == preset_filters(name), name
        assert node_player["track"] is not None, name


# ----- loading -----------------------------------------------------------------------------


async def test_load_gives_every_load_type(rig: Rig) -> None:
    ids = _identifiers()
    track = await rig.players.load(ids["track"])
    assert track.kind is LoadKind.TRACK
    assert len(track.tracks) == 1
    first = track.tracks[0]
    assert first.uri == ids["track"]
    assert first.title
    assert first.length_ms > 0
    assert first.source_name == "youtube"
    assert first.extra["isSeekable"] is True

    playlist = await rig.players.load(ids["playlist"])
    assert playlist.kind is LoadKind.PLAYLIST
    assert len(playlist.tracks) > 1
    assert playlist.playlist_name
    assert playlist.selected_index is not None
    assert playlist.tracks[playlist.selected_index].identifier == first.identifier

    search = await rig.players.load(ids["search"])
    assert search.kind is LoadKind.SEARCH
    assert search.tracks
    assert search.tracks[0].title == first.title

    empty = await rig.players.load(ids["empty"])
    assert (empty.kind, empty.tracks) == (LoadKind.EMPTY, ())

    await rig.control.fail_load(ids["other"], kind="unavailable", times=1)
    error = await rig.players.load(ids["other"])
    assert error.kind is LoadKind.ERROR
    assert error.tracks == ()
    assert (error.error, error.severity) == ("This video is unavailable", "common")


async def test_a_stream_has_no_length(rig: Rig) -> None:
    stream = next(t for t in Catalog.default().tracks if t.is_stream and t.youtube_id)
    result = await rig.players.load(f"https://www.youtube.com/watch?v={stream.youtube_id}")
    assert result.kind is LoadKind.TRACK
    assert (result.tracks[0].is_stream, result.tracks[0].length_ms) == (True, 0)


# ----- errors and nodes --------------------------------------------------------------------


async def test_node_errors_are_audio_errors(rig: Rig) -> None:
    with pytest.raises(PlayerGoneError):
        await rig.players.set_paused(GUILD, True)
    await rig.players.connect(GUILD, CHANNEL)
    track = await _track(rig)
    await rig.control.http_errors(1, status=500, message="boom")
    with pytest.raises(LavalinkRequestError) as raised:
        await rig.players.play(GUILD, track)
    assert (raised.value.status, raised.value.node) == (500, "node-0")
    assert raised.value.message == "boom"
    await rig.control.http_errors(1, status=500, path_prefix="/v4/loadtracks")
    with pytest.raises(LavalinkRequestError):
        await rig.players.load(_identifiers()["track"])
    await rig.players.play(GUILD, track)  # the node works again
    await rig.events.wait_for(TrackStarted)


async def test_no_node_means_not_ready_and_no_node_errors(rig_factory: RigFactory) -> None:
    rig = await rig_factory()
    emulator = rig.emulators[0]
    await emulator.kill()
    down = await rig.events.wait_for(NodeChanged, lambda e: not e.available)
    assert down.node == "node-0"
    assert not await rig.players.ready()
    assert rig.players.stats()["nodes"][0]["available"] is False
    with pytest.raises(NoNodeAvailableError):
        await rig.players.load(_identifiers()["track"])
    with pytest.raises(NoNodeAvailableError):
        await rig.players.connect(GUILD, CHANNEL)
    assert rig.gateway.requests == []

    since = len(rig.events.seen)
    await emulator.restart()
    await rig.events.wait_for(NodeChanged, lambda e: e.available, wait=30.0, since=since)
    assert await rig.players.ready()


async def test_a_new_player_goes_to_a_ready_node(rig_factory: RigFactory) -> None:
    rig = await rig_factory(nodes=2)
    await rig.emulators[0].kill()
    await rig.events.wait_for(NodeChanged, lambda e: not e.available)
    await rig.players.connect(GUILD, CHANNEL)
    snapshot = rig.players.snapshot(GUILD)
    assert snapshot is not None
    assert snapshot.node == "node-1"
    assert await rig.controls[1].player(GUILD) is not None


async def test_voice_states_of_other_users_are_ignored(rig: Rig) -> None:
    await rig.players.connect(GUILD, CHANNEL)
    someone = {**rig.gateway._state(GUILD, OTHER_CHANNEL), "user_id": "99"}
    await rig.players.voice_state(someone)
    await rig.players.voice_state({**rig.gateway._state(GUILD, None), "user_id": "99"})
    assert not rig.events.of(VoiceMoved, VoiceDisconnected)
    assert await _voice_of(rig) == (str(CHANNEL), True)


async def test_discord_closing_the_voice_connection_is_reported(rig: Rig) -> None:
    await rig.players.connect(GUILD, CHANNEL)
    await rig.control.close_voice(GUILD, code=4014)
    closed = await rig.events.wait_for(VoiceClosed)
    assert (closed.guild_id, closed.code, closed.by_remote) == (GUILD, 4014, True)
    assert not rig.players.is_connected(GUILD)


async def test_connect_again_after_discord_closed_the_voice_connection(rig: Rig) -> None:
    """Discord repeats only the voice state: the same values are sent to Lavalink again."""
    await rig.players.connect(GUILD, CHANNEL)
    await rig.control.close_voice(GUILD, code=4006)
    await rig.events.wait_for(VoiceClosed)
    assert await _voice_of(rig) == (str(CHANNEL), False)

    await rig.players.connect(GUILD, CHANNEL)
    assert rig.gateway.requests == [(GUILD, CHANNEL), (GUILD, CHANNEL)]
    assert await _voice_of(rig) == (str(CHANNEL), True)
    assert rig.players.is_connected(GUILD)


async def test_a_player_follows_lavalink_py_failover(
    rig_factory: RigFactory,
) -> None:
    rig = await rig_factory(nodes=2)
    await rig.players.connect(GUILD, CHANNEL)
    snapshot = rig.players.snapshot(GUILD)
    assert snapshot is not None
    assert snapshot.node == "node-0"
    track = await _track(rig)
    await rig.players.play(GUILD, track, start_ms=30_000, volume=70)
    await rig.events.wait_for(TrackStarted)

    await rig.emulators[0].kill()
    await rig.events.wait_for(NodeChanged, lambda e: not e.available)

    async def moved() -> dict[str, Any] | None:
        player = await rig.controls[1].player(GUILD)
        if player is None or player["track"] is None or not player["state"]["connected"]:
            return None
        return player

    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while (player := await moved()) is None:
        assert loop.time() < deadline, "the player did not move"
        await asyncio.sleep(0.05)
    assert player["track"]["info"]["identifier"] == track.identifier
    assert abs(player["state"]["position"] - 30_000) <= 2_000
    assert (player["volume"], player["voice"]["channelId"]) == (70, str(CHANNEL))
    snapshot = rig.players.snapshot(GUILD)
    assert snapshot is not None
    assert (snapshot.node, snapshot.connected) == ("node-1", True)


def test_settings_give_the_nodes_user_and_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKBEAT_BOT_USER_ID", str(BOT))
    monkeypatch.setenv(
        "BACKBEAT_LAVALINK_NODES",
        '[{"name": "a", "url": "https://lava.example:443", "password": "pw", "region": "us"}]',
    )
    settings = load_settings(env_file=None)

    async def leave(guild_id: int, channel_id: int | None) -> None:
        return None

    players = LavalinkPlayers.from_settings(settings, leave)
    assert players.stats() == {"nodes": [], "players": 0, "playing": 0}
    assert NodeAddress.parse(settings.lavalink.lavalink_nodes[0].url) == NodeAddress(
        "lava.example", 443, True
    )
    assert NodeAddress.parse("http://127.0.0.1:2333") == NodeAddress("127.0.0.1", 2333, False)


async def test_a_spotify_track_keeps_isrc_and_plugin_info(rig: Rig) -> None:
    song = next(t for t in Catalog.default().tracks if t.spotify_id and t.isrc and t.album)
    result = await rig.players.load(f"https://open.spotify.com/track/{song.spotify_id}")
    assert result.kind is LoadKind.TRACK
    track = result.tracks[0]
    assert (track.source_name, track.identifier) == ("spotify", song.spotify_id)
    assert track.extra["isrc"] == song.isrc
    assert track.extra["pluginInfo"]["albumName"] == song.album
    assert track.artwork_url == song.artwork_url


async def test_connect_after_a_moderator_disconnect_joins_again(rig: Rig) -> None:
    await rig.players.connect(GUILD, CHANNEL)
    await rig.gateway.moderator_disconnect(GUILD)
    await rig.events.wait_for(VoiceDisconnected)

    await rig.players.connect(GUILD, OTHER_CHANNEL)
    assert rig.gateway.requests == [(GUILD, CHANNEL), (GUILD, OTHER_CHANNEL)]
    assert await _voice_of(rig) == (str(OTHER_CHANNEL), True)
    assert not rig.events.of(VoiceMoved)
