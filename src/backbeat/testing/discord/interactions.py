"""Interactions: what users do (commands, autocomplete, components) and how the bot answers.

Discord's rules enforced here, on the emulator's clock: the initial response must arrive
within 3 seconds (later: 404 ``10062 Unknown interaction``), only once (``40060 Interaction
has already been acknowledged``), and the token serves followups and ``@original`` for
15 minutes (later: 401 ``50027 Invalid Webhook Token``). Every response is recorded on the
interaction (initial, followups, edits, deletions) for the control API.
"""

from __future__ import annotations

from typing import Any

from backbeat.testing.discord.components import (
    CHANNEL_OPTION,
    MENTIONABLE_OPTION,
    ROLE_OPTION,
    USER_OPTION,
    add_resolved,
    component_data,
    find_component,
)
from backbeat.testing.discord.events import Events
from backbeat.testing.discord.world import (
    EPHEMERAL,
    JSON,
    LOADING,
    Interaction,
    Message,
    World,
    WorldError,
)

PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9
RESPONSE_DEADLINE = 3.0
TOKEN_LIFETIME = 15 * 60.0
ATTACHMENT_SIZE_LIMIT = 25 * 1024 * 1024

ALLOWED_CALLBACKS: dict[int, frozenset[int]] = {
    APPLICATION_COMMAND: frozenset({CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL}),
    MESSAGE_COMPONENT: frozenset(
        {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL}
    ),
    AUTOCOMPLETE: frozenset({AUTOCOMPLETE_RESULT}),
    MODAL_SUBMIT: frozenset(
        {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE}
    ),
}

OPTION_TYPES = {str: 3, int: 4, bool: 5, float: 10}


def unknown_interaction() -> WorldError:
    return WorldError(404, 10062, "Unknown interaction")


