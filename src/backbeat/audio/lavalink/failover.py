"""Node loss and return: resume first, fail over only after a grace, never two players at once.

After each node's ``ready`` its session is made resumable (``PATCH /v4/sessions/{id}``
``{resuming: true, timeout}``) and its id stored per (worker, node). A dropped socket
reconnects with ``Session-Id`` (:mod:`backbeat.audio.lavalink.transport`); within
``failover_grace_s`` a resume changes nothing. After the grace the node's players are *held*
(calls change only their local state) and moved:

1. The old player must be gone before another node plays the guild. A ``DELETE`` on the old
   node that succeeds proves it (only while the node still holds the session as connected:
   Lavalink's REST answers 404 for a session waiting for its resume); otherwise the player
   counts as gone only once the old session has expired there: the drop plus
   ``resume_timeout_s`` plus :data:`EXPIRY_MARGIN_S`. A node that comes back *with* its
   session before that keeps its players (they played on); the players moved away meanwhile
   are deleted from the resumed session before anything else happens there.
2. Each player then goes to the best other ready node (steady before flapping, the configured
   region first, lowest penalty) with its track, at the position it had reached when the old
   one stopped (extrapolated on this process's clock), paused, volume, filters and voice.
3. With no node to take it, the player stays held: ``ready()`` is False, a
   ``NodeChanged(available=False, extra={"all_down": True, "held": [guild ids]})`` says which
   guilds wait, and the next node to become ready re-creates them at their stored positions,
   then sends ``NodeChanged(available=True, extra={"restored": [guild ids]})``.

Players never move back mid-track: a node that returns only takes new and held players.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from backbeat.audio.errors import LavalinkRequestError
from backbeat.audio.keyed_lock import KeyLock
from backbeat.audio.lavalink import rest, transport
from backbeat.audio.lavalink.health import NodeHealth
from backbeat.audio.lavalink.nodes import best_node, penalty
from backbeat.audio.lavalink.player import BackbeatPlayer
from backbeat.audio.lavalink.sessions import SessionStore
from backbeat.audio.ports import NodeChanged, PlayerEvent
from backbeat.observability import metrics
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)

#: Seconds past the resume timeout after which an unreachable node's session counts as expired
#: (the node notices the closed socket a little after this process does).
EXPIRY_MARGIN_S = 1.0
#: Seconds a node found reachable after the grace gets to resume once reconnected.
RECONNECT_WAIT_S = 3.0
#: Players moved at once (each is one PATCH to the node that takes it).
PLACE_CONCURRENCY = 16
#: Seconds between checks that a down node is still being reconnected (lavalink.py gives up
#: after a handshake answered with an HTTP error, e.g. a proxy's 502 while Lavalink restarts).
REVIVE_INTERVAL_S = 5.0


class PlayerHost(Protocol):
    """What the supervisor needs of :class:`~backbeat.audio.lavalink.players.LavalinkPlayers`."""

    def all_nodes(self) -> list[Any]: ...

    def all_players(self) -> list[BackbeatPlayer]: ...

    def player(self, guild_id: int) -> BackbeatPlayer | None: ...

    def adopt(self, node: Any, answer: dict[str, Any]) -> BackbeatPlayer: ...

    def guild_lock(self, guild_id: int) -> KeyLock[int]: ...


@dataclass(frozen=True, slots=True)
class FailoverPolicy:
    """The settings of the supervisor (``BACKBEAT_LAVALINK_*``)."""

    resume_timeout_s: int = 60
    failover_grace_s: float = 5.0
    region: str | None = None


@dataclass(slots=True)
class _Node:
    health: NodeHealth
    back: asyncio.Event = field(default_factory=asyncio.Event)
    resumed: bool = False
    seen_ready: bool = False
    #: The first ready of this process resumed a session: its players are being adopted.
    adopting: bool = False
    grace: asyncio.Task[None] | None = None
    evacuating: bool = False


class NodeSupervisor:
    """Keeps every node's health and moves players when a node is gone (see module doc)."""

    def __init__(
        self,
        host: PlayerHost,
        emit: Callable[[PlayerEvent], None],
        policy: FailoverPolicy,
        *,
        store: SessionStore | None = None,
        worker_id: str = "",
    ) -> None:
        self._host = host
        self._emit = emit
        self._policy = policy
        self._store = store
        self._worker_id = worker_id
        self._nodes: dict[str, _Node] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    # ----- state -------------------------------------------------------------------------

    def _node(self, name: str) -> _Node:
        entry = self._nodes.get(name)
        if entry is None:
            entry = self._nodes[name] = _Node(NodeHealth(name))
        return entry

    @property
    def store(self) -> SessionStore | None:
        return self._store

    @property
    def worker_id(self) -> str:
        return self._worker_id

    def health(self, name: str) -> NodeHealth:
        return self._node(name).health

    def ready_names(self) -> set[str]:
        """Nodes whose socket is up with a session (what takes new players)."""
        return {
            n.name
            for n in self._host.all_nodes()
            if n.available
            and self._node(n.name).health.state == "ready"
            and not self._node(n.name).adopting
        }

    def is_down(self, name: str) -> bool:
        """The node's socket dropped (within the grace or after it)."""
        return self._node(name).health.state in {"resuming", "down"}

    def flapping_names(self) -> set[str]:
        return {name for name, entry in self._nodes.items() if entry.health.flapping()}

    def pick(self, exclude: Iterable[str] = ()) -> Any:
        """The node for a new or moved player, or None: ready, steady before flapping,
        the configured region first, lowest penalty."""
        ready = self.ready_names() - set(exclude)
        return best_node(
            self._host.all_nodes(), ready, self._policy.region, avoid=self.flapping_names()
        )

    def held(self) -> list[BackbeatPlayer]:
        return [p for p in self._host.all_players() if p.held]

    def publish_metrics(self) -> None:
        players = self._host.all_players()
        for node in self._host.all_nodes():
            name = str(node.name)
            health = self._node(name).health
            for state in ("connecting", "ready", "resuming", "down"):
                metrics.lavalink_node_state.labels(name, state).set(
                    1 if health.state == state else 0
                )
            metrics.lavalink_node_players.labels(name).set(
                sum(1 for p in players if p.node is node and not p.held)
            )
            metrics.lavalink_node_penalty.labels(name).set(penalty(node) or 0.0)
        metrics.lavalink_players_held.set(sum(1 for p in players if p.held))

    # ----- lifecycle -------------------------------------------------------------------

    async def initial_session(self, node_name: str) -> str | None:
        """The stored session id to resume at start, if any (errors: start a new one)."""
        if self._store is None:
            return None
        try:
            return await self._store.load(self._worker_id, node_name)
        except Exception as exc:
            _log.warning("audio.lavalink_session_load_failed", node=node_name, error=repr(exc))
            return None

    async def close(self) -> None:
        self._closed = True
        for entry in self._nodes.values():
            if entry.grace is not None:
                entry.grace.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def _spawn(self, coro: Any, name: str) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ----- node events (from lavalink.py's hooks) -----------------------------------------

    def node_ready(self, node: Any, session_id: str, resumed: bool) -> None:
        name = str(node.name)
        entry = self._node(name)
        if self._closed:
            return
        if entry.grace is not None:
            entry.grace.cancel()
            entry.grace = None
        first = not entry.seen_ready
        entry.seen_ready = True
        entry.adopting = resumed and first
        entry.resumed = resumed
        entry.health.ready(session_id, resumed)
        entry.back.set()
        metrics.lavalink_sessions_total.labels(name, "resumed" if resumed else "new").inc()
        _log.info("audio.lavalink_node_ready", node=name, resumed=resumed)
        lost: list[BackbeatPlayer] = []
        if not resumed and not first and not entry.evacuating:
            # a new session: the node forgot the players it had (restart, or expired)
            lost = [
                p for p in self._host.all_players() if p.node is node and not (p.held and p.settled)
            ]
            stopped = min(time.monotonic(), _stopped_at(entry.health, self._policy))
            for player in lost:
                player.hold()
                player.settle(stopped)
        self._emit(NodeChanged(name, True, {"session_id": session_id, "resumed": resumed}))
        self._spawn(
            self._after_ready(node, session_id, resumed, first, lost), f"lavalink.ready.{name}"
        )
        self.publish_metrics()

    def node_dropped(self, node: Any, code: int | None, reason: str | None) -> None:
        name = str(node.name)
        entry = self._node(name)
        if self._closed or entry.health.state != "ready":
            return
        entry.back.clear()
        entry.health.dropped(f"socket closed: code={code} reason={reason}")
        metrics.lavalink_node_drops_total.labels(name).inc()
        _log.warning("audio.lavalink_node_dropped", node=name, code=code, reason=reason)
        self._emit(NodeChanged(name, False, {"code": code, "reason": reason, "state": "resuming"}))
        if entry.grace is not None:
            entry.grace.cancel()
        entry.grace = asyncio.create_task(self._grace(node), name=f"lavalink.grace.{name}")
        self.publish_metrics()

    # ----- a node is back -----------------------------------------------------------------

    async def _after_ready(
        self,
        node: Any,
        session_id: str,
        resumed: bool,
        first: bool,
        lost: list[BackbeatPlayer],
    ) -> None:
        name = str(node.name)
        entry = self._node(name)
        try:
            await rest.update_session(node, resuming=True, timeout_s=self._policy.resume_timeout_s)
        except LavalinkRequestError as exc:
            entry.health.last_error = str(exc)
            _log.warning("audio.lavalink_session_not_resumable", node=name, error=str(exc))
        if self._store is not None:
            try:
                await self._store.save(self._worker_id, name, session_id)
            except Exception as exc:
                _log.warning("audio.lavalink_session_save_failed", node=name, error=repr(exc))
        if resumed:
            try:
                adopted = await self._reconcile(node, first)
            finally:
                entry.adopting = False
            if adopted:
                self._emit(NodeChanged(name, True, {"adopted": adopted}))
        elif lost:
            _log.warning("audio.lavalink_players_lost", node=name, guilds=_ids(lost))
            await self._place(lost, "lost_session")
        restored = await self._place([p for p in self.held() if p.settled], "restored")
        if restored:
            self._emit(NodeChanged(name, True, {"restored": restored}))
        self.publish_metrics()

    async def _reconcile(self, node: Any, first: bool) -> list[int]:
        """A resumed session: adopt its players (first ready of this process) or delete those
        whose guild's player is elsewhere or gone (moved or destroyed while the node was away).
        Returns the adopted guilds."""
        name = str(node.name)
        adopted: list[int] = []
        try:
            remote = await rest.session_players(node)
        except LavalinkRequestError as exc:
            self._node(name).health.last_error = str(exc)
            _log.warning("audio.lavalink_session_players_failed", node=name, error=str(exc))
            return adopted
        for answer in remote:
            guild_id = int(answer.get("guildId") or 0)
            local = self._host.player(guild_id)
            if local is not None and local.node is node:
                continue
            if local is None and first:
                self._host.adopt(node, answer)
                adopted.append(guild_id)
                _log.info("audio.lavalink_player_adopted", node=name, guild_id=guild_id)
                continue
            try:
                await rest.destroy_player(node, guild_id)
                _log.info("audio.lavalink_stale_player_deleted", node=name, guild_id=guild_id)
            except LavalinkRequestError as exc:
                _log.warning("audio.lavalink_stale_player_left", node=name, error=str(exc))
        for player in self._host.all_players():
            if player.node is node and player.held and not player.settled:
                await self._back_in_place(player)
        return adopted

    async def _back_in_place(self, player: BackbeatPlayer) -> None:
        """A held player whose node resumed: it played on there; replay calls made meanwhile."""
        async with self._host.guild_lock(player.guild):
            if self._host.player(player.guild) is not player or not player.held:
                return
            if not player.dirty:
                player.unhold()
                return
            player.settled = True
            try:
                await player.change_node(player.node)
            except LavalinkRequestError as exc:
                _log.warning("audio.lavalink_replay_failed", guild_id=player.guild, error=str(exc))

    # ----- a node is gone -----------------------------------------------------------------

    async def _grace(self, node: Any) -> None:
        """Wait for the resume; a node reachable by then (lavalink.py's reconnect backoff may
        be longer than the grace) is reconnected at once and gets a little longer."""
        name = str(node.name)
        entry = self._node(name)
        await asyncio.sleep(self._policy.failover_grace_s)
        if entry.health.state != "resuming":
            return
        if await self._reachable(node):
            _log.info("audio.lavalink_node_reachable_reconnecting", node=name)
            await transport.reconnect_now(node)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(entry.back.wait(), RECONNECT_WAIT_S)
            if entry.back.is_set() or entry.health.state != "resuming":
                return
        entry.grace = None
        entry.health.gone()
        entry.evacuating = True
        self._spawn(self._evacuate(node), f"lavalink.evacuate.{name}")
        self._spawn(self._revive(node), f"lavalink.revive.{name}")

    async def _revive(self, node: Any) -> None:
        """While the node is down, restart lavalink.py's reconnect whenever it gave up."""
        name = str(node.name)
        entry = self._node(name)
        while entry.health.state == "down" and not self._closed:
            await asyncio.sleep(REVIVE_INTERVAL_S)
            if entry.health.state == "down" and not transport.reconnecting(node):
                _log.info("audio.lavalink_node_reconnect_restarted", node=name)
                await transport.reconnect_now(node)

    async def _evacuate(self, node: Any) -> None:
        name = str(node.name)
        entry = self._node(name)
        try:
            players = [
                p for p in self._host.all_players() if p.node is node and not (p.held and p.settled)
            ]
            for player in players:
                player.hold()
            _log.warning("audio.lavalink_node_gone", node=name, guilds=_ids(players))
            confirmed, unknown = await self._delete_old(node, players)
            now = time.monotonic()
            for player in confirmed:
                player.settle(now)
            await self._place(confirmed, "failover", exclude=(name,))
            if unknown:
                deadline = _stopped_at(entry.health, self._policy) + EXPIRY_MARGIN_S
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(entry.back.wait(), deadline - time.monotonic())
                if entry.back.is_set() and entry.resumed:
                    return  # resumed in time: _reconcile keeps them there
                stopped = min(time.monotonic(), _stopped_at(entry.health, self._policy))
                for player in unknown:
                    player.settle(stopped)
                # a node back with a new session has none of its old players: it may take them
                await self._place(
                    unknown, "failover", exclude=() if entry.back.is_set() else (name,)
                )
            held = [p.guild for p in players if p.held and self._host.player(p.guild) is p]
            if held:
                all_down = not self.ready_names()
                _log.warning("audio.lavalink_players_held", node=name, guilds=held)
                self._emit(
                    NodeChanged(name, False, {"state": "down", "all_down": all_down, "held": held})
                )
        finally:
            entry.evacuating = False
            self.publish_metrics()

    async def _reachable(self, node: Any) -> bool:
        try:
            await rest.request(node, "GET", "info")
        except LavalinkRequestError:
            return False
        return True

    async def _delete_old(
        self, node: Any, players: list[BackbeatPlayer]
    ) -> tuple[list[BackbeatPlayer], list[BackbeatPlayer]]:
        """DELETE each player on the old node: (gone for sure, not known to be gone)."""
        confirmed: list[BackbeatPlayer] = []
        unknown: list[BackbeatPlayer] = []
        reachable = True
        for player in players:
            if not reachable:
                unknown.append(player)
                continue
            try:
                await rest.destroy_player(node, player.guild)
                confirmed.append(player)
            except LavalinkRequestError as exc:
                unknown.append(player)
                reachable = exc.status is not None
        return confirmed, unknown

    async def _place(
        self, players: list[BackbeatPlayer], reason: str, exclude: Iterable[str] = ()
    ) -> list[int]:
        """Move each held, settled player to the best node not in ``exclude`` (a few at a
        time); those with none stay held. Returns the guilds placed."""
        excluded = tuple(exclude)
        gate = asyncio.Semaphore(PLACE_CONCURRENCY)

        async def one(player: BackbeatPlayer) -> int | None:
            async with gate, self._host.guild_lock(player.guild):
                if self._host.player(player.guild) is not player:
                    return None  # destroyed meanwhile
                if not (player.held and player.settled):
                    return None
                target = self.pick(excluded)
                if target is None:
                    return None
                source = player.node_name
                try:
                    await player.change_node(target)
                except LavalinkRequestError as exc:
                    _log.warning(
                        "audio.lavalink_player_move_failed",
                        guild_id=player.guild,
                        node=str(target.name),
                        error=str(exc),
                    )
                    return None
                metrics.lavalink_player_moves_total.labels(reason).inc()
                _log.info(
                    "audio.lavalink_player_moved",
                    guild_id=player.guild,
                    source=source,
                    node=str(target.name),
                    reason=reason,
                    position_ms=player.position_ms,
                )
                return player.guild

        placed = await asyncio.gather(*(one(p) for p in players))
        return [guild for guild in placed if guild is not None]


def _stopped_at(health: NodeHealth, policy: FailoverPolicy) -> float:
    """When an unreachable node's session expires (monotonic), from its last drop."""
    dropped = health.dropped_at if health.dropped_at is not None else time.monotonic()
    return dropped + policy.resume_timeout_s


def _ids(players: Iterable[BackbeatPlayer]) -> list[int]:
    return [p.guild for p in players]
