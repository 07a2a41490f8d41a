"""``LavalinkPlayers``: the :class:`~backbeat.audio.ports.Players` seam on lavalink.py 5.x.

One ``lavalink.Client`` (``User-Id`` = the bot's user id) with every configured node, one
:class:`BackbeatPlayer` per guild. Node and player events are only *enqueued* where lavalink.py
produces them (its socket reader); :meth:`LavalinkPlayers.events` drains the queue. Every
lavalink.py or aiohttp failure leaves as an :mod:`backbeat.audio.errors` error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import aiohttp
import lavalink

from backbeat.audio.errors import (
    AudioError,
    LavalinkRequestError,
    NoNodeAvailableError,
    PlayerGoneError,
    VoiceTimeoutError,
)
from backbeat.audio.keyed_lock import KeyedLocks, KeyLock
from backbeat.audio.lavalink import rest, takeover, transport
from backbeat.audio.lavalink.failover import FailoverPolicy, NodeSupervisor
from backbeat.audio.lavalink.handshake import Handshake
from backbeat.audio.lavalink.nodes import add_node, node_stats
from backbeat.audio.lavalink.player import BackbeatPlayer
from backbeat.audio.lavalink.sessions import SessionStore
from backbeat.audio.lavalink.tracks import load_result, released_snapshot, track_body
from backbeat.audio.ports import (
    LoadResult,
    PlayerEvent,
    PlayerSnapshot,
    VoiceDisconnected,
    VoiceMoved,
    VoiceRequest,
)

if TYPE_CHECKING:
    from backbeat.audio.ports import Players
from backbeat.config import LavalinkNode, Settings, env_name
from backbeat.domain.queue import QueueTrack
from backbeat.errors import ConfigurationError
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)

MAX_VOLUME = 1000


class LavalinkPlayers:
    """Players on Lavalink nodes through lavalink.py; see :class:`~backbeat.audio.ports.Players`.

    ``voice_request(guild_id, channel_id | None)`` asks the gateway to join, move or leave
    (op 4); the gateway's answer comes back as raw events through :meth:`voice_state` and
    :meth:`voice_server`. ``voice_connect_timeout_s`` bounds a handshake;
    ``request_timeout_s`` bounds each REST request to a node; ``voice_rejoin_after_s``
    (at most half the handshake timeout) is how long a first join waits for a voice server
    update after the voice state before it leaves and joins again.

    Node loss (:mod:`backbeat.audio.lavalink.failover`): sessions are resumable for
    ``resume_timeout_s``; a dropped node has ``failover_grace_s`` to resume before its players
    move (``region`` preferred). With ``session_store`` and ``worker_id`` each node's session
    id is kept per (worker, node), and a restarted worker resumes its own sessions.
    """

    def __init__(
        self,
        *,
        user_id: int,
        nodes: Sequence[LavalinkNode],
        voice_request: VoiceRequest,
        voice_connect_timeout_s: float = 10.0,
        request_timeout_s: float = 10.0,
        voice_rejoin_after_s: float = 2.0,
        resume_timeout_s: int = 60,
        failover_grace_s: float = 5.0,
        region: str | None = None,
        session_store: SessionStore | None = None,
        worker_id: str | None = None,
    ) -> None:
        self._user_id = int(user_id)
        self._node_config = tuple(nodes)
        self._voice_request = voice_request
        self._timeout_s = voice_connect_timeout_s
        self._rejoin_after_s = min(voice_rejoin_after_s, voice_connect_timeout_s / 2)
        self._request_timeout_s = request_timeout_s
        self._client: Any = None
        self._events: asyncio.Queue[PlayerEvent] = asyncio.Queue()
        self._supervisor = NodeSupervisor(
            self,
            self._events.put_nowait,
            FailoverPolicy(resume_timeout_s, failover_grace_s, region),
            store=session_store if worker_id else None,
            worker_id=worker_id or "",
        )
        self._handshakes: dict[int, Handshake] = {}
        #: Each guild's player calls and its voice updates, one at a time (a lock exists
        #: only while held or awaited: a worker holds thousands of idle guilds).
        self._locks: KeyedLocks[int] = KeyedLocks()
        self._voice_locks: KeyedLocks[int] = KeyedLocks()
        #: Where every player's events and changes go (bound once, shared by all players).
        self._sink: Callable[[PlayerEvent], None] = self._events.put_nowait
        self._on_change: Callable[[BackbeatPlayer], None] = self._player_changed

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        voice_request: VoiceRequest,
        *,
        session_store: SessionStore | None = None,
        worker_id: str | None = None,
    ) -> LavalinkPlayers:
        """Nodes from ``BACKBEAT_LAVALINK_NODES``, user id from ``BACKBEAT_BOT_USER_ID``,
        handshake timeout from ``BACKBEAT_VOICE_CONNECT_TIMEOUT_S``, resume timeout, failover
        grace and region from ``BACKBEAT_LAVALINK_*``. Session ids are stored only with a
        ``session_store`` and a stable worker id (``worker_id`` or
        ``BACKBEAT_AUDIO_WORKER_ID``): a default worker id changes with every process."""
        user_id = settings.discord.bot_user_id
        if user_id is None:
            raise ConfigurationError(
                env_name("bot_user_id"), "the audio service needs the bot's user id"
            )
        return cls(
            user_id=user_id,
            nodes=settings.lavalink.lavalink_nodes,
            voice_request=voice_request,
            voice_connect_timeout_s=settings.audio.voice_connect_timeout_s,
            resume_timeout_s=settings.lavalink.lavalink_resume_timeout_s,
            failover_grace_s=settings.lavalink.lavalink_failover_grace_s,
            region=settings.lavalink.lavalink_region,
            session_store=session_store,
            worker_id=worker_id or settings.audio.audio_worker_id,
        )

    # ----- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        """Create the client (it needs a running loop) and connect to every node, resuming
        the stored session of each."""
        if self._client is not None:
            return
        sessions = {
            n.name: await self._supervisor.initial_session(n.name) for n in self._node_config
        }
        timeout = aiohttp.ClientTimeout(total=self._request_timeout_s)
        client: Any = lavalink.Client(
            user_id=self._user_id, player=BackbeatPlayer, request_timeout=timeout
        )
        transport.install(client)
        await transport.keep_connections(client, timeout)
        client.add_event_hook(self._on_node_ready, event=lavalink.NodeReadyEvent)
        client.add_event_hook(self._on_node_disconnected, event=lavalink.NodeDisconnectedEvent)
        self._client = client
        for node in self._node_config:
            add_node(client, node, sessions[node.name])

    async def close(self) -> None:
        """Disconnect from every node; the players stay on the nodes as they are."""
        client, self._client = self._client, None
        if client is None:
            return
        for handshake in self._handshakes.values():
            handshake.fail(NoNodeAvailableError("the audio service is closing"))
        await self._supervisor.close()
        client.player_manager.players.clear()
        await client.close()

    async def events(self) -> AsyncIterator[PlayerEvent]:
        """Every event in the order the nodes sent them (one consumer per process)."""
        while True:
            yield await self._events.get()

    # ----- node events (lavalink.py hooks: no I/O) ----------------------------------------

    async def _on_node_ready(self, event: Any) -> None:
        self._supervisor.node_ready(event.node, str(event.session_id), bool(event.resumed))

    async def _on_node_disconnected(self, event: Any) -> None:
        code = None if event.code is None else int(event.code)
        reason = None if event.reason is None else str(event.reason)
        self._supervisor.node_dropped(event.node, code, reason)

    # ----- nodes --------------------------------------------------------------------

    def _usable(self) -> set[str]:
        if self._client is None:
            return set()
        return self._supervisor.ready_names()

    def _best_node(self) -> Any:
        if self._client is None:
            raise NoNodeAvailableError("the audio service is not started")
        node = self._supervisor.pick()
        if node is None:
            raise NoNodeAvailableError("no Lavalink node is connected")
        return node

    async def ready(self) -> bool:
        return bool(self._usable())

    def stats(self) -> Mapping[str, Any]:
        """``{"nodes": [...], "players", "playing", "held", "all_down"}`` as this process
        knows them; each node with its state, drops, last error, players and load."""
        if self._client is None:
            return {"nodes": [], "players": 0, "playing": 0}
        players = list(self._players())
        usable = self._usable()
        nodes = []
        for n in self._client.node_manager.nodes:
            entry = node_stats(n, usable, sum(1 for p in players if p.node is n and not p.held))
            health = self._supervisor.health(str(n.name)).as_dict()
            health.pop("session_id", None)
            entry.update(health)
            nodes.append(entry)
        playing = sum(1 for p in players if p.encoded is not None and not p.paused)
        held = sum(1 for p in players if p.held)
        self._supervisor.publish_metrics()
        return {
            "nodes": nodes,
            "players": len(players),
            "playing": playing,
            "held": held,
            "all_down": not usable,
        }

    async def load(self, identifier: str) -> LoadResult:
        return load_result(await rest.load_tracks(self._best_node(), identifier))

    async def lyrics(self, encoded: str) -> Mapping[str, Any] | None:
        return await rest.lyrics(self._best_node(), encoded)

    # ----- taking over another worker's players -------------------------------------------

    async def release_sessions(
        self, worker_id: str, guild_ids: Collection[int] | None = None
    ) -> dict[int, PlayerSnapshot]:
        """Remove the players of ``guild_ids`` (all for None) from another worker's Lavalink
        sessions (their ids from the session store), so that creating them here never makes
        two play at once; returns them as that worker's node had them (track as this process
        sent it, position, pause, volume, filters) for the caller to continue from.
        See :mod:`backbeat.audio.lavalink.takeover`."""
        if self._client is None:
            raise NoNodeAvailableError("the audio service is not started")
        store = self._supervisor.store
        if store is None:
            return {}
        if worker_id == self._supervisor.worker_id:
            raise ValueError("a worker does not release its own sessions")
        released: dict[int, PlayerSnapshot] = {}
        passwords = {n.name: n.password.get_secret_value() for n in self._node_config}
        for node in self.all_nodes():
            name = str(node.name)
            session_id = await store.load(worker_id, name)
            if session_id is None:
                continue
            found = await takeover.release(
                node,
                user_id=self._user_id,
                session_id=session_id,
                guild_ids=guild_ids,
                password=passwords[name],
            )
            for guild_id, answer in found.items():
                released[guild_id] = released_snapshot(guild_id, name, answer)
        return released

    # ----- players (also the failover supervisor's PlayerHost) ------------------------------

    def all_nodes(self) -> list[Any]:
        return [] if self._client is None else list(self._client.node_manager.nodes)

    def all_players(self) -> list[BackbeatPlayer]:
        return self._players()

    def player(self, guild_id: int) -> BackbeatPlayer | None:
        return self._get(guild_id)

    def adopt(self, node: Any, answer: dict[str, Any]) -> BackbeatPlayer:
        """A player of a resumed session this process does not know (it restarted)."""
        player = self._client.player_manager.create(int(answer["guildId"]), node=node)
        if not isinstance(player, BackbeatPlayer):  # pragma: no cover - the client's class
            raise TypeError(f"unexpected player class {type(player).__name__}")
        player.attach(self._sink, self._on_change)
        player.adopt(answer)
        return player

    def guild_lock(self, guild_id: int) -> KeyLock[int]:
        return self._lock(guild_id)

    def _players(self) -> list[BackbeatPlayer]:
        if self._client is None:
            return []
        return [p for p in self._client.player_manager.values() if isinstance(p, BackbeatPlayer)]

    def _get(self, guild_id: int) -> BackbeatPlayer | None:
        if self._client is None:
            return None
        player = self._client.player_manager.get(int(guild_id))
        return player if isinstance(player, BackbeatPlayer) else None

    def _require(self, guild_id: int) -> BackbeatPlayer:
        player = self._get(guild_id)
        if player is None:
            raise PlayerGoneError(guild_id)
        return player

    def _create(self, guild_id: int) -> BackbeatPlayer:
        node = self._best_node()
        player = self._client.player_manager.create(int(guild_id), node=node)
        if not isinstance(player, BackbeatPlayer):  # pragma: no cover - the client's class
            raise TypeError(f"unexpected player class {type(player).__name__}")
        player.attach(self._sink, self._on_change)
        return player

    def _lock(self, guild_id: int) -> KeyLock[int]:
        return self._locks.of(guild_id)

    def _player_changed(self, player: BackbeatPlayer) -> None:
        handshake = self._handshakes.get(player.guild)
        if handshake is not None:
            handshake.check(player)

    def is_connected(self, guild_id: int) -> bool:
        player = self._get(guild_id)
        return player is not None and player.connected

    def holds(self, guild_id: int) -> bool:
        return self._get(guild_id) is not None

    def snapshot(self, guild_id: int) -> PlayerSnapshot | None:
        player = self._get(guild_id)
        if player is None:
            return None
        return PlayerSnapshot(
            guild_id=player.guild,
            node=player.node_name,
            channel_id=player.channel_id,
            connected=player.connected,
            playing=player.encoded,
            paused=player.paused,
            volume=player.volume,
            position_ms=player.position_ms,
            filters=dict(player.filters),
            position_time_ms=player.state_time_ms,
        )

    # ----- voice --------------------------------------------------------------------

    async def connect(self, guild_id: int, channel_id: int) -> None:
        async with self._lock(guild_id):
            player = self._get(guild_id)
            if (
                player is not None
                and player.connected
                and player.channel_id == channel_id
                and player.lavalink_channel == channel_id
            ):
                return
            if player is not None and player.held:
                # its node is gone: the node that takes it gets its voice; a move must wait
                if player.requested_channel == channel_id:
                    return
                raise NoNodeAvailableError("the guild's Lavalink node is gone; none took it yet")
            if player is None:
                player = self._create(guild_id)
            handshake = Handshake(channel_id, need_server=not player.has_voice_server)
            self._handshakes[guild_id] = handshake
            player.requested_channel = channel_id
            log = _log.bind(guild_id=guild_id, channel_id=channel_id, node=player.node_name)
            try:
                await self._handshake(guild_id, handshake, player, log)
            except TimeoutError:
                log.warning("audio.voice_handshake_timeout", timeout_s=self._timeout_s)
                await self._abandon(guild_id)
                raise VoiceTimeoutError(guild_id, channel_id, self._timeout_s) from None
            except BaseException:
                await self._abandon(guild_id)
                raise
            finally:
                if self._handshakes.get(guild_id) is handshake:
                    del self._handshakes[guild_id]
            log.info("audio.voice_connected")

    async def _handshake(
        self, guild_id: int, handshake: Handshake, player: BackbeatPlayer, log: Any
    ) -> None:
        """Ask to join and wait. A first join whose voice state came but no server update
        within ``voice_rejoin_after_s`` found the bot already in the channel (a restarted
        process: Discord repeats only the voice state), so it leaves and joins again once
        for fresh credentials."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        await self._voice_request(guild_id, handshake.channel_id)
        handshake.check(player)
        if handshake.need_server:
            await asyncio.wait({handshake.done}, timeout=self._rejoin_after_s)
            if not handshake.done.done() and handshake.state_seen and not handshake.server_seen:
                log.info("audio.voice_rejoin", after_s=self._rejoin_after_s)
                handshake.state_seen = False
                await self._voice_request(guild_id, None)
                await self._voice_request(guild_id, handshake.channel_id)
        await asyncio.wait_for(handshake.done, max(0.0, deadline - loop.time()))

    async def _abandon(self, guild_id: int) -> None:
        """A failed handshake: no player left behind, and the gateway told to leave."""
        await self.destroy(guild_id)
        try:
            await self._voice_request(guild_id, None)
        except Exception as exc:  # the leave is best effort: the join failed anyway
            _log.warning("audio.voice_leave_failed", guild_id=guild_id, error=repr(exc))

    async def disconnect(self, guild_id: int) -> None:
        """Destroy the player first (so the leave's echo finds none), then leave. The leave
        is asked for even without a player: the bot may still be in voice from before a
        restart, and a leave outside voice changes nothing."""
        await self.destroy(guild_id)
        await self._voice_request(guild_id, None)

    async def voice_state(self, data: Mapping[str, Any]) -> None:
        if int(data.get("user_id") or 0) != self._user_id:
            return
        guild_id = int(data["guild_id"])
        player = self._get(guild_id)
        if player is None:
            return
        raw_channel = data.get("channel_id")
        channel = int(raw_channel) if raw_channel else None
        handshake = self._handshakes.get(guild_id)
        if channel is None:
            if handshake is None and player.channel_id is not None:
                _log.info("audio.voice_disconnected_by_discord", guild_id=guild_id)
                self._events.put_nowait(VoiceDisconnected(guild_id))
        elif handshake is not None:
            if channel == handshake.channel_id:
                handshake.state_seen = True
        elif player.requested_channel is not None and channel != player.requested_channel:
            player.requested_channel = channel
            _log.info("audio.voice_moved", guild_id=guild_id, channel_id=channel)
            self._events.put_nowait(VoiceMoved(guild_id, channel))
        await self._hand_to_lavalink("VOICE_STATE_UPDATE", data, handshake)
        self._player_changed(player)

    async def voice_server(self, data: Mapping[str, Any]) -> None:
        guild_id = int(data["guild_id"])
        player = self._get(guild_id)
        if player is None:
            return
        handshake = self._handshakes.get(guild_id)
        if handshake is not None:
            handshake.server_seen = True
        await self._hand_to_lavalink("VOICE_SERVER_UPDATE", data, handshake)
        self._player_changed(player)

    async def _hand_to_lavalink(
        self, kind: str, data: Mapping[str, Any], handshake: Handshake | None
    ) -> None:
        """One guild's voice updates reach Lavalink one at a time, in the order they came."""
        guild_id = int(data["guild_id"])
        try:
            async with self._voice_locks.of(guild_id):
                await self._client.voice_update_handler({"t": kind, "d": dict(data)})
        except AudioError as exc:
            _log.warning("audio.voice_update_failed", guild_id=guild_id, error=str(exc))
            if handshake is not None:
                handshake.fail(exc)

    # ----- playback -----------------------------------------------------------------

    async def _patch(self, guild_id: int, body: Mapping[str, Any]) -> BackbeatPlayer:
        """PATCH the guild's player; a held one (no node now) only records the change, and
        the node that takes it gets the result."""
        player = self._require(guild_id)
        if player.held:
            player.apply_held(body)
            return player
        try:
            answer = await rest.update_player(player.node, guild_id, body)
        except LavalinkRequestError as exc:
            if exc.status is not None or not self._supervisor.is_down(player.node_name):
                raise
            # the node dropped and cannot be reached: hold the player (see failover)
            player.hold()
            player.apply_held(body)
            return player
        player.apply_player(answer)
        return player

    async def play(
        self,
        guild_id: int,
        track: QueueTrack,
        *,
        start_ms: int = 0,
        paused: bool = False,
        volume: int = 100,
        filters: Mapping[str, Any] | None = None,
    ) -> None:
        """Play ``track`` now (replacing any); ``filters`` None keeps the current ones."""
        async with self._lock(guild_id):
            player = self._require(guild_id)
            body: dict[str, Any] = {
                "track": track_body(track.encoded),
                "paused": paused,
                "volume": _volume(volume),
            }
            if start_ms > 0:
                body["position"] = int(start_ms)
            if filters is not None:
                body["filters"] = dict(filters)
            player.prepare(track)
            try:
                await self._patch(guild_id, body)
            except BaseException:
                player.unprepare()
                raise

    async def set_paused(self, guild_id: int, paused: bool) -> None:
        async with self._lock(guild_id):
            await self._patch(guild_id, {"paused": paused})

    async def seek(self, guild_id: int, position_ms: int) -> None:
        async with self._lock(guild_id):
            player = await self._patch(guild_id, {"position": max(0, int(position_ms))})
            if player.encoded is not None:
                player.position_ms = max(0, int(position_ms))

    async def set_volume(self, guild_id: int, percent: int) -> None:
        async with self._lock(guild_id):
            await self._patch(guild_id, {"volume": _volume(percent)})

    async def set_filters(self, guild_id: int, filters: Mapping[str, Any]) -> None:
        async with self._lock(guild_id):
            await self._patch(guild_id, {"filters": dict(filters)})

    async def stop(self, guild_id: int) -> None:
        async with self._lock(guild_id):
            await self._patch(guild_id, {"track": {"encoded": None}})

    async def destroy(self, guild_id: int) -> None:
        """Forget the player at once, then DELETE it on its node (best effort: a node that
        cannot be reached drops the players of a closed session itself)."""
        player = self._get(guild_id)
        if player is None:
            return
        self._client.player_manager.remove(int(guild_id))
        handshake = self._handshakes.get(guild_id)
        if handshake is not None:
            handshake.fail(PlayerGoneError(guild_id))
        try:
            await rest.destroy_player(player.node, guild_id)
        except AudioError as exc:
            _log.warning("audio.player_destroy_failed", guild_id=guild_id, error=str(exc))


def _volume(percent: int) -> int:
    return max(0, min(MAX_VOLUME, int(percent)))


if TYPE_CHECKING:

    def _implements_the_seam(players: LavalinkPlayers) -> Players:
        return players  # mypy checks LavalinkPlayers against the Players protocol
