"""The settings editor: validate what the user sent, then write, audit, invalidate, publish.

:func:`from_form` reads the settings page's form (every field present, a missing checkbox is
off, the vote-skip ratio in percent); :func:`from_json` reads a PATCH body (only the keys
sent). Both return the changes and a message per invalid field. The blacklist holds typed
entries (``artist:``, ``channel:``, ``keyword:``, ``track:``, one a line in the form): each is
checked as ``/settings blacklist-add`` checks it (:mod:`backbeat.domain.blacklist`), and a bad
line is named in the field's message. :func:`apply` writes the
changes and their AuditLog row (source ``panel``) in one transaction, then deletes the
shared settings cache entry and publishes ``settings-changed`` so the bot applies them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.db.repositories.audit import AuditRepository
from backbeat.db.repositories.configuration import ConfigurationRepository
from backbeat.db.transactions import in_transaction
from backbeat.domain import blacklist
from backbeat.domain.guild_settings import MAX_VOLUME, AutoplayMode, BlacklistScope, GuildSettings
from backbeat.domain.messages import Channel, DiscordContext
from backbeat.domain.messages.commands import SettingsChanged, SettingsChangedPayload
from backbeat.domain.records import AuditSource
from backbeat.panel.deps import Invalidate, Publish
from backbeat.panel.discord_api import GuildChannel, GuildInfo

TEXT_CHANNEL_TYPES: Final = frozenset({0, 5})
MAX_BLACKLIST: Final = blacklist.MAX_ENTRIES
MAX_BLACKLIST_ENTRY: Final = blacklist.MAX_VALUE
MAX_QUEUE_PER_USER: Final = 10_000
EDITABLE: Final = (
    "autoplay_enabled",
    "autoplay_mode",
    "default_volume",
    "dj_role_id",
    "announce_channel_id",
    "twenty_four_seven",
    "blacklist",
    "blacklist_scope",
    "vote_skip_ratio",
    "max_queue_per_user",
)


@dataclass(frozen=True, slots=True)
class Choices:
    """What the guild offers to pick from."""

    role_ids: frozenset[int]
    text_channel_ids: frozenset[int]
    guild_id: int

    @classmethod
    def of(cls, info: GuildInfo, channels: list[GuildChannel]) -> Choices:
        return cls(
            role_ids=frozenset(role.role_id for role in info.roles if not role.managed),
            text_channel_ids=frozenset(
                c.channel_id for c in channels if c.kind in TEXT_CHANNEL_TYPES
            ),
            guild_id=info.guild_id,
        )


Errors = dict[str, str]


def _int(value: object, name: str, errors: Errors, low: int, high: int) -> int | None:
    if isinstance(value, bool):
        errors[name] = "must be a whole number"
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors[name] = "must be a whole number"
        return None
    if not low <= number <= high:
        errors[name] = f"must be between {low} and {high}"
        return None
    return number


_Choice = TypeVar("_Choice", bound=StrEnum)


def _member(value: object, name: str, kind: type[_Choice], errors: Errors) -> _Choice | None:
    """The ``kind`` member whose value is ``value``; else an error naming the choices."""
    try:
        return kind(str(value))
    except ValueError:
        errors[name] = "must be one of " + ", ".join(member.value for member in kind)
        return None


def _optional_id(value: object, name: str, allowed: frozenset[int], errors: Errors) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors[name] = "pick one from the list"
        return _MISSING
    if number not in allowed:
        errors[name] = "pick one from the list (it is not in this server)"
        return _MISSING
    return number


_MISSING: Final = object()


def _blacklist(value: object, errors: Errors) -> tuple[str, ...] | None:
    if isinstance(value, str):
        items = value.splitlines()
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        items = list(value)
    else:
        errors["blacklist"] = "must be a list of entries such as artist:Name or keyword:words"
        return None
    entries, problems = blacklist.from_lines(items)
    if problems:
        shown = "; ".join(problems[:3]) + ("; …" if len(problems) > 3 else "")
        errors["blacklist"] = shown
        return None
    return entries


def _validate(
    raw: Mapping[str, Any], choices: Choices, *, ratio_percent: bool
) -> tuple[dict[str, Any], Errors]:
    changes: dict[str, Any] = {}
    errors: Errors = {}
    if "premium_tier" in raw:
        errors["premium_tier"] = "the premium tier cannot be changed in the panel"
    unknown = sorted(set(raw) - set(EDITABLE) - {"premium_tier", "csrf_token"})
    for name in unknown:
        errors[name] = "unknown setting"
    for name in ("autoplay_enabled", "twenty_four_seven"):
        if name in raw:
            value = raw[name]
            if isinstance(value, bool):
                changes[name] = value
            elif isinstance(value, str) and value in {"on", "true", "1", "", "false", "0"}:
                changes[name] = value in {"on", "true", "1"}
            else:
                errors[name] = "must be on or off"
    if "autoplay_mode" in raw:
        mode = _member(raw["autoplay_mode"], "autoplay_mode", AutoplayMode, errors)
        if mode is not None:
            changes["autoplay_mode"] = mode
    if "default_volume" in raw:
        volume = _int(raw["default_volume"], "default_volume", errors, 0, MAX_VOLUME)
        if volume is not None:
            changes["default_volume"] = volume
    if "dj_role_id" in raw:
        allowed = choices.role_ids - {choices.guild_id}
        role = _optional_id(raw["dj_role_id"], "dj_role_id", allowed, errors)
        if role is not _MISSING:
            changes["dj_role_id"] = role
    if "announce_channel_id" in raw:
        channel = _optional_id(
            raw["announce_channel_id"], "announce_channel_id", choices.text_channel_ids, errors
        )
        if channel is not _MISSING:
            changes["announce_channel_id"] = channel
    if "blacklist" in raw:
        blacklist = _blacklist(raw["blacklist"], errors)
        if blacklist is not None:
            changes["blacklist"] = blacklist
    if "blacklist_scope" in raw:
        scope = _member(raw["blacklist_scope"], "blacklist_scope", BlacklistScope, errors)
        if scope is not None:
            changes["blacklist_scope"] = scope
    if "vote_skip_ratio" in raw:
        value = raw["vote_skip_ratio"]
        if ratio_percent:
            percent = _int(value, "vote_skip_ratio", errors, 0, 100)
            if percent is not None:
                changes["vote_skip_ratio"] = percent / 100
        elif isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
            changes["vote_skip_ratio"] = float(value)
        else:
            errors["vote_skip_ratio"] = "must be a number between 0 and 1"
    if "max_queue_per_user" in raw:
        value = raw["max_queue_per_user"]
        if value is None or (isinstance(value, str) and not value.strip()):
            changes["max_queue_per_user"] = None
        else:
            limit = _int(value, "max_queue_per_user", errors, 1, MAX_QUEUE_PER_USER)
            if limit is not None:
                changes["max_queue_per_user"] = limit
    return changes, errors


def from_form(form: Mapping[str, str], choices: Choices) -> tuple[dict[str, Any], Errors]:
    """Changes from the settings page (absent checkboxes are off)."""
    raw: dict[str, Any] = dict(form)
    for name in ("autoplay_enabled", "twenty_four_seven"):
        raw.setdefault(name, "")
    return _validate(raw, choices, ratio_percent=True)


def from_json(body: Mapping[str, Any], choices: Choices) -> tuple[dict[str, Any], Errors]:
    """Changes from a JSON PATCH (only the keys sent; the ratio as 0..1)."""
    return _validate(body, choices, ratio_percent=False)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, AutoplayMode | BlacklistScope):
        return value.value
    return value


def differences(current: GuildSettings, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The changes that alter something."""
    return {
        name: value
        for name, value in changes.items()
        if _plain(getattr(current, name)) != _plain(value)
    }


