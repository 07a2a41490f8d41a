"""Node loss and return with two Lavalink emulator nodes: resume, failover, all nodes down.

The emulators run on real-time clocks (speed 1), so positions on the emulator's clock and this
process's extrapolation agree. An overlap monitor polls both emulators (in-process: it works
while a node is killed) and records every moment two nodes play the same guild.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from test_players import BOT, Events, FakeGateway, _identifiers

from backbeat.audio.lavalink import LavalinkPlayers, transport
from backbeat.audio.lavalink.sessions import MemorySessionStore, SessionStore
from backbeat.audio.ports import LoadKind, NodeChanged, TrackEnded, TrackStarted, VoiceRequest
from backbeat.config import LavalinkNode
from backbeat.db.repositories.lavalink_sessions import SqlSessionStore
from backbeat.domain.queue import QueueTrack
from backbeat.observability.metrics import REGISTRY
from backbeat.testing.lavalink.fixtures import EmulatorFactory
from backbeat.testing.lavalink.server import LavalinkEmulator
from backbeat.testing.voice import VoiceCredentialRegistry

GUILDS = [700_000_101, 700_000_102, 700_000_103]
WAIT = 20.0  # generous: the machine is shared
NAMES = ["node-a", "node-b"]


def _channel(guild_id: int) -> int:
    return guild_id + 100_000_000


def _playing(player: dict[str, Any] | None) -> bool:
    return (
        player is not None
        and player["track"] is not None
        and not player["paused"]
        and bool(player["state"]["connected"])
    )


class OverlapMonitor:
    """Polls both emulators: moments where two nodes play a guild, and positions seen."""

    def __init__(self, emulators: list[LavalinkEmulator], guilds: list[int]) -> None:
        self.emulators = emulators
        self.guilds = guilds
        self.overlaps: list[tuple[int, list[int]]] = []
        #: per (node index, guild): the last position seen while it played there
        self.last: dict[tuple[int, int], int] = {}
        #: per (node index, guild): the first position seen while it played there
        self.first: dict[tuple[int, int], int] = {}
        #: (node index, guild) pairs that played and then stopped playing
        self.stopped: set[tuple[int, int]] = set()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            for guild in self.guilds:
                playing = []
                for index, emulator in enumerate(self.emulators):
                    player = await emulator.control.player(guild)
                    if _playing(player):
                        assert player is not None
                        playing.append(index)
                        position = int(player["state"]["position"])
                        self.first.setdefault((index, guild), position)
                        self.last[(index, guild)] = position
                    elif (index, guild) in self.first:
                        self.stopped.add((index, guild))
                if len(playing) > 1:
                    self.overlaps.append((guild, playing))
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


class NodesRig:
    """LavalinkPlayers on two emulated nodes (``node-a`` in eu, preferred; ``node-b`` in us)."""

    def __init__(
        self,
        emulators: list[LavalinkEmulator],
        registry: VoiceCredentialRegistry,
        make: Callable[[VoiceRequest, str | None], LavalinkPlayers],
    ) -> None:
        self.emulators = emulators
        self.gateway = FakeGateway(registry)
        self._make = make
        self.players = self._new()
        self.events = Events(self.players)

    def _new(self, worker_id: str | None = None) -> LavalinkPlayers:
        players = self._make(self.gateway, worker_id)
        self.gateway.players = players
        return players

    async def start(self) -> None:
        await self.players.start()
        for name in NAMES:
            await self.events.wait_for(NodeChanged, lambda e, n=name: e.node == n and e.available)

    async def restart_process(self, worker_id: str | None = None) -> None:
        """The audio process restarts (as another worker with ``worker_id``): new players
        object, the same store and Discord state."""
        await self.events.close()
        await self.players.close()
        self.players = self._new(worker_id)
        self.events = Events(self.players)
        await self.start()

    def node_of(self, guild_id: int) -> str | None:
        snapshot = self.players.snapshot(guild_id)
        return None if snapshot is None else snapshot.node

    async def track(self, key: str = "track") -> QueueTrack:
        result = await self.players.load(_identifiers()[key])
        assert result.kind is LoadKind.TRACK
        return result.tracks[0]

    async def play(self, guild_id: int, *, start_ms: int = 30_000, **kwargs: Any) -> QueueTrack:
        await self.players.connect(guild_id, _channel(guild_id))
        track = await self.track()
        before = self.since()
        await self.players.play(guild_id, track, start_ms=start_ms, **kwargs)
        await self.events.wait_for(TrackStarted, lambda e: e.guild_id == guild_id, since=before)
        await eventually(lambda: self._started(guild_id))
        return track

    async def _started(self, guild_id: int) -> bool:
        index = NAMES.index(self.node_of(guild_id) or "")
        player = await self.emulators[index].control.player(guild_id)
        return player is not None and player["track"] is not None

    async def sessions(self, index: int) -> list[str]:
        state = await self.emulators[index].control.state()
        return [s["sessionId"] for s in state["sessions"]]

    def since(self) -> int:
        return len(self.events.seen)

    async def node_event(
        self, name: str, available: bool, since: int, wait: float = WAIT, **extra: Any
    ) -> NodeChanged:
        def match(event: NodeChanged) -> bool:
            return (
                event.node == name
                and event.available is available
                and all(event.extra.get(k) == v for k, v in extra.items())
            )

        return await self.events.wait_for(NodeChanged, match, wait=wait, since=since)

    async def close(self) -> None:
        await self.gateway.settle()
        await self.events.close()
        await self.players.close()


RigFactory = Callable[..., Awaitable[NodesRig]]


async def eventually(check: Callable[[], Awaitable[bool]], wait: float = WAIT) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while not await check():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


@pytest_asyncio.fixture
async def nodes_rig(lavalink_emulator_factory: EmulatorFactory) -> AsyncIterator[RigFactory]:
    rigs: list[NodesRig] = []

    async def make(
        *,
        resume_timeout_s: int = 30,
        failover_grace_s: float = 5.0,
        store: SessionStore | None = None,
        worker_id: str | None = None,
    ) -> NodesRig:
        registry = VoiceCredentialRegistry()
        emulators = [
            await lavalink_emulator_factory(voice_registry=registry, player_update_interval=1.0)
            for _ in NAMES
        ]
        nodes = [
            LavalinkNode(
                name=name,
                url=f"http://{e.host}:{e.port}",
                password=SecretStr(e.password),
                region=region,
            )
            for name, region, e in zip(NAMES, ["eu", "us"], emulators, strict=True)
        ]

        def new_players(gateway: VoiceRequest, worker: str | None) -> LavalinkPlayers:
            return LavalinkPlayers(
                user_id=BOT,
                nodes=nodes,
                voice_request=gateway,
                voice_connect_timeout_s=WAIT,
                resume_timeout_s=resume_timeout_s,
                failover_grace_s=failover_grace_s,
                region="eu",
                session_store=store,
                worker_id=worker or worker_id,
            )

        rig = NodesRig(emulators, registry, new_players)
        rigs.append(rig)
        await rig.start()
        return rig

    try:
        yield make
    finally:
        for rig in rigs:
            await rig.close()


# ----- resume ------------------------------------------------------------------------------


class Handshakes:
    """Every WebSocket handshake the transports make: Session-Id sent, Session-Resumed got."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: list[tuple[str | None, str | None]] = []
        original = transport._ResumingSession.ws_connect

        async def ws_connect(
            session: Any, url: str, *, headers: dict[str, str], **kwargs: Any
        ) -> Any:
            socket = await original(session, url, headers=headers, **kwargs)
            response = socket._response  # aiohttp keeps the 101 response here
            self.seen.append(
                (session._transport.session_id, response.headers.get("Session-Resumed"))
            )
            return socket

        monkeypatch.setattr(transport._ResumingSession, "ws_connect", ws_connect)


