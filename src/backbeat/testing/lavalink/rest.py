"""Lavalink's REST API (``/version`` and ``/v4/...``) over a :class:`LavalinkNode`.

Rules follow LavalinkServer's handlers: ``PlayerRestHandler`` for the PATCH semantics
(checks in the same order, same 400 messages), ``AudioLoaderRestHandler`` for loading and
decoding, ``SessionRestHandler``, ``RoutePlannerRestHandler``, plus the LavaSearch and
LavaLyrics plugin routes.
"""

from __future__ import annotations

import ipaddress
import json
import time
from typing import Any

from aiohttp import web

from backbeat.testing.lavalink.codec import TrackDecodeError, TrackInfo, decode_track, track_json
from backbeat.testing.lavalink.failures import LoadFailure
from backbeat.testing.lavalink.node import LavalinkNode
from backbeat.testing.lavalink.player import Player, VoiceState
from backbeat.testing.lavalink.responses import ApiError, json_response, no_content
from backbeat.testing.lavalink.sessions import Session

_MISSING: Any = object()
_SEARCH_TYPES = {"track", "album", "artist", "playlist", "text"}


def _bad_body() -> ApiError:
    return ApiError(400, "Failed to read request")


def _required_param(request: web.Request, name: str) -> str:
    value = request.query.get(name)
    if value is None:
        raise ApiError(
            400,
            f"Required request parameter '{name}' for method parameter type String is not present",
        )
    return value


def _guild_id(request: web.Request) -> int:
    raw = request.match_info["guild_id"]
    try:
        return int(raw)
    except ValueError:
        raise ApiError(
            400,
            f"Failed to convert value of type 'java.lang.String' to required type 'long'; "
            f'For input string: "{raw}"',
        ) from None


def _decode(encoded: str) -> TrackInfo:
    try:
        return decode_track(encoded)
    except TrackDecodeError as exc:
        raise ApiError(500, str(exc) or "Failed to decode track") from None


def load_failed_body(failure: LoadFailure) -> dict[str, Any]:
    """A loadtracks ``error`` result for an injected failure."""
    return {"loadType": "error", "data": failure.to_json()}