class InteractionService:
    """Creates interactions for scripted users and applies the bot's responses."""

    def __init__(self, world: World, events: Events) -> None:
        self.world = world
        self.events = events

    # ----- users act ----------------------------------------------------------------------
    def invoke_command(
        self,
        *,
        guild_id: int,
        channel_id: int,
        user_id: int,
        name: str,
        options: dict[str, Any] | list[JSON] | None = None,
        subcommand: str | None = None,
        focused: str | None = None,
    ) -> Interaction:
        """A user runs a slash command (``focused`` set: an autocomplete request instead)."""
        self._check_invoker(guild_id, channel_id, user_id)
        command = self.world.find_command(name, guild_id)
        if command is None:
            raise WorldError(404, 10063, f"Unknown application command {name!r}")
        definitions: list[JSON] = list(command.body.get("options") or [])
        if subcommand is not None:
            sub = next((o for o in definitions if o.get("name") == subcommand), None)
            if sub is None:
                raise WorldError(400, 50035, f"Unknown subcommand {subcommand!r}")
            definitions = list(sub.get("options") or [])
        resolved: JSON = {}
        built = self._build_options(
            guild_id=guild_id,
            invoker=user_id,
            options=options,
            definitions=definitions,
            resolved=resolved,
            focused=focused,
        )
        if subcommand is not None:
            built = [{"type": 1, "name": subcommand, "options": built}]
        data: JSON = {
            "id": str(command.id),
            "name": name,
            "type": 1,
            "options": built,
        }
        if command.guild_id is not None:
            data["guild_id"] = str(command.guild_id)
        if resolved:
            data["resolved"] = resolved
        interaction_type = AUTOCOMPLETE if focused is not None else APPLICATION_COMMAND
        interaction = self.world.create_interaction(
            interaction_type=interaction_type,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            data=data,
        )
        self._dispatch(interaction)
        return interaction

    def click_component(
        self,
        *,
        message_id: int,
        user_id: int,
        custom_id: str,
        component_type: int | None = None,
        values: list[str] | None = None,
    ) -> Interaction:
        """A user clicks a button or picks ``values`` in a select (types 3, 5, 6, 7, 8).

        ``component_type`` defaults to the component's own type; given, it must match it.
        """
        message = self.world.message(message_id)
        if message.guild_id is None:
            raise WorldError(400, 50035, "Components are emulated in guild channels only")
        self._check_invoker(message.guild_id, message.channel_id, user_id)
        component = find_component(message.components, custom_id)
        if component is None:
            raise WorldError(400, 50035, f"The message has no component {custom_id!r}")
        data = component_data(
            self.world,
            guild_id=message.guild_id,
            user_id=user_id,
            component=component,
            component_type=component_type,
            values=values,
        )
        interaction = self.world.create_interaction(
            interaction_type=MESSAGE_COMPONENT,
            guild_id=message.guild_id,
            channel_id=message.channel_id,
            user_id=user_id,
            data=data,
            message_id=message.id,
        )
        self._dispatch(interaction)
        return interaction

    def _check_invoker(self, guild_id: int, channel_id: int, user_id: int) -> None:
        self.world.member(guild_id, user_id)
        channel = self.world.channel(channel_id)
        if channel.guild_id != guild_id:
            raise WorldError(400, 50035, "The channel is not in that guild")

    def _build_options(
        self,
        *,
        guild_id: int,
        invoker: int,
        options: dict[str, Any] | list[JSON] | None,
        definitions: list[JSON],
        resolved: JSON,
        focused: str | None,
    ) -> list[JSON]:
        if options is None:
            return []
        if isinstance(options, list):
            return [dict(o) for o in options]
        types = {d.get("name"): int(d.get("type", 3)) for d in definitions}
        built: list[JSON] = []
        for name, value in options.items():
            option_type = types.get(name) or OPTION_TYPES.get(type(value), 3)
            option: JSON = {"name": name, "type": option_type, "value": value}
            if option_type in (USER_OPTION, CHANNEL_OPTION, ROLE_OPTION, MENTIONABLE_OPTION):
                option["value"] = str(value)
                add_resolved(
                    self.world,
                    guild_id=guild_id,
                    kind=option_type,
                    target=int(value),
                    invoker_id=invoker,
                    resolved=resolved,
                )
            if name == focused:
                option["focused"] = True
                option["value"] = str(value)
            built.append(option)
        return built

    def interaction_payload(self, interaction: Interaction) -> JSON:
        """The INTERACTION_CREATE dispatch as Discord sends it."""
        world = self.world
        channel = world.channel(interaction.channel_id)
        data: JSON = {
            "id": str(interaction.id),
            "application_id": str(interaction.application_id),
            "type": interaction.type,
            "data": interaction.data,
            "channel_id": str(channel.id),
            "channel": channel.to_json(),
            "token": interaction.token,
            "version": 1,
            "locale": world.user(interaction.user_id).locale,
            "entitlements": [],
            "context": 0,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if interaction.guild_id is not None:
            guild = world.guild(interaction.guild_id)
            member = world.member(guild.id, interaction.user_id)
            data.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member=world.member_json(guild, member, with_permissions=True),
                app_permissions=str(world.permissions_for(guild.id, world.bot.id, channel.id)),
                authorizing_integration_owners={"0": str(guild.id)},
            )
        else:
            data["user"] = world.user(interaction.user_id).to_json()
        if interaction.message_id is not None:
            data["message"] = world.message_json(world.message(interaction.message_id))
        return data

    def _dispatch(self, interaction: Interaction) -> None:
        self.events.gateway.dispatch(
            "INTERACTION_CREATE",
            self.interaction_payload(interaction),
            guild_id=interaction.guild_id,
        )

    # ----- the bot answers ------------------------------------------------------------------
    def callback(self, interaction_id: int, token: str, body: JSON) -> JSON:
        """Apply ``POST /interactions/{id}/{token}/callback``; returns the with_response body."""
        interaction = self.world.interactions.get(interaction_id)
        if interaction is None or interaction.token != token:
            raise unknown_interaction()
        if interaction.initial_response is not None:
            raise WorldError(400, 40060, "Interaction has already been acknowledged.")
        now = self.world.clock.now()
        if now - interaction.created_at > RESPONSE_DEADLINE:
            raise unknown_interaction()
        try:
            callback_type = int(body["type"])
        except (KeyError, TypeError, ValueError):
            raise WorldError(400, 50035, "Invalid Form Body") from None
        if callback_type not in ALLOWED_CALLBACKS.get(interaction.type, frozenset()):
            raise WorldError(400, 40043, "Interaction callback type not allowed")
        data: JSON = body.get("data") or {}
        message: Message | None = None
        loading = False
        if callback_type == CHANNEL_MESSAGE:
            message = self._create_response_message(interaction, data)
        elif callback_type == DEFERRED_CHANNEL_MESSAGE:
            loading = True
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            message = self._create_response_message(interaction, {"content": "", "flags": flags})
        elif callback_type in (DEFERRED_UPDATE, UPDATE_MESSAGE):
            message = self.world.message(self._component_message_id(interaction))
            interaction.original_message_id = message.id
            if callback_type == UPDATE_MESSAGE:
                self.world.edit_message(message, data)
                self.events.message_updated(message)
        interaction.initial_response = {"type": callback_type, "data": data}
        self._record(interaction, "initial", type=callback_type, data=data, message=message)
        result: JSON = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_loading": loading,
                "response_message_ephemeral": bool(message and message.flags & EPHEMERAL),
            },
            "resource": {"type": callback_type},
        }
        if message is not None:
            result["interaction"]["response_message_id"] = str(message.id)
            if callback_type in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, UPDATE_MESSAGE):
                result["resource"]["message"] = self.world.message_json(message)
        return result

    def _component_message_id(self, interaction: Interaction) -> int:
        if interaction.message_id is None:
            raise WorldError(400, 40043, "Interaction callback type not allowed")
        return interaction.message_id

    def _create_response_message(self, interaction: Interaction, data: JSON) -> Message:
        message_type = 20 if interaction.type == APPLICATION_COMMAND else 0
        message = self.world.create_message(
            interaction.channel_id,
            self.world.bot.id,
            data,
            message_type=message_type,
            webhook_id=interaction.application_id,
            interaction_id=interaction.id,
        )
        interaction.original_message_id = message.id
        self.events.message_created(message)
        return message

    def _record(
        self, interaction: Interaction, kind: str, *, message: Message | None = None, **fields: Any
    ) -> None:
        event: JSON = {"kind": kind, "at": self.world.clock.now(), **fields}
        if message is not None:
            event["message_id"] = str(message.id)
        interaction.events.append(event)
        self.world.touch()

    # ----- webhook routes (followups and @original) -----------------------------------------
    def webhook_interaction(self, application_id: int, token: str) -> Interaction:
        """The interaction behind a webhook token, while the token lives."""
        interaction_id = self.world.interactions_by_token.get(token)
        if interaction_id is None or application_id != self.world.application_id:
            raise WorldError(404, 10015, "Unknown Webhook")
        interaction = self.world.interactions[interaction_id]
        if self.world.clock.now() - interaction.created_at > TOKEN_LIFETIME:
            raise WorldError(401, 50027, "Invalid Webhook Token")
        return interaction

    def followup(self, interaction: Interaction, data: JSON) -> Message:
        if interaction.initial_response is None:
            raise WorldError(404, 10015, "Unknown Webhook")
        message = self.world.create_message(
            interaction.channel_id,
            self.world.bot.id,
            data,
            webhook_id=interaction.application_id,
            interaction_id=interaction.id,
        )
        interaction.followup_ids.append(message.id)
        self.events.message_created(message)
        self._record(interaction, "followup", data=data, message=message)
        return message

    def _target(self, interaction: Interaction, message_ref: str) -> Message:
        if message_ref == "@original":
            if interaction.original_message_id is None:
                raise WorldError(404, 10008, "Unknown Message")
            return self.world.message(interaction.original_message_id)
        try:
            message_id = int(message_ref)
        except ValueError:
            raise WorldError(404, 10008, "Unknown Message") from None
        if (
            message_id != interaction.original_message_id
            and message_id not in interaction.followup_ids
        ):
            raise WorldError(404, 10008, "Unknown Message")
        return self.world.message(message_id)

    def get_message(self, interaction: Interaction, message_ref: str) -> Message:
        return self._target(interaction, message_ref)

    def edit_message(self, interaction: Interaction, message_ref: str, data: JSON) -> Message:
        message = self._target(interaction, message_ref)
        self.world.edit_message(message, data)
        self.events.message_updated(message)
        kind = "edit_original" if message_ref == "@original" else "edit_followup"
        self._record(interaction, kind, data=data, message=message)
        return message

    def delete_message(self, interaction: Interaction, message_ref: str) -> None:
        message = self._target(interaction, message_ref)
        self.world.delete_message(message)
        self.events.message_deleted(message)
        kind = "delete_original" if message_ref == "@original" else "delete_followup"
        self._record(interaction, kind, message=message)

    def record(self, interaction: Interaction) -> JSON:
        """The control API's view of an interaction and everything answered to it."""
        original = interaction.original_message_id
        return {
            "id": str(interaction.id),
            "token": interaction.token,
            "type": interaction.type,
            "guild_id": str(interaction.guild_id) if interaction.guild_id else None,
            "channel_id": str(interaction.channel_id),
            "user_id": str(interaction.user_id),
            "data": interaction.data,
            "created_at": interaction.created_at,
            "message_id": str(interaction.message_id) if interaction.message_id else None,
            "initial_response": interaction.initial_response,
            "original_message": (
                self.world.message_record(self.world.messages[original])
                if original is not None
                else None
            ),
            "followups": [
                self.world.message_record(self.world.messages[mid])
                for mid in interaction.followup_ids
            ],
            "events": list(interaction.events),
        }