async def test_a_dropped_socket_resumes_the_same_session(
    nodes_rig: RigFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    handshakes = Handshakes(monkeypatch)
    rig = await nodes_rig()
    assert sorted(handshakes.seen) == [(None, "false"), (None, "false")]
    await rig.play(GUILDS[0])
    await rig.play(GUILDS[1], start_ms=5_000)
    assert rig.node_of(GUILDS[0]) == rig.node_of(GUILDS[1]) == "node-a"
    [session] = await rig.sessions(0)
    state = await rig.emulators[0].control.state()
    assert state["sessions"][0]["resuming"] is True
    assert state["sessions"][0]["timeout"] == 30
    before = {g: await rig.emulators[0].control.player(g) for g in GUILDS[:2]}

    since = rig.since()
    assert await rig.emulators[0].control.drop_socket() == 1
    await rig.node_event("node-a", False, since)
    ready = await rig.node_event("node-a", True, since, resumed=True)

    assert ready.extra["session_id"] == session
    assert handshakes.seen[-1] == (session, "true")  # sent Session-Id, the node resumed
    assert await rig.sessions(0) == [session]  # no new session on the node
    for guild in GUILDS[:2]:
        after = await rig.emulators[0].control.player(guild)
        old = before[guild]
        assert after is not None
        assert old is not None
        assert after["track"]["info"]["identifier"] == old["track"]["info"]["identifier"]
        assert after["state"]["position"] >= old["state"]["position"]
        assert (after["volume"], after["voice"]) == (old["volume"], old["voice"])
        assert rig.node_of(guild) == "node-a"
        assert await rig.emulators[1].control.player(guild) is None
    node_a = rig.players.stats()["nodes"][0]
    assert (node_a["state"], node_a["resumes"], node_a["drops_last_minute"]) == ("ready", 1, 1)
    assert node_a["last_error"] is not None
    assert node_a["local_players"] == 2
    # stats() also refreshed the node gauges
    labels = {"node": "node-a", "state": "ready"}
    assert REGISTRY.get_sample_value("lavalink_node_state", labels) == 1
    assert REGISTRY.get_sample_value("lavalink_node_players", {"node": "node-a"}) == 2
    assert (REGISTRY.get_sample_value("lavalink_node_drops_total", {"node": "node-a"}) or 0) >= 1


async def test_a_node_restarted_within_the_resume_timeout_keeps_its_players(
    nodes_rig: RigFactory,
) -> None:
    rig = await nodes_rig(resume_timeout_s=30, failover_grace_s=5.0)
    for guild in GUILDS[:2]:
        await rig.play(guild)
    [session] = await rig.sessions(0)
    monitor = OverlapMonitor(rig.emulators, GUILDS[:2])
    try:
        since = rig.since()
        await rig.emulators[0].kill()
        await rig.node_event("node-a", False, since)
        assert rig.players.stats()["nodes"][0]["state"] == "resuming"
        await asyncio.sleep(0.5)
        await rig.emulators[0].restart()
        await rig.node_event("node-a", True, since, resumed=True)
        assert await rig.sessions(0) == [session]
        for guild in GUILDS[:2]:
            assert _playing(await rig.emulators[0].control.player(guild))
            assert await rig.emulators[1].control.player(guild) is None
            assert rig.node_of(guild) == "node-a"
        # the grace has passed since: still nothing moved
        await asyncio.sleep(5.5)
        for guild in GUILDS[:2]:
            assert rig.node_of(guild) == "node-a"
            assert await rig.emulators[1].control.player(guild) is None
    finally:
        await monitor.close()
    assert monitor.overlaps == []


async def test_a_node_that_lost_its_session_gets_its_players_back(
    nodes_rig: RigFactory,
) -> None:
    """A crashed node (state lost) restarted within the grace answers with a new session:
    its players are re-created at once, on the best node (that one: its region is preferred)."""
    rig = await nodes_rig(resume_timeout_s=30, failover_grace_s=10.0)
    guild = GUILDS[0]
    track = await rig.play(guild)
    monitor = OverlapMonitor(rig.emulators, [guild])
    try:
        since = rig.since()
        await rig.emulators[0].kill(lose_state=True)
        await rig.node_event("node-a", False, since)
        await rig.emulators[0].restart()
        await rig.node_event("node-a", True, since, resumed=False)

        async def back() -> bool:
            return _playing(await rig.emulators[0].control.player(guild))

        await eventually(back)
        player = await rig.emulators[0].control.player(guild)
        assert player is not None
        assert player["track"]["info"]["identifier"] == track.identifier
        assert player["state"]["position"] >= 30_000
        assert rig.node_of(guild) == "node-a"
        assert rig.players.is_connected(guild)
    finally:
        await monitor.close()
    assert monitor.overlaps == []
    assert (1, guild) not in monitor.first


async def test_calls_while_the_node_is_unreachable_reach_it_when_it_resumes(
    nodes_rig: RigFactory,
) -> None:
    rig = await nodes_rig(resume_timeout_s=30, failover_grace_s=5.0)
    guild = GUILDS[0]
    await rig.play(guild)
    since = rig.since()
    await rig.emulators[0].kill()
    await rig.node_event("node-a", False, since)
    await rig.players.set_volume(guild, 70)  # the node cannot be reached: no error
    await rig.players.set_paused(guild, True)
    snapshot = rig.players.snapshot(guild)
    assert snapshot is not None
    assert (snapshot.volume, snapshot.paused) == (70, True)
    assert rig.players.stats()["held"] == 1

    await rig.emulators[0].restart()
    await rig.node_event("node-a", True, since, resumed=True)

    async def applied() -> bool:
        player = await rig.emulators[0].control.player(guild)
        return player is not None and player["volume"] == 70 and player["paused"] is True

    await eventually(applied)
    assert rig.node_of(guild) == "node-a"
    assert rig.players.stats()["held"] == 0
    assert await rig.emulators[1].control.player(guild) is None


# ----- failover ----------------------------------------------------------------------------


async def test_a_node_killed_past_the_resume_timeout_moves_every_player(
    nodes_rig: RigFactory,
) -> None:
    rig = await nodes_rig(resume_timeout_s=2, failover_grace_s=0.5)
    tracks = {}
    for guild in GUILDS[:2]:
        tracks[guild] = await rig.play(guild)
    paused_guild = GUILDS[2]
    tracks[paused_guild] = await rig.play(paused_guild, start_ms=40_000, paused=True, volume=55)
    assert {rig.node_of(g) for g in GUILDS} == {"node-a"}
    monitor = OverlapMonitor(rig.emulators, GUILDS)
    try:
        await asyncio.sleep(0.3)
        since = rig.since()
        await rig.emulators[0].kill()

        async def moved() -> bool:
            for guild in GUILDS:
                player = await rig.emulators[1].control.player(guild)
                if player is None or player["track"] is None:
                    return False
                if not player["state"]["connected"]:
                    return False
            return True

        await eventually(moved)
        await asyncio.sleep(0.3)  # let the monitor see the new players play
        for guild in GUILDS:
            player = await rig.emulators[1].control.player(guild)
            assert player is not None
            assert player["track"]["info"]["identifier"] == tracks[guild].identifier
            assert player["voice"]["channelId"] == str(_channel(guild))
            assert rig.node_of(guild) == "node-b"
            assert await rig.emulators[0].control.player(guild) is None  # its session expired
        for guild in GUILDS[:2]:
            stopped_at = monitor.last[(0, guild)]
            started_at = monitor.first[(1, guild)]
            assert abs(started_at - stopped_at) <= 2_000, (guild, stopped_at, started_at)
        # a move is no new track for the processor
        assert not [e for e in rig.events.seen[since:] if isinstance(e, TrackStarted)]
        paused = await rig.emulators[1].control.player(paused_guild)
        assert paused is not None
        assert (paused["paused"], paused["volume"]) == (True, 55)
        assert abs(paused["state"]["position"] - 40_000) <= 2_000

        # node-a comes back: it takes new players, the moved ones stay where they are
        await rig.emulators[0].restart()
        await rig.node_event("node-a", True, since, resumed=False)
        newcomer = 700_000_199
        await rig.players.connect(newcomer, _channel(newcomer))
        assert rig.node_of(newcomer) == "node-a"
        await asyncio.sleep(1.0)
        for guild in GUILDS:
            assert rig.node_of(guild) == "node-b"
            assert await rig.emulators[0].control.player(guild) is None
    finally:
        await monitor.close()
    assert monitor.overlaps == []


async def test_a_node_answering_rest_but_not_resuming_is_left_once_its_session_expired(
    nodes_rig: RigFactory,
) -> None:
    """The socket dropped and every handshake hangs, but REST answers. Lavalink's REST does
    not know a session waiting for its resume ("Session not found"), so the DELETE proves
    nothing: after the grace and a forced reconnect (which hangs too) the guild moves only
    once the session has expired there."""
    rig = await nodes_rig(resume_timeout_s=4, failover_grace_s=0.5)
    guild = GUILDS[0]
    track = await rig.play(guild)
    monitor = OverlapMonitor(rig.emulators, [guild])
    try:
        await rig.emulators[0].control.delay(60_000, path_prefix="/v4/websocket")
        loop = asyncio.get_running_loop()
        dropped_at = loop.time()
        await rig.emulators[0].control.drop_socket()

        async def moved() -> bool:
            return _playing(await rig.emulators[1].control.player(guild))

        await eventually(moved)
        assert loop.time() - dropped_at >= 4.0  # not before the session expired
        await asyncio.sleep(0.3)  # let the monitor see the new player play
        assert await rig.emulators[0].control.player(guild) is None
        player = await rig.emulators[1].control.player(guild)
        assert player is not None
        assert player["track"]["info"]["identifier"] == track.identifier
        assert rig.node_of(guild) == "node-b"
        assert rig.players.stats()["nodes"][0]["state"] == "down"
        started_at = monitor.first[(1, guild)]
        assert abs(started_at - monitor.last[(0, guild)]) <= 2_000
    finally:
        await monitor.close()
        await rig.emulators[0].control.clear_faults()
    assert monitor.overlaps == []


async def test_every_node_down_holds_the_players_until_one_returns(
    nodes_rig: RigFactory,
) -> None:
    rig = await nodes_rig(resume_timeout_s=2, failover_grace_s=0.5)
    guild = GUILDS[0]
    track = await rig.play(guild)
    monitor = OverlapMonitor(rig.emulators, [guild])
    try:
        since = rig.since()
        await rig.emulators[0].kill()
        await rig.emulators[1].kill()
        down = await rig.node_event("node-a", False, since, all_down=True)
        assert down.extra["held"] == [guild]
        assert not await rig.players.ready()
        stats = rig.players.stats()
        assert (stats["all_down"], stats["held"]) == (True, 1)
        assert [n["state"] for n in stats["nodes"]] == ["down", "down"]

        # calls while every node is down change what the returning node will play
        await rig.players.connect(guild, _channel(guild))  # still its channel: no error
        await rig.players.seek(guild, 90_000)
        await rig.players.set_volume(guild, 40)
        assert not rig.players.is_connected(guild)

        await rig.emulators[1].restart()
        restored = await rig.node_event("node-b", True, since, wait=40.0, restored=[guild])
        assert restored.node == "node-b"
        player = await rig.emulators[1].control.player(guild)
        assert player is not None
        assert player["track"]["info"]["identifier"] == track.identifier
        assert abs(player["state"]["position"] - 90_000) <= 2_000
        assert player["volume"] == 40
        await eventually(lambda: _connected(rig, 1, guild))
        assert rig.players.is_connected(guild)
        assert await rig.players.ready()
        assert rig.players.stats()["held"] == 0
        assert not [e for e in rig.events.seen[since:] if isinstance(e, TrackStarted)]
    finally:
        await monitor.close()
    assert monitor.overlaps == []


async def _connected(rig: NodesRig, index: int, guild: int) -> bool:
    return _playing(await rig.emulators[index].control.player(guild))


async def test_a_flapping_node_does_not_bounce_players(nodes_rig: RigFactory) -> None:
    rig = await nodes_rig(resume_timeout_s=30, failover_grace_s=3.0)
    first, second = GUILDS[0], GUILDS[1]
    await rig.play(first)
    [session_a] = await rig.sessions(0)
    monitor = OverlapMonitor(rig.emulators, [first, second])
    try:
        for _ in range(3):
            since = rig.since()
            await rig.emulators[0].control.drop_socket()
            await rig.node_event("node-a", True, since, resumed=True)
            assert rig.node_of(first) == "node-a"
            assert await rig.emulators[1].control.player(first) is None
        node_a = rig.players.stats()["nodes"][0]
        assert (node_a["flapping"], node_a["drops_last_minute"]) == (True, 3)
        assert await rig.sessions(0) == [session_a]

        # a flapping node takes no new player although its region is preferred
        await rig.play(second)
        assert rig.node_of(second) == "node-b"

        # the steady node drops too and resumes: nothing moves either way
        since = rig.since()
        await rig.emulators[1].control.drop_socket()
        await rig.node_event("node-b", True, since, resumed=True)
        await asyncio.sleep(3.5)  # past the grace
        assert (rig.node_of(first), rig.node_of(second)) == ("node-a", "node-b")
        assert _playing(await rig.emulators[0].control.player(first))
        assert _playing(await rig.emulators[1].control.player(second))
    finally:
        await monitor.close()
    assert monitor.overlaps == []


async def _bad_gateway(host: str, port: int) -> web.AppRunner:
    """A proxy in front of a restarting Lavalink: 502 for everything on the node's port."""

    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=502, text="Bad Gateway")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, port, reuse_address=True).start()
    return runner