class RestApi:
    """Route handlers bound to one node."""

    def __init__(self, node: LavalinkNode) -> None:
        self.node = node

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/version", self.version),
            web.get("/v4/info", self.info),
            web.get("/v4/stats", self.stats),
            web.get("/v4/loadtracks", self.load_tracks),
            web.get("/v4/decodetrack", self.decode_track),
            web.post("/v4/decodetracks", self.decode_tracks),
            web.patch("/v4/sessions/{session_id}", self.patch_session),
            web.get("/v4/sessions/{session_id}/players", self.get_players),
            web.get("/v4/sessions/{session_id}/players/{guild_id}", self.get_player),
            web.patch("/v4/sessions/{session_id}/players/{guild_id}", self.patch_player),
            web.delete("/v4/sessions/{session_id}/players/{guild_id}", self.delete_player),
            web.get("/v4/routeplanner/status", self.route_planner_status),
            web.post("/v4/routeplanner/free/address", self.free_address),
            web.post("/v4/routeplanner/free/all", self.free_all),
            web.get("/v4/loadsearch", self.load_search),
            web.get("/v4/lyrics", self.lyrics),
            web.get(
                "/v4/sessions/{session_id}/players/{guild_id}/track/lyrics", self.player_lyrics
            ),
            web.post("/v4/sessions/{session_id}/players/{guild_id}/lyrics/subscribe", self.sub),
            web.delete("/v4/sessions/{session_id}/players/{guild_id}/lyrics/subscribe", self.unsub),
        ]

    # ----- helpers -------------------------------------------------------------------

    def _session(self, request: web.Request) -> Session:
        session = self.node.sessions.get(request.match_info["session_id"])
        if session is None or session.paused:
            raise ApiError(404, "Session not found")
        return session

    def _player(self, request: web.Request, session: Session) -> Player:
        player = session.players.get(_guild_id(request))
        if player is None:
            raise ApiError(404, "Player not found")
        return player

    @staticmethod
    async def _json(request: web.Request) -> Any:
        try:
            return json.loads(await request.read() or b"null")
        except (ValueError, UnicodeDecodeError):
            raise _bad_body() from None

    def load(self, identifier: str) -> dict[str, Any]:
        """The loadtracks result for an identifier, with injected load failures applied."""
        failure = self.node.faults.take_load_fault("load", identifier)
        if failure is not None:
            return load_failed_body(failure)
        result = self.node.catalog.load(identifier)
        if result.get("loadType") == "track":
            info = result["data"]["info"]
            failure = self.node.faults.take_load_fault(
                "load", info.get("identifier"), info.get("uri")
            )
            if failure is not None:
                return load_failed_body(failure)
        return result

    # ----- info ----------------------------------------------------------------------

    async def version(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self.node.config.version.encode(),
            headers={"Content-Type": "text/plain;charset=UTF-8"},
        )

    async def info(self, request: web.Request) -> web.Response:
        return json_response(self.node.info())

    async def stats(self, request: web.Request) -> web.Response:
        return json_response(self.node.stats())

    # ----- tracks --------------------------------------------------------------------

    async def load_tracks(self, request: web.Request) -> web.Response:
        return json_response(self.load(_required_param(request, "identifier")))

    async def decode_track(self, request: web.Request) -> web.Response:
        encoded = request.query.get("encodedTrack") or request.query.get("track")
        if encoded is None:
            raise ApiError(400, "No track to decode provided")
        return json_response(track_json(_decode(encoded)))

    async def decode_tracks(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        if not isinstance(body, list) or not all(isinstance(item, str) for item in body):
            raise _bad_body()
        if not body:
            raise ApiError(400, "No tracks to decode provided")
        return json_response([track_json(_decode(item)) for item in body])

    # ----- sessions and players ------------------------------------------------------

    async def patch_session(self, request: web.Request) -> web.Response:
        session = self._session(request)
        body = await self._json(request)
        if not isinstance(body, dict):
            raise _bad_body()
        resuming = body.get("resuming", _MISSING)
        timeout = body.get("timeout", _MISSING)
        if resuming is not _MISSING and not isinstance(resuming, bool):
            raise _bad_body()
        if timeout is not _MISSING and (not isinstance(timeout, int) or isinstance(timeout, bool)):
            raise _bad_body()
        if resuming is not _MISSING:
            session.resumable = resuming
        if timeout is not _MISSING:
            session.timeout_seconds = timeout
        return json_response({"resuming": session.resumable, "timeout": session.timeout_seconds})

    async def get_players(self, request: web.Request) -> web.Response:
        session = self._session(request)
        now = self.node.now()
        return json_response([p.to_json(now) for p in session.players.values()])

    async def get_player(self, request: web.Request) -> web.Response:
        session = self._session(request)
        return json_response(self._player(request, session).to_json(self.node.now()))

    async def delete_player(self, request: web.Request) -> web.Response:
        session = self._session(request)
        session.destroy_player(_guild_id(request), self.node.now())
        await session.flush()
        return no_content()

    async def patch_player(self, request: web.Request) -> web.Response:
        session = self._session(request)
        guild_id = _guild_id(request)
        body = await self._json(request)
        if not isinstance(body, dict):
            raise _bad_body()
        no_replace = request.query.get("noReplace", "false").lower() == "true"
        update = _PlayerUpdate.parse(body, self.node.config.disabled_filters)
        node = self.node
        player = session.player(guild_id, lambda gid: node.make_player(session, gid))
        try:
            await self._apply(session, player, update, no_replace)
        finally:
            await session.flush()
        return json_response(player.to_json(node.now()))

    async def _apply(
        self, session: Session, player: Player, update: _PlayerUpdate, no_replace: bool
    ) -> None:
        node = self.node
        if update.voice is not None and (update.voice != player.voice or not player.connected):
            accepted = await node.verifier.verify(player.guild_id, session.user_id, update.voice)
            player.connect_voice(update.voice, accepted, node.now())
        new_track = update.encoded is not _MISSING or update.identifier is not _MISSING
        if not new_track:
            if update.paused is not _MISSING:
                player.set_paused(update.paused, node.now())
            if update.user_data is not _MISSING:
                player.set_user_data(update.user_data)
        if update.volume is not _MISSING:
            player.set_volume(update.volume)
        if not new_track:
            if update.position is not _MISSING and player.track is not None:
                player.seek(update.position, node.now())
            if update.end_time is not _MISSING:
                player.set_end_time(update.end_time)
        if update.filters is not _MISSING:
            player.set_filters(update.filters, node.now())
        if not new_track:
            return
        if no_replace and player.track is not None:
            return
        player.set_paused(update.paused if update.paused is not _MISSING else False, node.now())
        if update.encoded is not _MISSING:
            if update.encoded is None:
                player.stop(node.now())
                return
            info = _decode(update.encoded)
        else:
            info = self._resolve(update.identifier)
        node.start_track(
            session,
            player,
            info,
            start_position=None if update.position is _MISSING else update.position,
            user_data=None if update.user_data is _MISSING else update.user_data,
            end_time=None if update.end_time is _MISSING else update.end_time,
        )

    def _resolve(self, identifier: str) -> TrackInfo:
        result = self.load(identifier)
        load_type = result.get("loadType")
        if load_type == "error":
            raise ApiError(400, str(result["data"].get("message") or "Failed to load track"))
        if load_type == "empty":
            raise ApiError(400, "No matches found for identifier")
        if load_type != "track":
            raise ApiError(400, "Cannot play a playlist or search result")
        return _decode(result["data"]["encoded"])

    # ----- route planner -------------------------------------------------------------

    async def route_planner_status(self, request: web.Request) -> web.Response:
        if not self.node.config.route_planner:
            return no_content()
        failing = [
            {
                "failingAddress": f"/{address}",
                "failingTimestamp": stamp,
                "failingTime": _java_date(stamp),
            }
            for address, stamp in self.node.failing_addresses.items()
        ]
        return json_response(
            {
                "class": "RotatingNanoIpRoutePlanner",
                "details": {
                    "ipBlock": {"type": "Inet6Address", "size": "18446744073709551616"},
                    "failingAddresses": failing,
                    "blockIndex": "0",
                    "currentAddressIndex": "0",
                },
            }
        )

    async def free_address(self, request: web.Request) -> web.Response:
        if not self.node.config.route_planner:
            raise ApiError(500, "Can't access disabled route planner")
        body = await self._json(request)
        if not isinstance(body, dict) or not isinstance(body.get("address"), str):
            raise _bad_body()
        address = body["address"]
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise ApiError(400, f"Invalid address: {address}: Name or service not known") from None
        self.node.failing_addresses.pop(address, None)
        return no_content()

    async def free_all(self, request: web.Request) -> web.Response:
        if not self.node.config.route_planner:
            raise ApiError(500, "Can't access disabled route planner")
        self.node.failing_addresses.clear()
        return no_content()

    # ----- plugins -------------------------------------------------------------------

    async def load_search(self, request: web.Request) -> web.Response:
        query = _required_param(request, "query")
        raw_types = request.query.get("types", "")
        types = {t.strip().lower() for t in raw_types.split(",") if t.strip()}
        unknown = types - _SEARCH_TYPES
        if unknown:
            raise ApiError(400, f"Unknown type: {sorted(unknown)[0]}")
        result = self.node.catalog.load_search(query, types or set(_SEARCH_TYPES))
        return no_content() if result is None else json_response(result)

    async def lyrics(self, request: web.Request) -> web.Response:
        info = _decode(_required_param(request, "track"))
        found = self.node.catalog.lyrics_for(info)
        return no_content() if found is None else json_response(found)

    async def player_lyrics(self, request: web.Request) -> web.Response:
        session = self._session(request)
        player = self._player(request, session)
        if player.track is None:
            raise ApiError(404, "Not currently playing anything")
        found = self.node.catalog.lyrics_for(player.track.info)
        return no_content() if found is None else json_response(found)

    async def sub(self, request: web.Request) -> web.Response:
        session = self._session(request)
        self._player(request, session)
        session.lyrics_subscribed.add(_guild_id(request))
        return no_content()

    async def unsub(self, request: web.Request) -> web.Response:
        session = self._session(request)
        session.lyrics_subscribed.discard(_guild_id(request))
        return no_content()


def _java_date(epoch_ms: int) -> str:
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(epoch_ms / 1000))


