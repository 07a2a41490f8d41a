"""The v10 JSON gateway over an aiohttp WebSocket.

One :class:`GatewaySession` per identified shard keeps its sequence numbers and a replay
buffer, so a client that RESUMEs gets every dispatch it missed. Each connection has one writer
task draining an ordered queue, so dispatches leave in sequence order and a ``zlib-stream``
compressor (one per connection, ``Z_SYNC_FLUSH`` per message) is never shared across tasks.

Handshake: HELLO → (heartbeats, ACK) → IDENTIFY → READY + GUILD_CREATE per guild of the shard
(``(guild_id >> 22) % shard_count``), or RESUME → replay → RESUMED. Close codes follow
discord-api-docs (4001 unknown opcode, 4002 decode error, 4003 not authenticated, 4004
authentication failed, 4005 already authenticated, 4007 invalid seq, 4008 rate limited,
4010 invalid shard, 4012 invalid API version, 4013 invalid intents, 4014 disallowed intents).

Zombie connections: a connection that sends no heartbeat for ``heartbeat_interval`` plus
``GatewayOptions.heartbeat_grace`` is closed with 4009 "Session timed out" and its session
is kept, so the client RESUMEs. discord-api-docs, developers/events/gateway.mdx, "Sending
Heartbeats": "If your app fails to send a heartbeat event in time, your connection will be
closed and you will be forced to Resume"; the close code is the one the "Gateway Close Event
Codes" table (developers/topics/opcodes-and-status-codes.mdx) gives for a timed-out session,
4009.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from backbeat.observability.logging import get_logger
from backbeat.testing.discord.snowflakes import shard_of
from backbeat.testing.discord.world import JSON, World, WorldError

log = get_logger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE_UPDATE, VOICE_STATE_UPDATE = 0, 1, 2, 3, 4
RESUME, RECONNECT, REQUEST_GUILD_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11
# Close code for a connection whose heartbeats stopped: "4009 Session timed out" in
# discord-api-docs' Gateway Close Event Codes; "Sending Heartbeats" says such a client is
# "forced to Resume", so the session is kept for a RESUME (discord.py resumes on 4009).
SESSION_TIMED_OUT = 4009

GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_VOICE_STATES = 1 << 7
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT
VALID_INTENTS = (1 << 26) - 1

EVENT_INTENTS: dict[str, int] = {
    "GUILD_MEMBER_ADD": GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": GUILD_MEMBERS,
    "VOICE_STATE_UPDATE": GUILD_VOICE_STATES,
    "MESSAGE_CREATE": GUILD_MESSAGES,
    "MESSAGE_UPDATE": GUILD_MESSAGES,
    "MESSAGE_DELETE": GUILD_MESSAGES,
    "CHANNEL_CREATE": GUILDS,
    "GUILD_ROLE_CREATE": GUILDS,
    "GUILD_ROLE_UPDATE": GUILDS,
}
CONTENT_FIELDS = ("content", "embeds", "components", "attachments")

VoiceStateHandler = Callable[["GatewaySession", JSON], Awaitable[None]]


@dataclass
class GatewayOptions:
    """Tunable gateway behaviour (defaults follow Discord except the identify interval)."""

    heartbeat_interval_ms: int = 41_250
    send_limit: int = 120
    send_window: float = 60.0
    max_concurrency: int = 1
    identify_interval: float = 0.0
    """Seconds between IDENTIFYs of one concurrency bucket (Discord: 5). 0 = no limit."""
    replay_buffer: int = 2_000
    allowed_privileged_intents: int = PRIVILEGED_INTENTS
    heartbeat_ack_delay: float = 0.005
    """Seconds before a heartbeat is acknowledged (op 11), as a network round trip always
    adds. discord.py 2.7.1's keep-alive thread records a heartbeat's send time only after the
    send completed; an instant ACK can be handled before that, and ``latency`` then reads a
    whole heartbeat interval. 0: acknowledge at once."""
    heartbeat_grace: float | None = 5.0
    """Seconds past ``heartbeat_interval_ms`` a connection may go without a heartbeat before
    it is closed with 4009 (Discord documents no figure, only that the interval already holds
    some tolerance). ``None``: never close."""


class _Close:
    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


class Connection:
    """One WebSocket: an ordered outbound queue drained by a single writer task."""

    def __init__(self, ws: web.WebSocketResponse, compress: bool) -> None:
        self.ws = ws
        self._compressor = zlib.compressobj() if compress else None
        self._queue: asyncio.Queue[str | _Close] = asyncio.Queue()
        self.session: GatewaySession | None = None
        self.received: deque[float] = deque()
        self.last_heartbeat = time.monotonic()
        """When the last heartbeat arrived (the connection's opening before the first one)."""
        self.closed = False
        self._writer = asyncio.create_task(self._write())

    def send(self, text: str) -> None:
        if not self.closed:
            self._queue.put_nowait(text)

    def send_json(self, payload: JSON) -> None:
        self.send(json.dumps(payload, separators=(",", ":")))

    def close(self, code: int, reason: str = "") -> None:
        """Close after everything queued before has been sent."""
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(_Close(code, reason))

    async def _write(self) -> None:
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, _Close):
                    await self.ws.close(code=item.code, message=item.reason.encode())
                    return
                if self._compressor is not None:
                    data = self._compressor.compress(item.encode()) + self._compressor.flush(
                        zlib.Z_SYNC_FLUSH
                    )
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(item)
        except (ConnectionError, RuntimeError) as exc:
            log.debug("gateway connection writer stopped", error=str(exc))
        finally:
            self.closed = True

    async def finish(self) -> None:
        self.closed = True
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer


