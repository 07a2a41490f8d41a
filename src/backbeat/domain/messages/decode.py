"""Bytes to messages and back, per channel, without ever raising on bad input.

:func:`decode` returns either a message or a :class:`Rejection` whose ``reason`` is one of
``malformed`` (not JSON, not an object, or invalid fields), ``unknown_version`` or
``unknown_type``; the bus counts and dead-letters rejections.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, get_args

from pydantic import TypeAdapter, ValidationError

from backbeat.domain.messages.commands import Command
from backbeat.domain.messages.envelope import SUPPORTED_VERSIONS, Channel, Envelope
from backbeat.domain.messages.to_audio import ToAudio
from backbeat.domain.messages.to_discord import ToDiscord
from backbeat.domain.messages.ui import UiMessage

RejectReason: TypeAlias = Literal["malformed", "unknown_version", "unknown_type"]

_UNIONS: dict[Channel, Any] = {
    Channel.COMMANDS: Command,
    Channel.TO_AUDIO: ToAudio,
    Channel.TO_DISCORD: ToDiscord,
    Channel.UI_NOW: UiMessage,
}
_ADAPTERS: dict[Channel, TypeAdapter[Any]] = {
    channel: TypeAdapter(union) for channel, union in _UNIONS.items()
}


def _types(annotated_union: Any) -> frozenset[str]:
    union = get_args(annotated_union)[0]
    return frozenset(member.model_fields["type"].default for member in get_args(union))


#: The message types each channel carries.
CHANNEL_TYPES: dict[Channel, frozenset[str]] = {
    channel: _types(union) for channel, union in _UNIONS.items()
}


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why some bytes are not a message of a channel; ``message_id`` when one could be read."""

    reason: RejectReason
    detail: str
    message_id: str | None = None
    guild_id: int | None = None


def encode(message: Envelope) -> bytes:
    """The wire form of a message (compact JSON)."""
    return message.model_dump_json().encode()


def _short(error: ValidationError) -> str:
    first = error.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def decode(channel: Channel, data: bytes | str) -> Envelope | Rejection:
    """Parse one message of ``channel``; never raises.

    Valid messages take one pass of pydantic's JSON parser; only invalid ones are parsed
    again step by step, to say precisely why they are refused.
    """
    try:
        parsed: Envelope = _ADAPTERS[channel].validate_json(data)
    except ValidationError:
        return _diagnose(channel, data)
    if parsed.v not in SUPPORTED_VERSIONS:
        return Rejection(
            "unknown_version",
            f"version {parsed.v} not in {sorted(SUPPORTED_VERSIONS)}",
            parsed.id,
            parsed.guild_id,
        )
    return parsed


def _diagnose(channel: Channel, data: bytes | str) -> Rejection:
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        return Rejection("malformed", f"not JSON: {exc}")
    if not isinstance(raw, dict):
        return Rejection("malformed", f"not a JSON object but {type(raw).__name__}")
    message_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    guild_id = raw.get("guild_id") if type(raw.get("guild_id")) is int else None
    version = raw.get("v")
    if type(version) is not int:
        return Rejection("malformed", "v: missing or not an integer", message_id, guild_id)
    if version not in SUPPORTED_VERSIONS:
        return Rejection(
            "unknown_version",
            f"version {version} not in {sorted(SUPPORTED_VERSIONS)}",
            message_id,
            guild_id,
        )
    kind = raw.get("type")
    if not isinstance(kind, str):
        return Rejection("malformed", "type: missing or not a string", message_id, guild_id)
    if kind not in CHANNEL_TYPES[channel]:
        return Rejection(
            "unknown_type", f"{kind!r} is not a {channel.value} message", message_id, guild_id
        )
    try:
        _ADAPTERS[channel].validate_python(raw)
    except ValidationError as error:
        return Rejection("malformed", _short(error), message_id, guild_id)
    return Rejection("malformed", "invalid JSON for this schema", message_id, guild_id)


def channel_accepts(channel: Channel, message: Envelope) -> bool:
    """Whether ``message`` is one of the types ``channel`` carries."""
    return message.type in CHANNEL_TYPES[channel]
