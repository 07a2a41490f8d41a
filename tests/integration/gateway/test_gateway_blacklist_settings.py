"""``/settings`` edits the typed blacklist and its scope in the distributed set-up
(PostgreSQL and Redis), and ``/play`` honours it once the scope is ``all``: entries of each
type are added, shown by type, completed for removal and removed; bad input (an unknown type,
an empty or too long entry, a full list) is refused with its message and writes nothing."""

from __future__ import annotations

import functools

import pytest
from gateway_audio_rig import ManagedGuild, Slash
from gateway_harness import Watch
from sqlalchemy import func, select

from backbeat.db.models import AuditLog, ServerConfiguration
from backbeat.domain import limits
from backbeat.domain.messages import Channel
from backbeat.testing.lavalink.catalog import Catalog

pytestmark = pytest.mark.slow


async def test_typed_entries_their_errors_and_the_play_scope(managed: ManagedGuild) -> None:
    playable = [
        t for t in Catalog.default().tracks if t.youtube_id and not t.failure and not t.is_stream
    ]
    banned, other = playable[0], playable[1]
    emu, place, engine = managed.emu, managed.place, managed.engine
    control = emu.control
    alice, bob = place.alice, place.bob
    await control.move_voice(place.guild, bob, place.voice)
    async with managed.rig() as rig:
        slash = Slash(emu, place)
        bus = await rig.process.bus()

        setting = functools.partial(slash.setting, alice)

        async def stored() -> tuple[list[str], str, int]:
            async with engine.connect() as conn:
                row = (
                    await conn.execute(
                        select(
                            ServerConfiguration.blacklist,
                            ServerConfiguration.blacklist_scope,
                        ).where(ServerConfiguration.guild_id == place.guild)
                    )
                ).one_or_none()
                audits = (
                    await conn.execute(
                        select(func.count()).where(AuditLog.action == "settings.update")
                    )
                ).scalar_one()
            if row is None:
                return [], "autoplay", int(audits)
            return list(row.blacklist), str(row.blacklist_scope), int(audits)

        # One entry of each type: by the type option, by kind:value, a bare link.
        said = await setting("blacklist-add", {"entry": banned.youtube_id, "type": "track"})
        assert said == f"✅ Blacklisted: track:{banned.youtube_id}"
        assert "Blacklisted" in await setting("blacklist-add", {"entry": "artist:Harbor  Pilots"})
        assert "Blacklisted" in await setting(
            "blacklist-add", {"entry": "Lofi Girl", "type": "channel"}
        )
        async with Watch(bus, Channel.COMMANDS) as commands:
            said = await setting("blacklist-add", {"entry": "nightcore"})
            changed = await commands.next(lambda m: m.type == "settings-changed")
        assert said == "✅ Blacklisted: keyword:nightcore"
        assert changed.payload.keys == ["blacklist"]  # type: ignore[attr-defined]
        # A repeat (other case, other spacing) changes nothing.
        assert "Blacklisted" in await setting("blacklist-add", {"entry": "ARTIST:harbor pilots"})
        entries, scope, audits = await stored()
        assert entries == [
            f"track:{banned.youtube_id}",
            "artist:Harbor Pilots",
            "channel:Lofi Girl",
            "keyword:nightcore",
        ]
        assert scope == "autoplay"

        # Bad input: a message each, nothing written.
        assert await setting("blacklist-add", {"entry": "genre:lofi"}) == (
            "⚠️ There is no entry type `genre`: use artist:, channel:, keyword:, track:"
        )
        assert await setting("blacklist-add", {"entry": "artist:"}) == (
            "⚠️ Write what to block after `artist:`."
        )
        too_long = "keyword:" + "x" * (limits.BLACKLIST_ENTRY + 1)
        assert await setting("blacklist-add", {"entry": too_long}) == (
            f"⚠️ An entry holds at most {limits.BLACKLIST_ENTRY} characters."
        )
        assert await setting("blacklist-remove", {"entry": "artist:Nobody"}) == (
            "⚠️ artist:Nobody is not on the blacklist."
        )
        assert (await stored())[2] == audits

        # The list by type; the removal completes the guild's entries.
        shown = await slash.embed(alice, "settings", None, subcommand="blacklist-list")
        assert shown["title"] == f"Blacklist (4/{limits.BLACKLIST_ENTRIES})"
        fields = {f["name"]: f["value"] for f in shown["fields"]}
        assert fields == {
            "Artists": "`Harbor Pilots`",
            "Channels": "`Lofi Girl`",
            "Keywords": "`nightcore`",
            "Tracks": f"`{banned.youtube_id}`",
        }
        assert "Blacklist applies to: autoplay only" in shown["description"]
        choices = await slash.choices(
            alice, "settings", {"entry": "harbor"}, "entry", subcommand="blacklist-remove"
        )
        assert [c["value"] for c in choices] == ["artist:Harbor Pilots"]
        # A member who may not change the settings is shown no entries.
        offered = await slash.choices(
            bob, "settings", {"entry": ""}, "entry", subcommand="blacklist-remove"
        )
        assert offered == []
        assert await setting("blacklist-remove", {"entry": choices[0]["value"]}) == (
            "✅ No longer blacklisted: artist:Harbor Pilots"
        )

        # The default scope: /play plays a blacklisted track.
        url = f"https://www.youtube.com/watch?v={banned.youtube_id}"
        assert "Playing" in await slash.text(bob, "play", {"query": url})
        # Scope all: /play refuses it (and queues nothing), another track is queued.
        said = await setting("blacklist-scope", {"scope": "all"})
        assert said == "✅ Saved: blacklist_scope"
        assert (await stored())[1] == "all"
        refused = await slash.text(bob, "play", {"query": url})
        assert refused == (
            f"🚫 **{banned.youtube_title}** is on this server's blacklist "
            f"(track:{banned.youtube_id})."
        )
        other_url = f"https://www.youtube.com/watch?v={other.youtube_id}"
        assert "Queued" in await slash.text(bob, "play", {"query": other_url})

        # A full list is refused with its limit.
        full = [f"keyword:{i}" for i in range(limits.BLACKLIST_ENTRIES)]
        async with engine.begin() as conn:
            await conn.execute(
                ServerConfiguration.__table__.update()
                .where(ServerConfiguration.guild_id == place.guild)
                .values(blacklist=full)
            )
        # (the gateway reads the list in its write transaction, not from the cache)
        assert await setting("blacklist-add", {"entry": "one more"}) == (
            f"⚠️ The blacklist is full ({limits.BLACKLIST_ENTRIES} entries)."
        )