async def test_a_node_whose_handshake_was_refused_is_reconnected(nodes_rig: RigFactory) -> None:
    """lavalink.py stops reconnecting after a handshake answered with an HTTP error; the
    supervisor restarts it while the node is down, so the node is back once it is."""
    rig = await nodes_rig(resume_timeout_s=2, failover_grace_s=0.5)
    emulator = rig.emulators[0]
    [node_a] = [n for n in rig.players.all_nodes() if n.name == "node-a"]
    since = rig.since()
    await emulator.kill()
    proxy = await _bad_gateway(emulator.host, emulator.port)
    try:
        await rig.node_event("node-a", False, since)

        async def gave_up() -> bool:
            return not transport.reconnecting(node_a)

        await eventually(gave_up)
        await asyncio.sleep(1.0)
        assert rig.players.stats()["nodes"][0]["state"] == "down"
    finally:
        await proxy.cleanup()
    await emulator.restart()
    await rig.node_event("node-a", True, since, wait=40.0)
    assert await rig.players.ready()
    assert rig.players.stats()["nodes"][0]["state"] == "ready"


# ----- a restarted worker ------------------------------------------------------------------


async def test_session_ids_are_kept_per_worker_and_node_in_sql(audio_engine: AsyncEngine) -> None:
    store = SqlSessionStore(audio_engine)
    assert await store.load("audio-1", "node-a") is None
    await store.save("audio-1", "node-a", "aaaaaaaaaaaaaaaa")
    await store.save("audio-1", "node-b", "bbbbbbbbbbbbbbbb")
    await store.save("audio-2", "node-a", "cccccccccccccccc")
    await store.save("audio-1", "node-a", "dddddddddddddddd")  # replaced
    assert await store.load("audio-1", "node-a") == "dddddddddddddddd"
    assert await store.load("audio-1", "node-b") == "bbbbbbbbbbbbbbbb"
    assert await store.load("audio-2", "node-a") == "cccccccccccccccc"
    with pytest.raises(ValueError, match="worker_id"):
        await store.save("", "node-a", "x")


