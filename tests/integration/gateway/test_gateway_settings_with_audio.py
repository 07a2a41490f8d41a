"""``/settings`` end to end in the distributed set-up (PostgreSQL and Redis): a server manager
sets a DJ role (ServerConfiguration row, AuditLog row, cache key deleted, ``settings-changed``
on the bus, the settings shown back), then a member without the role is refused ``/skip``
at once while the DJ and the requester skip; the other settings validate and show."""

from __future__ import annotations

import asyncio
import functools

import pytest
from gateway_audio_rig import ManagedGuild, Slash, playing_title
from gateway_harness import EPHEMERAL, Watch, until
from sqlalchemy import select

from backbeat.cache import RedisCacheStore, cache_keys
from backbeat.cache.settings import load_settings
from backbeat.db.models import AuditLog, ServerConfiguration
from backbeat.domain.messages import Channel
from backbeat.domain.permissions import MANAGE_GUILD
from backbeat.observability.metrics import REGISTRY
from backbeat.testing.discord import DiscordEmulator
from backbeat.testing.lavalink.control_client import LavalinkControlClient

pytestmark = pytest.mark.slow


async def test_settings_dj_role_gates_skip_in_the_distributed_setup(
    managed: ManagedGuild, redis_url: str
) -> None:
    emu, place, engine, settings = managed.emu, managed.place, managed.engine, managed.settings
    control = emu.control
    alice, bob = place.alice, place.bob  # alice manages the server, bob requests music
    carol = int((await control.create_user("carol"))["id"])  # the DJ
    dave = int((await control.create_user("dave"))["id"])  # neither
    dj = int((await control.create_role(place.guild, "DJ"))["id"])
    await control.put_member(place.guild, carol, roles=[dj])
    await control.put_member(place.guild, dave)
    for user in (bob, carol, dave):
        await control.move_voice(place.guild, user, place.voice)
    async with managed.rig() as rig:
        slash = Slash(emu, place)
        bus = await rig.process.bus()
        store = RedisCacheStore.from_url(redis_url)
        key = cache_keys(settings).guild_settings(place.guild)
        try:
            synced = {c["name"]: c for c in await control.commands()}
            assert int(synced["settings"]["default_member_permissions"]) == MANAGE_GUILD

            # A member without Manage Server is refused, and nothing is written.
            refused = await slash.text(dave, "settings", {"role": dj}, subcommand="dj-role")
            assert refused.startswith("🔒 Only server managers"), refused

            # The manager sets the DJ role: row, audit row, cache key gone, bus message.
            assert "Playing" in await slash.text(bob, "play", {"query": "house"})
            await until(lambda: store.get(key))  # audio and the gateway cached them
            async with Watch(bus, Channel.COMMANDS) as commands:
                record = await slash.record(alice, "settings", {"role": dj}, subcommand="dj-role")
                changed = await commands.next(lambda m: m.type == "settings-changed")
            assert changed.payload.keys == ["dj_role_id"]  # type: ignore[attr-defined]
            answer = record["original_message"]
            assert answer["content"] == "✅ Saved: dj_role_id"
            [embed] = answer["embeds"]
            fields = {f["name"]: f["value"] for f in embed["fields"]}
            assert fields["DJ role"] == f"<@&{dj}>"
            async with engine.connect() as conn:
                row = (
                    await conn.execute(
                        select(ServerConfiguration.dj_role_id).where(
                            ServerConfiguration.guild_id == place.guild
                        )
                    )
                ).one()
                audits = (
                    await conn.execute(
                        select(AuditLog.action, AuditLog.actor_id, AuditLog.payload).where(
                            AuditLog.guild_id == place.guild,
                            AuditLog.action == "settings.update",
                        )
                    )
                ).all()
            assert row.dj_role_id == dj
            cached = await store.get(key)  # deleted, or already re-read with the new role
            assert cached is None or load_settings(cached).dj_role_id == dj
            assert [(a.actor_id, a.payload) for a in audits] == [(alice, {"dj_role_id": dj})]

            # Without the role: refused at once (no command reaches the bus).
            assert "Queued" in await slash.text(bob, "play", {"query": "techno"})
            assert "Queued" in await slash.text(bob, "play", {"query": "rock"})
            refused_before = _refusals("dj_only")
            async with Watch(bus, Channel.COMMANDS) as commands:
                denied = await slash.text(dave, "skip")
                assert denied.startswith("🗳️ Only the requester or a DJ"), denied
                dj_only = await slash.text(dave, "pause")
                expected = f"🎧 Only members with the DJ role (<@&{dj}>) can do that here."
                assert dj_only == expected
                # The now-playing buttons apply the same rules.
                [message] = await until(lambda: _now_playing(emu, place.text), within=20)
                click = await control.click_component(
                    message_id=message["id"],
                    user_id=dave,
                    custom_id=f"bb:pause:{place.guild}",
                )
                record = await control.interaction(click["id"], min_events=2)
                [told] = record["followups"]
                assert told["flags"] & EPHEMERAL
                assert told["content"] == expected
                await asyncio.sleep(0.3)
                assert not commands.of_type("skip")
                assert not commands.of_type("pause")
            assert _refusals("dj_only") == refused_before + 2  # /pause and the button
            # The requester skips their own track, not the queue behind it; the DJ skips.
            assert await slash.text(bob, "skip", {"count": 2}) == expected
            first = await playing_title(rig.lavalink, place.guild)
            assert "Skipped" in await slash.text(bob, "skip")
            second = await until(lambda: _other(rig.lavalink, place.guild, first), within=20)
            assert "Skipped" in await slash.text(carol, "skip")
            await until(lambda: _other(rig.lavalink, place.guild, second), within=20)

            # The other settings validate, write and show.
            setting = functools.partial(slash.setting, alice)

            assert "Saved" in await setting("default-volume", {"percent": 80})
            assert "Saved" in await setting("vote-skip-ratio", {"percent": 75})
            assert "Saved" in await setting("queue-limit", {"tracks": 5})
            assert "Saved" in await setting("247", {"enabled": "on"})
            assert "Saved" in await setting("autoplay-mode", {"mode": "artist"})
            assert "Saved" in await setting("announce-channel", {"channel": place.text})
            added = await setting("blacklist-add", {"entry": "Bad  Song"})
            assert added == "✅ Blacklisted: keyword:Bad Song"
            absent = await setting("blacklist-remove", {"entry": "other"})
            assert absent == "⚠️ other is not on the blacklist."
            shown = await slash.embed(alice, "settings", None, subcommand="show")
            values = {f["name"]: f["value"] for f in shown["fields"]}
            assert values["Default volume"] == "80%"
            assert values["Vote-skip ratio"] == "75%"
            assert values["Tracks per user"] == "5"
            assert values["24/7"] == "on"
            assert values["Autoplay"] == "off (artist)"
            assert values["Announcements"] == f"<#{place.text}>"
            assert values["Blacklist"] == "`keyword:Bad Song`"
            assert values["Blacklist applies to"] == "autoplay only"
            async with engine.connect() as conn:
                stored = (
                    await conn.execute(
                        select(ServerConfiguration).where(
                            ServerConfiguration.guild_id == place.guild
                        )
                    )
                ).one()
                count = len(
                    (
                        await conn.execute(
                            select(AuditLog.id).where(AuditLog.action == "settings.update")
                        )
                    ).all()
                )
            assert stored.default_volume == 80
            assert stored.max_queue_per_user == 5
            assert stored.blacklist == ["keyword:Bad Song"]
            assert stored.blacklist_scope == "autoplay"
            assert count == 8  # dj role + seven more; the refused removal wrote nothing
            removed = await setting("blacklist-remove", {"entry": "bad song"})
            assert removed == "✅ No longer blacklisted: keyword:Bad Song"
        finally:
            await store.close()


def _refusals(reason: str) -> float:
    value = REGISTRY.get_sample_value("gateway_command_refusals_total", {"reason": reason})
    return value or 0.0


async def _now_playing(emu: DiscordEmulator, channel_id: int) -> list[dict[str, object]]:
    return [
        m
        for m in await emu.control.channel_messages(channel_id)
        if m["embeds"] and m.get("components") and not m.get("deleted")
    ]


async def _other(lavalink: LavalinkControlClient, guild_id: int, before: str | None) -> str | None:
    title = await playing_title(lavalink, guild_id)
    return title if title is not None and title != before else None
