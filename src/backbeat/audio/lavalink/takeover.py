"""Releasing another worker's players from its Lavalink session, so they never play twice.

A worker that dies (or hands over on SIGTERM) leaves its session *waiting for a resume*: its
players play on for the resume timeout, and Lavalink's REST does not know such a session
("Session not found"), so the new owner cannot delete them. The only way in is to resume the
session: :func:`release` connects with the old worker's ``Session-Id`` (from the session
store), removes the named guilds' players while it holds the session, and closes the socket
again; the session then waits for its resume as before with the players that are left (or,
once it has none, is closed for good). The answer is the removed players as Lavalink had them
(track with its position), for the new owner to continue from.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection
from typing import Any

import aiohttp

from backbeat.audio.errors import LavalinkRequestError
from backbeat.audio.lavalink import rest
from backbeat.observability.logging import get_logger

_log = get_logger(__name__)

#: Seconds to wait for the resumed session's ``ready``.
READY_TIMEOUT_S = 5.0
#: Tries when the session is not resumed (another new owner may hold it for a moment).
ATTEMPTS = 3
RETRY_AFTER_S = 0.5


async def release(
    node: Any,
    *,
    user_id: int,
    session_id: str,
    guild_ids: Collection[int] | None,
    password: str,
) -> dict[int, dict[str, Any]]:
    """Resume ``session_id`` on ``node`` (a lavalink.py node: its address and HTTP session),
    delete the players of ``guild_ids`` (every player for None) and let the session wait again.
    Returns the deleted players (Lavalink Player objects) by guild; ``{}`` when the session is
    gone (expired; or still held by another connection after :data:`ATTEMPTS` tries). Raises
    :class:`LavalinkRequestError` when the node cannot be reached."""
    for attempt in range(1, ATTEMPTS + 1):
        released = await _release_once(node, user_id, session_id, guild_ids, password)
        if released is not None:
            return released
        if attempt < ATTEMPTS:
            await asyncio.sleep(RETRY_AFTER_S)
    _log.info("audio.lavalink_takeover_session_gone", node=rest.node_name(node))
    return {}


async def _release_once(
    node: Any,
    user_id: int,
    session_id: str,
    guild_ids: Collection[int] | None,
    password: str,
) -> dict[int, dict[str, Any]] | None:
    name = rest.node_name(node)
    transport = node._transport
    protocol = "wss" if transport._ssl else "ws"
    url = f"{protocol}://{transport._host}:{transport._port}/v4/websocket"
    headers = {
        "Authorization": password,
        "User-Id": str(user_id),
        "Client-Name": "Backbeat-takeover",
        "Session-Id": session_id,
    }
    http: aiohttp.ClientSession = node.client._session
    try:
        socket = await http.ws_connect(url, headers=headers)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise LavalinkRequestError(name, "GET", "websocket", None, repr(exc)) from exc
    try:
        if not await _resumed(socket, session_id):
            return None
        path = f"sessions/{session_id}/players"
        players = await rest.request(node, "GET", path)
        released: dict[int, dict[str, Any]] = {}
        for player in players if isinstance(players, list) else []:
            guild_id = int(player.get("guildId") or 0)
            if guild_ids is not None and guild_id not in guild_ids:
                continue
            await rest.request(node, "DELETE", f"{path}/{guild_id}")
            released[guild_id] = dict(player)
        if guild_ids is None or len(released) == len(players):
            # nothing left to wait for: the node may close the session with the socket
            await rest.request(node, "PATCH", f"sessions/{session_id}", json={"resuming": False})
        _log.info("audio.lavalink_takeover_released", node=name, guilds=sorted(released))
        return released
    finally:
        await socket.close()


async def _resumed(socket: aiohttp.ClientWebSocketResponse, session_id: str) -> bool:
    """Whether the first op is ``ready`` for this very session, resumed."""
    try:
        message = await asyncio.wait_for(socket.receive(), READY_TIMEOUT_S)
    except TimeoutError:
        return False
    if message.type != aiohttp.WSMsgType.TEXT:
        return False
    data = json.loads(message.data)
    return bool(
        data.get("op") == "ready" and data.get("resumed") and data.get("sessionId") == session_id
    )