async def test_a_restarted_worker_resumes_its_sessions_and_players(
    nodes_rig: RigFactory, audio_engine: AsyncEngine
) -> None:
    await _restarted_worker(nodes_rig, SqlSessionStore(audio_engine))


async def test_a_restarted_worker_resumes_with_the_memory_store(nodes_rig: RigFactory) -> None:
    await _restarted_worker(nodes_rig, MemorySessionStore())


async def _restarted_worker(nodes_rig: RigFactory, store: SessionStore) -> None:
    """Stored session ids, a new process: the same sessions, the players adopted, no gap."""
    rig = await nodes_rig(store=store, worker_id="audio-1")
    track = await rig.play(GUILDS[0])
    [session_a] = await rig.sessions(0)

    async def stored() -> bool:  # the id is saved when the node says ready, not before play
        return await store.load("audio-1", "node-a") == session_a

    await eventually(stored)
    requests_before = len(rig.gateway.requests)
    monitor = OverlapMonitor(rig.emulators, [GUILDS[0]])
    try:
        await rig.restart_process()
        ready = await rig.node_event("node-a", True, 0, resumed=True)
        assert ready.extra["session_id"] == session_a
        assert await rig.sessions(0) == [session_a]
        adopted = await rig.node_event("node-a", True, 0, adopted=[GUILDS[0]])
        assert adopted.extra["adopted"] == [GUILDS[0]]
        assert rig.players.snapshot(GUILDS[0]) is not None
        snapshot = rig.players.snapshot(GUILDS[0])
        assert snapshot is not None
        assert (snapshot.node, snapshot.channel_id, snapshot.connected) == (
            "node-a",
            _channel(GUILDS[0]),
            True,
        )
        assert snapshot.playing == track.encoded  # what this worker sent, as the queue has it
        # the player played on all along; a join of its channel needs nothing from Discord
        assert _playing(await rig.emulators[0].control.player(GUILDS[0]))
        await rig.players.connect(GUILDS[0], _channel(GUILDS[0]))
        assert len(rig.gateway.requests) == requests_before
        await rig.players.set_volume(GUILDS[0], 30)
        player = await rig.emulators[0].control.player(GUILDS[0])
        assert player is not None
        assert player["volume"] == 30
        assert player["track"]["info"]["identifier"] == track.identifier
    finally:
        await monitor.close()
    assert (0, GUILDS[0]) in monitor.first
    assert (0, GUILDS[0]) not in monitor.stopped  # no gap
    assert (1, GUILDS[0]) not in monitor.first  # never on the other node
    # the adopted player's events carry what this worker sent (the processor matches on it)
    since = rig.since()
    await rig.players.stop(GUILDS[0])
    ended = await rig.events.wait_for(TrackEnded, since=since)
    assert (ended.encoded, ended.reason) == (track.encoded, "stopped")