async def apply(
    *,
    engine: AsyncEngine,
    configuration: ConfigurationRepository,
    audit: AuditRepository,
    publish: Publish,
    invalidate: Invalidate,
    guild_id: int,
    actor_id: int,
    changes: Mapping[str, Any],
) -> GuildSettings:
    """Write ``changes`` and the audit row together, then invalidate and publish."""

    async def work(conn: AsyncConnection) -> tuple[GuildSettings, dict[str, Any]]:
        current = await configuration.get(guild_id=guild_id, conn=conn)
        altered = differences(current, changes)
        if not altered:
            return current, {}
        new = await configuration.update(guild_id=guild_id, conn=conn, **altered)
        await audit.append(
            action="settings.update",
            source=AuditSource.PANEL,
            guild_id=guild_id,
            actor_id=actor_id,
            payload={
                "changes": {
                    name: {"from": _plain(getattr(current, name)), "to": _plain(value)}
                    for name, value in sorted(altered.items())
                }
            },
            conn=conn,
        )
        return new, altered

    settings, altered = await in_transaction(engine, "panel.settings_update", work)
    if altered:
        await configuration.notify(settings)
        await invalidate(guild_id)
        await publish(
            Channel.COMMANDS,
            SettingsChanged(
                guild_id=guild_id,
                source="panel",
                context=DiscordContext(user_id=actor_id),
                payload=SettingsChangedPayload(keys=sorted(altered)),
            ),
        )
    return settings
