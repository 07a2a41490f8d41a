"""A client session: one WebSocket connection's players, outgoing messages and resume state.

Messages are queued in order and flushed to the socket by :meth:`Session.flush`. While the
socket of a resumable session is gone the session is *paused*: messages go to a resume
queue that is replayed, after a ``ready`` with ``resumed: true``, when the client returns
with the same ``Session-Id`` before the timeout.
"""

from __future__ import annotations

import asyncio
import collections
import json
import secrets
import string
from collections.abc import Callable
from typing import Any

from aiohttp import web

from backbeat.observability.logging import get_logger
from backbeat.testing.lavalink.player import Message, Player

_log = get_logger(__name__)

_SESSION_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_session_id(taken: Callable[[str], bool]) -> str:
    """16 characters of ``[a-z0-9]``, unique on this node, as Lavalink makes them."""
    while True:
        candidate = "".join(secrets.choice(_SESSION_ID_ALPHABET) for _ in range(16))
        if not taken(candidate):
            return candidate


class Session:
    """Lavalink's SocketContext: the state behind one ``sessionId``."""

    def __init__(self, session_id: str, user_id: int, client_name: str | None) -> None:
        self.id = session_id
        self.user_id = user_id
        self.client_name = client_name
        self.players: dict[int, Player] = {}
        self.resumable = False
        self.timeout_seconds = 60
        self.paused = False
        self.expires_at_ms: float | None = None
        self.next_stats_ms = 0.0
        self.lyrics_subscribed: set[int] = set()
        self.ws: web.WebSocketResponse | None = None
        self.request: web.Request | None = None
        self._outbox: collections.deque[str] = collections.deque()
        self._resume_queue: list[str] = []
        self._lock = asyncio.Lock()

    # ----- sending ---------------------------------------------------------------------

    def emit(self, message: Message) -> None:
        """Queue a message: to the socket, or to the resume queue while paused.

        Like Lavalink, a paused session queues events and stats but drops playerUpdates
        (one fresh playerUpdate per player follows the replay on resume).
        """
        payload = json.dumps(message, separators=(",", ":"))
        if self.paused:
            if message.get("op") != "playerUpdate":
                self._resume_queue.append(payload)
        else:
            self._outbox.append(payload)

    @property
    def queued_for_resume(self) -> int:
        return len(self._resume_queue)

    async def flush(self) -> None:
        """Send every queued message, in order; messages for a closed socket are dropped."""
        async with self._lock:
            while self._outbox:
                payload = self._outbox.popleft()
                ws = self.ws
                if ws is None or ws.closed:
                    continue
                try:
                    await ws.send_str(payload)
                except (ConnectionError, RuntimeError) as exc:
                    _log.info("lavalink_emulator.send_failed", session_id=self.id, error=str(exc))

    # ----- lifecycle -------------------------------------------------------------------

    def attach(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.ws = ws
        self.request = request

    def pause(self, now_ms: float) -> None:
        """The socket closed and the session is resumable: keep it for ``timeout_seconds``."""
        self.ws = None
        self.request = None
        self.paused = True
        self._outbox.clear()
        self.expires_at_ms = now_ms + self.timeout_seconds * 1000.0

    def resume(self, ws: web.WebSocketResponse, request: web.Request, now_ms: float) -> None:
        """The client came back: ready(resumed), replayed events, one playerUpdate per player."""
        self.attach(ws, request)
        self.paused = False
        self.expires_at_ms = None
        self.emit({"op": "ready", "resumed": True, "sessionId": self.id})
        self._outbox.extend(self._resume_queue)
        self._resume_queue.clear()
        for player in self.players.values():
            player.send_player_update(now_ms)

    def player(self, guild_id: int, make: Callable[[int], Player]) -> Player:
        """The guild's player, created on first use."""
        existing = self.players.get(guild_id)
        if existing is None:
            existing = make(guild_id)
            self.players[guild_id] = existing
        return existing

    def destroy_player(self, guild_id: int, now_ms: float) -> None:
        player = self.players.pop(guild_id, None)
        if player is not None:
            player.destroy(now_ms)
        self.lyrics_subscribed.discard(guild_id)

    def shutdown(self, now_ms: float) -> None:
        """Destroy every player (the session is gone for good)."""
        for guild_id in list(self.players):
            self.destroy_player(guild_id, now_ms)
        self._outbox.clear()
        self._resume_queue.clear()
        self.ws = None
        self.request = None

    def to_json(self, now_ms: float) -> dict[str, Any]:
        """Inspection view for the control API."""
        return {
            "sessionId": self.id,
            "userId": str(self.user_id),
            "clientName": self.client_name,
            "resuming": self.resumable,
            "timeout": self.timeout_seconds,
            "connected": self.ws is not None and not self.ws.closed,
            "paused": self.paused,
            "queuedEvents": len(self._resume_queue),
            "players": [p.to_json(now_ms) for p in self.players.values()],
        }
