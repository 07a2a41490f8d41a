"""Typed REST calls to one lavalink.py node, with its errors translated to the audio tree.

lavalink.py is untyped and raises its own exceptions (``RequestError``, ``ClientError``,
``AuthenticationError``) as well as aiohttp's; nothing of that leaves this module: every
failure becomes a :class:`~backbeat.audio.errors.LavalinkRequestError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import lavalink

from backbeat.audio.errors import LavalinkRequestError

JsonObject = dict[str, Any]


def node_name(node: Any) -> str:
    """The configured name of a lavalink.py node."""
    return str(node.name)


def session_id(node: Any) -> str | None:
    """The node's Lavalink session id, None before its ``ready`` op."""
    value = node.session_id
    return str(value) if value else None


async def request(
    node: Any,
    method: str,
    path: str,
    *,
    params: Mapping[str, str] | None = None,
    json: Any = None,
) -> Any:
    """``method /v4/{path}`` on ``node``: the decoded JSON, or True for 204."""
    kwargs: dict[str, Any] = {}
    if params:
        kwargs["params"] = dict(params)
    if json is not None:
        kwargs["json"] = json
    name = node_name(node)
    try:
        return await node.request(method, path, **kwargs)
    except lavalink.RequestError as exc:
        raise LavalinkRequestError(name, method, path, int(exc.status), str(exc.message)) from exc
    except lavalink.AuthenticationError as exc:
        raise LavalinkRequestError(name, method, path, 401, "authentication failed") from exc
    except (TimeoutError, lavalink.LavalinkError, aiohttp.ClientError, OSError) as exc:
        raise LavalinkRequestError(name, method, path, None, repr(exc)) from exc


def _player_path(node: Any, guild_id: int) -> str:
    sid = session_id(node)
    if sid is None:
        raise LavalinkRequestError(
            node_name(node), "PATCH", "sessions/?/players", None, "node has no session yet"
        )
    return f"sessions/{sid}/players/{guild_id}"


async def update_player(
    node: Any, guild_id: int, body: Mapping[str, Any], *, no_replace: bool = False
) -> JsonObject:
    """``PATCH /v4/sessions/{sid}/players/{guild}``: Lavalink's Player object."""
    params = {"noReplace": "true"} if no_replace else None
    result = await request(
        node, "PATCH", _player_path(node, guild_id), params=params, json=dict(body)
    )
    if not isinstance(result, dict):
        raise LavalinkRequestError(
            node_name(node), "PATCH", "players", None, "answer is not a player object"
        )
    return result


async def destroy_player(node: Any, guild_id: int) -> None:
    """``DELETE /v4/sessions/{sid}/players/{guild}`` (Lavalink answers 204 even if absent)."""
    await request(node, "DELETE", _player_path(node, guild_id))


async def load_tracks(node: Any, identifier: str) -> JsonObject:
    """``GET /v4/loadtracks?identifier=``: ``{loadType, data}``."""
    result = await request(node, "GET", "loadtracks", params={"identifier": identifier})
    if not isinstance(result, dict) or "loadType" not in result:
        raise LavalinkRequestError(
            node_name(node), "GET", "loadtracks", None, "answer is not a load result"
        )
    return result


async def lyrics(node: Any, encoded: str) -> JsonObject | None:
    """``GET /v4/lyrics?track=`` (LavaLyrics): the lyrics object, None for 204 (none found)."""
    result = await request(node, "GET", "lyrics", params={"track": encoded})
    if result is True:
        return None
    if not isinstance(result, dict):
        raise LavalinkRequestError(node_name(node), "GET", "lyrics", None, "answer is not lyrics")
    return result


async def update_session(node: Any, *, resuming: bool, timeout_s: int) -> JsonObject:
    """``PATCH /v4/sessions/{sid}`` ``{resuming, timeout}``: Lavalink's Session object."""
    sid = session_id(node)
    if sid is None:
        raise LavalinkRequestError(
            node_name(node), "PATCH", "sessions/?", None, "node has no session yet"
        )
    body = {"resuming": resuming, "timeout": int(timeout_s)}
    result = await request(node, "PATCH", f"sessions/{sid}", json=body)
    if not isinstance(result, dict):
        raise LavalinkRequestError(
            node_name(node), "PATCH", "sessions", None, "answer is not a session object"
        )
    return result


async def session_players(node: Any) -> list[JsonObject]:
    """``GET /v4/sessions/{sid}/players``: every player of the node's session."""
    sid = session_id(node)
    if sid is None:
        raise LavalinkRequestError(
            node_name(node), "GET", "sessions/?/players", None, "node has no session yet"
        )
    result = await request(node, "GET", f"sessions/{sid}/players")
    if not isinstance(result, list):
        raise LavalinkRequestError(
            node_name(node), "GET", "players", None, "answer is not a list of players"
        )
    return [p for p in result if isinstance(p, dict)]