class _PlayerUpdate:
    """A validated PATCH body; absent fields are ``_MISSING`` (Lavalink's Omissible)."""

    def __init__(self) -> None:
        self.encoded: Any = _MISSING
        self.identifier: Any = _MISSING
        self.user_data: Any = _MISSING
        self.position: Any = _MISSING
        self.end_time: Any = _MISSING
        self.volume: Any = _MISSING
        self.paused: Any = _MISSING
        self.filters: Any = _MISSING
        self.voice: VoiceState | None = None

    @classmethod
    def parse(cls, body: dict[str, Any], disabled_filters: frozenset[str]) -> _PlayerUpdate:
        update = cls()
        track = body.get("track", _MISSING)
        legacy = "encodedTrack" in body or "identifier" in body
        if track is not _MISSING and legacy:
            raise ApiError(400, "Cannot specify both track and encodedTrack/identifier")
        if track is not _MISSING:
            if not isinstance(track, dict):
                raise _bad_body()
            update.encoded = track.get("encoded", _MISSING)
            update.identifier = track.get("identifier", _MISSING)
            update.user_data = track.get("userData", _MISSING)
        else:
            update.encoded = body.get("encodedTrack", _MISSING)
            update.identifier = body.get("identifier", _MISSING)
        _check(update.encoded is _MISSING or update.encoded is None or _is_str(update.encoded))
        _check(update.identifier is _MISSING or _is_str(update.identifier))
        _check(update.user_data is _MISSING or isinstance(update.user_data, dict))
        if update.encoded is not _MISSING and update.identifier is not _MISSING:
            raise ApiError(400, "Cannot specify both encodedTrack and identifier")
        update.position = body.get("position", _MISSING)
        _check(update.position is _MISSING or _is_int(update.position))
        update.end_time = body.get("endTime", _MISSING)
        _check(update.end_time is _MISSING or update.end_time is None or _is_int(update.end_time))
        update.volume = body.get("volume", _MISSING)
        _check(update.volume is _MISSING or _is_int(update.volume))
        update.paused = body.get("paused", _MISSING)
        _check(update.paused is _MISSING or isinstance(update.paused, bool))
        update.filters = body.get("filters", _MISSING)
        if update.filters is not _MISSING:
            _check(isinstance(update.filters, dict))
            disabled = [name for name in update.filters if name in disabled_filters]
            if disabled:
                raise ApiError(
                    400, f"Following filters are disabled in the config: {', '.join(disabled)}"
                )
        voice = body.get("voice", _MISSING)
        if voice is not _MISSING:
            _check(isinstance(voice, dict))
            values = [voice.get(k) for k in ("token", "endpoint", "sessionId", "channelId")]
            if any(not _is_str(v) or not v.strip() for v in values):
                raise ApiError(
                    400, "token, endpoint, sessionId and channelId must be provided in voice state"
                )
            update.voice = VoiceState(*values)
        if update.end_time not in (_MISSING, None) and update.end_time <= 0:
            raise ApiError(400, "End time must be greater than 0")
        return update


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check(condition: bool) -> None:
    if not condition:
        raise _bad_body()