async def test_a_new_owner_releases_a_dead_workers_players(nodes_rig: RigFactory) -> None:
    """audio-1 dies with two guilds playing in its session; audio-2 takes one of them: it
    removes that player from audio-1's waiting session first and continues where it was."""
    store = MemorySessionStore()
    rig = await nodes_rig(store=store, worker_id="audio-1")
    taken, left = GUILDS[0], GUILDS[1]
    track = await rig.play(taken)
    await rig.play(left, start_ms=5_000)
    [old_session] = await rig.sessions(0)
    monitor = OverlapMonitor(rig.emulators, [taken, left])
    try:
        await rig.restart_process(worker_id="audio-2")
        released = await rig.players.release_sessions("audio-1", [taken])
        assert set(released) == {taken}
        snapshot = released[taken]
        assert (snapshot.node, snapshot.playing) == ("node-a", track.encoded)
        assert (snapshot.channel_id, snapshot.volume, snapshot.paused) == (
            _channel(taken),
            100,
            False,
        )
        assert snapshot.position_ms >= 30_000
        assert await rig.emulators[0].control.player(taken) is None
        # the other guild plays on in the old session, which waits for its resume again
        assert _playing(await rig.emulators[0].control.player(left, old_session))
        state = await rig.emulators[0].control.state()
        [old] = [s for s in state["sessions"] if s["sessionId"] == old_session]
        assert old["paused"] is True

        await rig.players.connect(taken, _channel(taken))
        await rig.players.play(taken, track, start_ms=snapshot.position_ms)

        async def playing_again() -> bool:
            return _playing(await rig.emulators[0].control.player(taken))

        await eventually(playing_again)
        await asyncio.sleep(0.3)
        with pytest.raises(ValueError, match="own sessions"):
            await rig.players.release_sessions("audio-2")
        # releasing everything that is left ends the old session for good
        rest_of_it = await rig.players.release_sessions("audio-1")
        assert set(rest_of_it) == {left}
        assert old_session not in await rig.sessions(0)
    finally:
        await monitor.close()
    assert monitor.overlaps == []
