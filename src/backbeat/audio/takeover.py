"""Taking a guild's player over from another worker's Lavalink session, by REST.

A player lives in the Lavalink session of the worker that created it. When a guild's
partition moves, its new owner reads the old player (``GET
/v4/sessions/{old}/players/{guild}``: voice credentials, track, position, pause), connects
its own player with those voice credentials, removes the old player (``DELETE``) and then
plays the track from the old player's position: the old one stops before the new one starts
(never two at once) and the gap is two REST round trips.

Lavalink answers ``Session not found`` for a session that is not connected (its worker died
and the session waits for a resume, or it expired): then nothing can be removed and the new
owner waits until that session has certainly expired (see :mod:`backbeat.audio.restore`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from backbeat.audio.errors import LavalinkRequestError
from backbeat.config import LavalinkNode
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)

OldPlayerState = Literal["found", "no_player", "no_session"]


@dataclass(frozen=True, slots=True)
class OldPlayer:
    """What the old session's player was doing when read."""

    state: OldPlayerState
    encoded: str | None = None
    position_ms: int = 0
    paused: bool = False
    voice: Mapping[str, Any] | None = None


class SessionTakeover:
    """REST calls to other sessions on the configured nodes (one HTTP client, lazily)."""

    def __init__(self, nodes: Sequence[LavalinkNode], *, timeout_s: float = 5.0) -> None:
        self._nodes = {node.name: node for node in nodes}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._http: aiohttp.ClientSession | None = None

    def knows(self, node_name: str | None) -> bool:
        return node_name is not None and node_name in self._nodes

    async def _call(self, node_name: str, method: str, path: str) -> tuple[int, Any]:
        node = self._nodes[node_name]
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self._timeout)
        url = f"{node.url.rstrip('/')}/v4/{path}"
        headers = {"Authorization": node.password.get_secret_value()}
        try:
            async with self._http.request(method, url, headers=headers) as response:
                body: Any = None
                if response.status != 204:
                    body = await response.json(content_type=None)
                return response.status, body
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            raise LavalinkRequestError(node_name, method, path, None, repr(exc)) from exc

    async def read(self, node_name: str, session_id: str, guild_id: int) -> OldPlayer:
        """The old session's player of the guild (or why there is none)."""
        path = f"sessions/{session_id}/players/{guild_id}"
        status, body = await self._call(node_name, "GET", path)
        if status == 404:
            message = str(body.get("message", "")) if isinstance(body, dict) else ""
            return OldPlayer("no_session" if "session" in message.lower() else "no_player")
        if status >= 400 or not isinstance(body, dict):
            raise LavalinkRequestError(node_name, "GET", path, status, str(body)[:200])
        track = body.get("track")
        state = body.get("state") or {}
        return OldPlayer(
            "found",
            encoded=track.get("encoded") if isinstance(track, dict) else None,
            position_ms=int(state.get("position") or 0),
            paused=bool(body.get("paused")),
            voice=body.get("voice") if isinstance(body.get("voice"), dict) else None,
        )

    async def remove(self, node_name: str, session_id: str, guild_id: int) -> bool:
        """DELETE the old session's player; False when the session is not connected."""
        path = f"sessions/{session_id}/players/{guild_id}"
        status, body = await self._call(node_name, "DELETE", path)
        if status == 404:
            return False
        if status >= 400:
            raise LavalinkRequestError(node_name, "DELETE", path, status, str(body)[:200])
        return True

    async def guilds(self, node_name: str, session_id: str) -> set[int] | None:
        """The guild ids with a player in the session (None: session not connected)."""
        path = f"sessions/{session_id}/players"
        status, body = await self._call(node_name, "GET", path)
        if status == 404:
            return None
        if status >= 400 or not isinstance(body, list):
            raise LavalinkRequestError(node_name, "GET", path, status, str(body)[:200])
        return {int(p["guildId"]) for p in body if isinstance(p, dict) and "guildId" in p}

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
