"""Message components a scripted user acts on: finding them, checking the pick, resolving it.

Discord's client only lets a user do what a component allows, so the emulator refuses the
rest (400 ``50035``): an unknown or disabled component, values on a button, a string-select
value that is not one of its options, fewer than ``min_values`` (default 1) or more than
``max_values`` (default 1) values. For user (5), role (6), mentionable (7) and channel (8)
selects the values are snowflakes and the interaction data carries ``resolved`` with the
picked users (and their members), roles and channels, as Discord sends them.
"""

from __future__ import annotations

from typing import Any

from backbeat.testing.discord.world import JSON, World, WorldError

BUTTON = 2
STRING_SELECT = 3
USER_SELECT = 5
ROLE_SELECT = 6
MENTIONABLE_SELECT = 7
CHANNEL_SELECT = 8
SELECT_TYPES = frozenset(
    {STRING_SELECT, USER_SELECT, ROLE_SELECT, MENTIONABLE_SELECT, CHANNEL_SELECT}
)
USER_OPTION, CHANNEL_OPTION, ROLE_OPTION, MENTIONABLE_OPTION = 6, 7, 8, 9
"""Application command option types; ``resolved`` is shared with slash command options."""


def invalid(message: str) -> WorldError:
    return WorldError(400, 50035, message)


def find_component(components: list[JSON], custom_id: str) -> JSON | None:
    """The component with ``custom_id`` anywhere in a message's component tree."""
    stack: list[Any] = list(components)
    while stack:
        item = stack.pop()
        if not isinstance(item, dict):
            continue
        if item.get("custom_id") == custom_id:
            return item
        stack.extend(item.get("components") or [])
        if isinstance(item.get("accessory"), dict):
            stack.append(item["accessory"])
    return None


def component_data(
    world: World,
    *,
    guild_id: int,
    user_id: int,
    component: JSON,
    component_type: int | None,
    values: list[str] | None,
) -> JSON:
    """The ``data`` of a type 3 interaction for a click or a pick on ``component``."""
    actual = int(component.get("type", BUTTON))
    if component_type is not None and component_type != actual:
        raise invalid(f"The component is of type {actual}, not {component_type}")
    if component.get("disabled"):
        raise invalid("The component is disabled")
    data: JSON = {"custom_id": str(component["custom_id"]), "component_type": actual}
    if actual not in SELECT_TYPES:
        if values:
            raise invalid("Only select menus take values")
        return data
    picked = [str(v) for v in values or []]
    _check_count(component, picked)
    if actual == STRING_SELECT:
        allowed = {str(o.get("value")) for o in component.get("options") or []}
        unknown = [v for v in picked if v not in allowed]
        if unknown:
            raise invalid(f"Not options of the select: {unknown}")
    else:
        resolved: JSON = {}
        for value in picked:
            _resolve_pick(
                world,
                guild_id=guild_id,
                user_id=user_id,
                component=component,
                select_type=actual,
                value=value,
                resolved=resolved,
            )
        if resolved:
            data["resolved"] = resolved
    data["values"] = picked
    return data


def _check_count(component: JSON, picked: list[str]) -> None:
    low = int(component.get("min_values", 1))
    high = int(component.get("max_values", 1))
    if not low <= len(picked) <= high:
        raise invalid(f"{len(picked)} values picked; the select takes {low} to {high}")
    if len(set(picked)) != len(picked):
        raise invalid("A value was picked twice")


def _resolve_pick(
    world: World,
    *,
    guild_id: int,
    user_id: int,
    component: JSON,
    select_type: int,
    value: str,
    resolved: JSON,
) -> None:
    try:
        target = int(value)
    except ValueError:
        raise invalid(f"{value!r} is not a snowflake") from None
    guild = world.guild(guild_id)
    if select_type == USER_SELECT or (
        select_type == MENTIONABLE_SELECT and target not in guild.roles
    ):
        if target not in world.users:
            raise invalid(f"Unknown user {value}")
        kind = USER_OPTION
    elif select_type in (ROLE_SELECT, MENTIONABLE_SELECT):
        if target not in guild.roles:
            raise invalid(f"Unknown role {value}")
        kind = ROLE_OPTION
    else:
        channel = world.channels.get(target)
        if channel is None or channel.guild_id != guild_id:
            raise invalid(f"Unknown channel {value}")
        wanted = component.get("channel_types")
        if wanted and channel.type not in wanted:
            raise invalid(f"Channel {value} is not of the select's channel_types")
        kind = CHANNEL_OPTION
    add_resolved(
        world, guild_id=guild_id, kind=kind, target=target, invoker_id=user_id, resolved=resolved
    )


def add_resolved(
    world: World, *, guild_id: int, kind: int, target: int, invoker_id: int, resolved: JSON
) -> None:
    """Add one user (with member), role or channel to an interaction's ``resolved`` data.

    ``kind`` is an application command option type (6 user, 7 channel, 8 role, 9 mentionable).
    Resolved members carry no ``user``, ``deaf`` or ``mute`` and have ``permissions``; resolved
    channels are partial (id, name, type, parent_id and the invoker's ``permissions`` there).
    """
    guild = world.guild(guild_id)
    if kind in (USER_OPTION, MENTIONABLE_OPTION) and target in world.users:
        resolved.setdefault("users", {})[str(target)] = world.user(target).to_json()
        member = guild.members.get(target)
        if member is not None:
            data = world.member_json(guild, member, with_permissions=True)
            for key in ("user", "deaf", "mute"):
                data.pop(key, None)
            resolved.setdefault("members", {})[str(target)] = data
    elif kind == CHANNEL_OPTION:
        channel = world.channel(target)
        resolved.setdefault("channels", {})[str(target)] = {
            "id": str(channel.id),
            "name": channel.name,
            "type": channel.type,
            "parent_id": str(channel.parent_id) if channel.parent_id else None,
            "permissions": str(world.permissions_for(guild_id, invoker_id, channel.id)),
        }
    elif kind in (ROLE_OPTION, MENTIONABLE_OPTION) and target in guild.roles:
        resolved.setdefault("roles", {})[str(target)] = guild.roles[target].to_json()