@dataclass
class GatewaySession:
    """An identified shard: its sequence, its replay buffer and its current connection."""

    session_id: str
    shard_id: int
    shard_count: int
    intents: int
    token: str
    buffer_size: int
    seq: int = 0
    connection: Connection | None = None
    invalidated: bool = False
    resumes: int = 0
    buffer: deque[tuple[int, str]] = field(default_factory=deque)

    def owns(self, guild_id: int | None) -> bool:
        if guild_id is None:
            return self.shard_id == 0
        return shard_of(guild_id, self.shard_count) == self.shard_id

    def dispatch(self, event: str, data: Any) -> int:
        """Number, record and (when connected) send one dispatch; returns its sequence."""
        self.seq += 1
        text = json.dumps(
            {"op": DISPATCH, "t": event, "s": self.seq, "d": data}, separators=(",", ":")
        )
        self.buffer.append((self.seq, text))
        while len(self.buffer) > self.buffer_size:
            self.buffer.popleft()
        if self.connection is not None:
            self.connection.send(text)
        return self.seq

    def to_json(self) -> JSON:
        return {
            "session_id": self.session_id,
            "shard": [self.shard_id, self.shard_count],
            "intents": self.intents,
            "seq": self.seq,
            "connected": self.connection is not None and not self.connection.closed,
            "resumes": self.resumes,
        }


