"""Message schemas: every type exists, round-trips, validates its payload, and bad bytes are
rejected with a reason instead of an exception."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from backbeat.domain.messages import (
    CHANNEL_TYPES,
    Channel,
    DiscordContext,
    Envelope,
    InteractionRef,
    Rejection,
    ReplyTarget,
    TrackSummary,
    decode,
    encode,
    new_message_id,
)
from backbeat.domain.messages import commands as c
from backbeat.domain.messages import to_audio as a
from backbeat.domain.messages import to_discord as d
from backbeat.domain.messages import ui as u

GUILD = 123_456_789_012_345_678
CONTEXT = DiscordContext(
    user_id=42,
    locale="en-GB",
    text_channel_id=7,
    voice_channel_id=8,
    interaction=InteractionRef(id=9, token="tok", application_id=10, created_at=1000.0),
)
TRACK = TrackSummary(
    title="Song", author="Band", identifier="dQw4", source_name="youtube", length_ms=212_000
)
TARGET = ReplyTarget(context=CONTEXT)

ISSUE_COMMANDS = {
    "play", "playnow", "playnext", "pause", "resume", "toggle", "skip", "voteskip", "previous",
    "stop", "disconnect", "seek", "volume", "loop", "shuffle", "remove", "move", "clear",
    "queue", "nowplaying", "search", "suggest", "filters", "autoplay", "autoplay-reject",
    "lyrics", "summon", "stay", "settings-changed",
}  # fmt: skip

PAYLOADS: dict[str, dict[str, Any]] = {
    "play": {"query": "never gonna"},
    "playnow": {"query": "https://youtu.be/x", "source": "ytsearch"},
    "playnext": {"query": "x"},
    "skip": {"count": 2},
    "seek": {"position_ms": 0},
    "volume": {"percent": 200},
    "loop": {"mode": "queue"},
    "remove": {"position": 1},
    "move": {"from_position": 3, "to_position": 1},
    "queue": {"page": 2},
    "search": {"query": "lofi", "limit": 5},
    "suggest": {"partial": "lo"},
    "filters": {"preset": "nightcore"},
    "autoplay": {"enabled": True, "mode": "artist"},
    "autoplay-reject": {"identifier": "abc"},
    "lyrics": {"query": "song"},
    "stay": {"enabled": False},
    "settings-changed": {"keys": ["default_volume"]},
    "VOICE_STATE_UPDATE": {
        "data": {"session_id": "s", "user_id": "1", "channel_id": "2", "guild_id": str(GUILD)}
    },
    "VOICE_SERVER_UPDATE": {"data": {"token": "t", "endpoint": "e:443", "guild_id": str(GUILD)}},
    "listener-count": {"channel_id": 8, "listeners": 3},
    "trackStart": {"track": TRACK.model_dump()},
    "trackEnd": {"track": TRACK.model_dump(), "reason": "finished"},
    "trackException": {"track": TRACK.model_dump(), "message": "gone", "severity": "common"},
    "trackStuck": {"track": TRACK.model_dump(), "threshold_ms": 10_000},
    "queueEnd": {},
    "voice-join": {"channel_id": 8},
    "voice-leave": {"reason": "idle"},
    "queue-page": {
        "target": TARGET.model_dump(),
        "page": 1,
        "pages": 1,
        "total": 1,
        "total_length_ms": 1,
        "entries": [{"position": 1, "track": TRACK.model_dump()}],
    },
    "search-results": {"target": TARGET.model_dump(), "query": "q", "tracks": [TRACK.model_dump()]},
    "suggestions": {
        "interaction_id": 9,
        "interaction_token": "tok",
        "choices": [{"name": "Song", "value": "https://x"}],
    },
    "lyrics-reply": {"target": TARGET.model_dump(), "title": "Song", "text": "la la"},
    "notice": {"target": TARGET.model_dump(), "key": "volume.set", "params": {"percent": 80}},
    "error-reply": {"target": TARGET.model_dump(), "code": "not_in_voice", "message": "Join"},
    "create": {"state_seq": 1, "state": {"track": TRACK.model_dump(), "paused": True}},
    "update": {"state_seq": 2, "state": {"track": None}},
    "error": {"state_seq": 3, "code": "unavailable", "message": "skipped", "skipped": True},
    "delete": {"state_seq": 4, "reason": "idle"},
}


def raw_message(channel: Channel, kind: str) -> dict[str, Any]:
    payload_key = "lyrics-reply" if (channel, kind) == (Channel.TO_DISCORD, "lyrics") else kind
    raw: dict[str, Any] = {
        "v": 1,
        "id": new_message_id(),
        "type": kind,
        "guild_id": GUILD,
        "ts": 1.5,
        "payload": PAYLOADS.get(payload_key, {}),
    }
    if channel is Channel.COMMANDS:
        raw |= {"context": CONTEXT.model_dump(), "source": "panel"}
    return raw


ALL_TYPES = [(channel, kind) for channel in Channel for kind in sorted(CHANNEL_TYPES[channel])]


def test_commands_channel_carries_every_command_of_the_issue() -> None:
    assert CHANNEL_TYPES[Channel.COMMANDS] == ISSUE_COMMANDS


def test_channels_carry_their_message_kinds() -> None:
    assert CHANNEL_TYPES[Channel.TO_AUDIO] == {
        "VOICE_STATE_UPDATE",
        "VOICE_SERVER_UPDATE",
        "listener-count",
        "GUILD_DELETE",
    }
    assert {"trackStart", "trackEnd", "voice-join", "voice-leave", "queue-page"} <= CHANNEL_TYPES[
        Channel.TO_DISCORD
    ]
    assert CHANNEL_TYPES[Channel.UI_NOW] == {"create", "update", "error", "delete"}


@pytest.mark.parametrize(("channel", "kind"), ALL_TYPES, ids=str)
def test_every_type_round_trips(channel: Channel, kind: str) -> None:
    raw = raw_message(channel, kind)
    message = decode(channel, json.dumps(raw).encode())
    assert isinstance(message, Envelope), message
    assert message.type == kind
    assert message.id == raw["id"]
    assert decode(channel, encode(message)) == message


@pytest.mark.parametrize(
    ("kind", "payload", "field"),
    [
        ("volume", {"percent": 201}, "percent"),
        ("volume", {"percent": -1}, "percent"),
        ("seek", {"position_ms": -1}, "position_ms"),
        ("play", {"query": ""}, "query"),
        ("play", {"query": "x" * 513}, "query"),
        ("remove", {"position": 0}, "position"),
        ("loop", {"mode": "forever"}, "mode"),
        ("filters", {"preset": "Bass Boost!"}, "preset"),
        ("search", {"query": "q", "limit": 26}, "limit"),
        ("play", {"query": "q", "extra": 1}, "extra"),
    ],
)
def test_payloads_are_validated(kind: str, payload: dict[str, Any], field: str) -> None:
    raw = raw_message(Channel.COMMANDS, kind) | {"payload": payload}
    rejection = decode(Channel.COMMANDS, json.dumps(raw))
    assert isinstance(rejection, Rejection)
    assert rejection.reason == "malformed"
    assert field in rejection.detail
    assert rejection.message_id == raw["id"]
    assert rejection.guild_id == GUILD


def test_query_of_512_characters_is_accepted() -> None:
    assert c.QueryPayload(query="x" * 512).query == "x" * 512


@pytest.mark.parametrize(
    ("data", "reason", "fragment"),
    [
        (b"\xff\xfe", "malformed", "not JSON"),
        (b"{oops", "malformed", "not JSON"),
        (b"[1, 2]", "malformed", "not a JSON object"),
        (b'{"type": "play"}', "malformed", "v:"),
        (b'{"v": "1", "type": "play"}', "malformed", "v:"),
        (b'{"v": 2, "type": "play"}', "unknown_version", "version 2"),
        (b'{"v": 1}', "malformed", "type:"),
        (b'{"v": 1, "type": "dance"}', "unknown_type", "'dance'"),
        (b'{"v": 1, "type": "trackStart"}', "unknown_type", "discord-bot:commands"),
    ],
)
def test_bad_bytes_become_rejections(data: bytes, reason: str, fragment: str) -> None:
    rejection = decode(Channel.COMMANDS, data)
    assert isinstance(rejection, Rejection)
    assert rejection.reason == reason
    assert fragment in rejection.detail


def test_guild_id_must_be_a_snowflake() -> None:
    raw = raw_message(Channel.COMMANDS, "pause") | {"guild_id": 0}
    rejection = decode(Channel.COMMANDS, json.dumps(raw))
    assert isinstance(rejection, Rejection)
    assert "guild_id" in rejection.detail


def test_voice_events_need_the_fields_lavalink_uses() -> None:
    with pytest.raises(ValidationError, match="session_id"):
        a.VoiceStatePayload(data={"user_id": "1", "channel_id": None})
    with pytest.raises(ValidationError, match="endpoint"):
        a.VoiceServerPayload(data={"token": "t"})


def test_message_ids_are_unique_and_sort_by_creation() -> None:
    ids = [new_message_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert [i[:12] for i in ids] == sorted(i[:12] for i in ids)


def test_interaction_token_is_fresh_for_fifteen_minutes() -> None:
    ref = CONTEXT.interaction
    assert ref is not None
    assert ref.is_fresh(1000.0 + 899)
    assert not ref.is_fresh(1000.0 + 900)
    assert "tok" not in repr(ref)


def test_replies_are_correlated_with_their_request() -> None:
    command = c.QueueView(guild_id=GUILD, context=CONTEXT)
    reply = d.Notice(
        **command.reply_fields(),  # type: ignore[arg-type]
        payload=d.NoticePayload(target=TARGET, key="queue.empty"),
    )
    assert reply.correlation_id == command.id
    assert reply.guild_id == GUILD
    follow_up = d.Notice(
        **reply.reply_fields(),  # type: ignore[arg-type]
        payload=d.NoticePayload(target=TARGET, key="x"),
    )
    assert follow_up.correlation_id == command.id


def test_defaults_make_simple_commands_short() -> None:
    pause = c.Pause(guild_id=GUILD, context=DiscordContext(user_id=1))
    assert pause.source == "discord"
    assert pause.v == 1
    ui = u.UiDelete(guild_id=GUILD, payload=u.DeletePayload(state_seq=1))
    assert ui.payload.reason == "stopped"


def test_seek_has_an_absolute_and_a_relative_form() -> None:
    assert c.SeekPayload(position_ms=5_000).offset_ms is None
    assert c.SeekPayload(offset_ms=-10_000).position_ms is None
    for both_or_none in ({}, {"position_ms": 1, "offset_ms": 1}):
        with pytest.raises(ValidationError, match="exactly one"):
            c.SeekPayload(**both_or_none)


def test_error_reply_carries_params_for_the_users_locale() -> None:
    reply = d.ErrorReply(
        guild_id=GUILD,
        payload=d.ErrorReplyPayload(
            target=TARGET, code="queue_full", message="full", params={"limit": 10}
        ),
    )
    decoded = decode(Channel.TO_DISCORD, encode(reply))
    assert isinstance(decoded, d.ErrorReply)
    assert decoded.payload.params == {"limit": 10}