class GatewayServer:
    """Serves gateway connections and routes dispatches to the owning shard's session."""

    def __init__(self, world: World, token: str, options: GatewayOptions | None = None) -> None:
        self.world = world
        self.token = token
        self.options = options or GatewayOptions()
        self.url = "ws://127.0.0.1/"
        self.on_voice_state: VoiceStateHandler | None = None
        self._sessions: dict[str, GatewaySession] = {}
        self._current: dict[tuple[int, int], GatewaySession] = {}
        self._connections: set[Connection] = set()
        self._no_ack_shards: set[int] = set()
        self._no_ack_all = False
        self._last_identify: dict[int, float] = {}
        self.identify_count = 0
        self.identify_refused = 0
        self.heartbeat_timeouts = 0
        """Connections closed with 4009 because their heartbeats stopped."""

    # ----- routing --------------------------------------------------------------------------
    def sessions(self) -> list[GatewaySession]:
        """The current session of every shard."""
        return [s for s in self._current.values() if not s.invalidated]

    def dispatch(self, event: str, data: JSON, *, guild_id: int | None = None) -> int:
        """Send a dispatch to the sessions that own ``guild_id`` and want it; returns how many."""
        needed = EVENT_INTENTS.get(event, 0)
        sent = 0
        for session in self.sessions():
            if not session.owns(guild_id) or (needed and not session.intents & needed):
                continue
            session.dispatch(event, self._filter_content(session, event, data))
            sent += 1
        return sent

    def _filter_content(self, session: GatewaySession, event: str, data: JSON) -> JSON:
        """Without MESSAGE_CONTENT, others' messages arrive without content (as on Discord)."""
        if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE") or session.intents & MESSAGE_CONTENT:
            return data
        author = data.get("author") or {}
        if str(author.get("id")) == str(self.world.bot.id):
            return data
        stripped = dict(data)
        for key in CONTENT_FIELDS:
            if key in stripped:
                stripped[key] = "" if key == "content" else []
        return stripped

    def session_for_shard(self, shard_id: int) -> list[GatewaySession]:
        return [s for s in self.sessions() if s.shard_id == shard_id]

    def _targets(self, shard_id: int | None) -> list[GatewaySession]:
        return self.sessions() if shard_id is None else self.session_for_shard(shard_id)

    # ----- faults ---------------------------------------------------------------------------
    def send_reconnect(self, shard_id: int | None = None) -> int:
        """op 7 to the shard's connection (the client then resumes)."""
        targets = [s for s in self._targets(shard_id) if s.connection is not None]
        for session in targets:
            assert session.connection is not None
            session.connection.send_json({"op": RECONNECT, "d": None})
        return len(targets)

    def send_invalid_session(self, shard_id: int | None = None, *, resumable: bool) -> int:
        """op 9; with ``resumable=False`` the session is gone and the client must IDENTIFY."""
        targets = self._targets(shard_id)
        for session in targets:
            if not resumable:
                session.invalidated = True
            if session.connection is not None:
                session.connection.send_json({"op": INVALID_SESSION, "d": resumable})
        self.world.touch()
        return len(targets)

    def set_heartbeat_acks(self, shard_id: int | None, *, enabled: bool) -> None:
        """Stop (or resume) answering heartbeats on a shard (``None``: every shard)."""
        if shard_id is None:
            self._no_ack_all = not enabled
            if enabled:
                self._no_ack_shards.clear()
        elif enabled:
            self._no_ack_shards.discard(shard_id)
        else:
            self._no_ack_shards.add(shard_id)

    def close_shard(self, shard_id: int | None, code: int) -> int:
        """Close the shard's connection with a close code."""
        targets = [s for s in self._targets(shard_id) if s.connection is not None]
        for session in targets:
            assert session.connection is not None
            session.connection.close(code, "closed by the emulator")
        return len(targets)

    async def close_all(self) -> None:
        for connection in list(self._connections):
            connection.close(1001, "emulator shutting down")
        await asyncio.sleep(0)
        for connection in list(self._connections):
            await connection.finish()

    # ----- connection handling ----------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=4 * 1024 * 1024)
        await ws.prepare(request)
        compress = request.query.get("compress") == "zlib-stream"
        connection = Connection(ws, compress)
        self._connections.add(connection)
        watchdog: asyncio.Task[None] | None = None
        try:
            if request.query.get("v", "10") != "10":
                connection.close(4012, "Invalid API version")
            elif request.query.get("encoding", "json") != "json":
                connection.close(4002, "Only the json encoding is emulated")
            else:
                connection.send_json(
                    {"op": HELLO, "d": {"heartbeat_interval": self.options.heartbeat_interval_ms}}
                )
                watchdog = asyncio.create_task(self._watch_heartbeats(connection))
            async for message in ws:
                if connection.closed:
                    break
                if message.type is WSMsgType.TEXT:
                    await self._receive(connection, message.data)
                elif message.type is WSMsgType.BINARY:
                    connection.close(4002, "Decode error")
                elif message.type is WSMsgType.ERROR:
                    break
        finally:
            if watchdog is not None:
                watchdog.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watchdog
            if connection.session is not None and connection.session.connection is connection:
                connection.session.connection = None
                self.world.touch()
            await self._drain(connection)
            self._connections.discard(connection)
        return ws

    async def _watch_heartbeats(self, connection: Connection) -> None:
        """Close a connection whose heartbeats stopped (4009); its session stays resumable."""
        grace = self.options.heartbeat_grace
        if grace is None:
            return
        allowed = self.options.heartbeat_interval_ms / 1000 + grace
        while not connection.closed:
            remaining = connection.last_heartbeat + allowed - time.monotonic()
            if remaining > 0:
                await asyncio.sleep(remaining)
                continue
            session = connection.session
            log.info(
                "gateway connection closed: no heartbeat in time",
                shard_id=session.shard_id if session else None,
                allowed_seconds=allowed,
            )
            self.heartbeat_timeouts += 1
            connection.close(SESSION_TIMED_OUT, "Session timed out.")
            self.world.touch()
            return

    async def _drain(self, connection: Connection) -> None:
        """Let the writer flush a pending close, then stop it."""
        if not connection.ws.closed:
            connection.close(1000, "")
            for _ in range(50):
                if connection.ws.closed:
                    break
                await asyncio.sleep(0.01)
        await connection.finish()

    def _over_send_limit(self, connection: Connection) -> bool:
        now = time.monotonic()
        window = connection.received
        window.append(now)
        while window and now - window[0] > self.options.send_window:
            window.popleft()
        return len(window) > self.options.send_limit

    async def _receive(self, connection: Connection, text: str) -> None:
        if self._over_send_limit(connection):
            connection.close(4008, "Rate limited.")
            return
        try:
            payload = json.loads(text)
            op = payload["op"]
            data = payload.get("d")
        except (ValueError, KeyError, TypeError):
            connection.close(4002, "Error while decoding payload.")
            return
        if op == HEARTBEAT:
            connection.last_heartbeat = time.monotonic()
            shard = connection.session.shard_id if connection.session else -1
            if not self._no_ack_all and shard not in self._no_ack_shards:
                delay = self.options.heartbeat_ack_delay
                if delay > 0:
                    asyncio.get_running_loop().call_later(
                        delay, connection.send_json, {"op": HEARTBEAT_ACK}
                    )
                else:
                    connection.send_json({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            self._identify(connection, data)
        elif op == RESUME:
            self._resume(connection, data)
        elif op in (PRESENCE_UPDATE, VOICE_STATE_UPDATE, REQUEST_GUILD_MEMBERS):
            if connection.session is None:
                connection.close(4003, "Not authenticated.")
            elif op == VOICE_STATE_UPDATE:
                await self._voice_state(connection.session, data)
            elif op == REQUEST_GUILD_MEMBERS:
                self._request_members(connection.session, data)
        else:
            connection.close(4001, "Unknown opcode.")

    def _identify(self, connection: Connection, data: Any) -> None:
        if connection.session is not None:
            connection.close(4005, "Already authenticated.")
            return
        if not isinstance(data, dict) or data.get("token") != self.token:
            connection.close(4004, "Authentication failed.")
            return
        shard = data.get("shard") or [0, 1]
        try:
            shard_id, shard_count = int(shard[0]), int(shard[1])
            intents = int(data.get("intents", 0))
        except (TypeError, ValueError, IndexError):
            connection.close(4002, "Error while decoding payload.")
            return
        if shard_count < 1 or not 0 <= shard_id < shard_count:
            connection.close(4010, "Invalid shard.")
            return
        if intents & ~VALID_INTENTS:
            connection.close(4013, "Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.options.allowed_privileged_intents:
            connection.close(4014, "Disallowed intent(s).")
            return
        if not self._may_identify(shard_id):
            self.identify_refused += 1
            connection.send_json({"op": INVALID_SESSION, "d": False})
            return
        self.identify_count += 1
        session = GatewaySession(
            session_id=secrets.token_hex(16),
            shard_id=shard_id,
            shard_count=shard_count,
            intents=intents,
            token=self.token,
            buffer_size=self.options.replay_buffer,
        )
        old = self._current.get((shard_id, shard_count))
        if old is not None:
            old.invalidated = True
        self._sessions[session.session_id] = session
        self._current[(shard_id, shard_count)] = session
        session.connection = connection
        connection.session = session
        guilds = [g for g in self.world.guilds.values() if session.owns(g.id)]
        session.dispatch("READY", self._ready_payload(session, [g.id for g in guilds]))
        for guild in guilds:
            session.dispatch("GUILD_CREATE", self.world.guild_json(guild, full=True))
        log.debug("gateway shard identified", shard_id=shard_id, shard_count=shard_count)
        self.world.touch()

    def _may_identify(self, shard_id: int) -> bool:
        interval = self.options.identify_interval
        if interval <= 0:
            return True
        bucket = shard_id % max(1, self.options.max_concurrency)
        now = time.monotonic()
        last = self._last_identify.get(bucket)
        if last is not None and now - last < interval:
            return False
        self._last_identify[bucket] = now
        return True

    def _ready_payload(self, session: GatewaySession, guild_ids: list[int]) -> JSON:
        user = self.world.bot.to_json()
        user.update(verified=True, mfa_enabled=False, flags=0, email=None)
        return {
            "v": 10,
            "user": user,
            "guilds": [{"id": str(gid), "unavailable": True} for gid in guild_ids],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.url,
            "shard": [session.shard_id, session.shard_count],
            "application": {"id": str(self.world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "user_settings": {},
            "auth": {},
        }

    def _resume(self, connection: Connection, data: Any) -> None:
        if connection.session is not None:
            connection.close(4005, "Already authenticated.")
            return
        if not isinstance(data, dict):
            connection.close(4002, "Error while decoding payload.")
            return
        if data.get("token") != self.token:
            connection.close(4004, "Authentication failed.")
            return
        session = self._sessions.get(str(data.get("session_id")))
        seq = data.get("seq") or 0
        if session is None or session.invalidated:
            connection.send_json({"op": INVALID_SESSION, "d": False})
            return
        if not isinstance(seq, int) or seq > session.seq:
            connection.close(4007, "Invalid seq.")
            return
        oldest = session.buffer[0][0] if session.buffer else session.seq + 1
        if seq + 1 < oldest:
            connection.send_json({"op": INVALID_SESSION, "d": False})
            return
        if session.connection is not None and session.connection is not connection:
            session.connection.close(4000, "Session resumed elsewhere.")
        session.connection = connection
        connection.session = session
        session.resumes += 1
        for number, text in session.buffer:
            if number > seq:
                connection.send(text)
        session.dispatch("RESUMED", {"_trace": ["backbeat-discord-emulator"]})
        log.debug(
            "gateway shard resumed", shard_id=session.shard_id, replayed=session.seq - seq - 1
        )
        self.world.touch()

    async def _voice_state(self, session: GatewaySession, data: Any) -> None:
        if not isinstance(data, dict) or "guild_id" not in data:
            log.info("gateway op 4 without a guild id ignored")
            return
        if self.on_voice_state is not None:
            await self.on_voice_state(session, data)

    def _request_members(self, session: GatewaySession, data: Any) -> None:
        try:
            guild = self.world.guild(int(data["guild_id"]))
        except (KeyError, TypeError, ValueError, WorldError) as exc:
            log.info("gateway op 8 for an unknown guild ignored", error=str(exc))
            return
        wanted = data.get("user_ids")
        query = str(data.get("query") or "")
        members = [
            self.world.member_json(guild, m)
            for uid, m in guild.members.items()
            if (not wanted or uid in {int(u) for u in wanted})
            and self.world.user(uid).username.startswith(query)
        ]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        payload: JSON = {
            "guild_id": str(guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            payload["nonce"] = data["nonce"]
        session.dispatch("GUILD_MEMBERS_CHUNK", payload)
