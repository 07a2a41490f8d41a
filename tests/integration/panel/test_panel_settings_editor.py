"""The settings editor: validation messages, premium tier read-only, and every change
written with its AuditLog row, the settings cache key deleted and ``settings-changed`` sent."""

from __future__ import annotations

import asyncio
from typing import Any

from panel_rig import PanelRig, csrf_of, login

from backbeat.db.repositories.audit import AuditRepository
from backbeat.domain.guild_settings import AutoplayMode, BlacklistScope
from backbeat.domain.messages import Channel, Envelope
from backbeat.domain.messages.commands import SettingsChanged
from backbeat.domain.records import AuditSource


def _form(rig: PanelRig, token: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "autoplay_mode": "similar",
        "default_volume": "100",
        "dj_role_id": "",
        "announce_channel_id": "",
        "blacklist": "",
        "vote_skip_ratio": "50",
        "max_queue_per_user": "",
    }
    form.update(changes)
    return form


async def _next_settings_changed(tap: Any) -> SettingsChanged:
    async def first() -> Envelope:
        async for message in tap:
            if isinstance(message, SettingsChanged):
                return message
        raise AssertionError("tap ended")

    message = await asyncio.wait_for(first(), 20)
    assert isinstance(message, SettingsChanged)
    return message


async def test_a_saved_form_writes_audits_invalidates_and_publishes(rig: PanelRig) -> None:
    gid = rig.ids["sandbox"]
    key = rig.keys.guild_settings(gid)
    await rig.cache.set(key, b"stale", ttl_s=3600)
    async with rig.client() as client, rig.bus.tap(Channel.COMMANDS) as tap:
        await login(client, rig.ids["bob"])
        token = await csrf_of(client)
        response = await client.post(
            f"/guilds/{gid}/settings",
            data=_form(
                rig,
                token,
                autoplay_enabled="on",
                autoplay_mode="artist",
                default_volume="150",
                dj_role_id=str(rig.ids["dj"]),
                announce_channel_id=str(rig.ids["music"]),
                twenty_four_seven="on",
                blacklist="rickroll\n  artist:Harbor  Pilots  \nrickroll\nhttps://x.test/a\n",
                blacklist_scope="all",
                vote_skip_ratio="60",
                max_queue_per_user="5",
            ),
        )
        assert response.status_code == 303, response.text
        assert response.headers["location"] == f"/guilds/{gid}/settings?saved=1"
        message = await _next_settings_changed(tap)
        saved = await client.get(response.headers["location"])
        assert "Saved" in saved.text

    settings = await rig.deps.configuration.get(guild_id=gid)
    assert settings.autoplay_enabled
    assert settings.autoplay_mode is AutoplayMode.ARTIST
    assert settings.default_volume == 150
    assert settings.dj_role_id == rig.ids["dj"]
    assert settings.announce_channel_id == rig.ids["music"]
    assert settings.twenty_four_seven
    assert settings.blacklist == (
        "keyword:rickroll",
        "artist:Harbor Pilots",
        "track:https://x.test/a",
    )
    assert settings.blacklist_scope is BlacklistScope.ALL
    assert settings.vote_skip_ratio == 0.6
    assert settings.max_queue_per_user == 5

    assert await rig.cache.get(key) is None
    assert message.guild_id == gid
    assert message.source == "panel"
    assert message.context.user_id == rig.ids["bob"]
    assert set(message.payload.keys) == {
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
    }
    [entry] = await AuditRepository(rig.engine).recent(guild_id=gid)
    assert entry.source is AuditSource.PANEL
    assert entry.action == "settings.update"
    assert entry.actor_id == rig.ids["bob"]
    assert entry.payload["changes"]["default_volume"] == {"from": 100, "to": 150}
    assert entry.payload["changes"]["dj_role_id"] == {"from": None, "to": rig.ids["dj"]}


async def test_invalid_values_get_messages_and_change_nothing(rig: PanelRig) -> None:
    gid = rig.ids["sandbox"]
    other_role = rig.discord.world.create_role(rig.ids["elsewhere"], "Foreign").id
    async with rig.client() as client:
        await login(client, rig.ids["alice"])
        token = await csrf_of(client)
        response = await client.post(
            f"/guilds/{gid}/settings",
            data=_form(
                rig,
                token,
                default_volume="250",
                dj_role_id=str(other_role),
                announce_channel_id=str(rig.ids["lounge"]),
                vote_skip_ratio="abc",
                max_queue_per_user="0",
                autoplay_mode="loud",
                premium_tier="pro",
            ),
        )
        assert response.status_code == 422
        text = response.text
        assert "must be between 0 and 200" in text
        assert "it is not in this server" in text
        assert "must be a whole number" in text
        assert "must be between 1 and 10000" in text
        assert "must be one of similar, artist, genre, mixed" in text
        assert "premium tier cannot be changed" in text
        assert 'aria-invalid="true"' in text
        # The user's input is shown again for correction.
        assert 'value="250"' in text
    settings = await rig.deps.configuration.get(guild_id=gid)
    assert settings.default_volume == 100
    assert settings.premium_tier.value == "free"
    assert await AuditRepository(rig.engine).recent(guild_id=gid) == []


async def test_premium_tier_is_shown_not_editable(rig: PanelRig) -> None:
    gid = rig.ids["sandbox"]
    await rig.deps.configuration.update(guild_id=gid, premium_tier="plus")
    async with rig.client() as client:
        await login(client, rig.ids["alice"])
        page = await client.get(f"/guilds/{gid}/settings")
        assert 'id="premium">plus<' in page.text
        assert 'name="premium_tier"' not in page.text
        token = await csrf_of(client)
        patch = await client.patch(
            f"/api/guilds/{gid}/settings",
            json={"premium_tier": "pro"},
            headers={"X-CSRF-Token": token},
        )
        assert patch.status_code == 422
        assert "premium_tier" in patch.json()["fields"]
    assert (await rig.deps.configuration.get(guild_id=gid)).premium_tier.value == "plus"


async def test_the_page_offers_the_guilds_roles_and_text_channels(rig: PanelRig) -> None:
    gid = rig.ids["sandbox"]
    async with rig.client() as client:
        await login(client, rig.ids["alice"])
        page = (await client.get(f"/guilds/{gid}/settings")).text
    assert f'value="{rig.ids["dj"]}"' in page
    assert f'value="{rig.ids["mods"]}"' in page
    assert f'<option value="{gid}"' not in page  # @everyone is not a DJ role
    assert f'value="{rig.ids["music"]}"' in page
    assert f'value="{rig.ids["lounge"]}"' not in page  # voice channels do not announce


async def test_missing_or_wrong_csrf_token_is_refused(rig: PanelRig) -> None:
    gid = rig.ids["sandbox"]
    async with rig.client() as client:
        await login(client, rig.ids["alice"])
        form = _form(rig, "", default_volume="10")
        del form["csrf_token"]
        missing = await client.post(f"/guilds/{gid}/settings", data=form)
        assert missing.status_code == 403
        wrong = await client.post(f"/guilds/{gid}/settings", data={**form, "csrf_token": "x"})
        assert wrong.status_code == 403
        no_header = await client.patch(f"/api/guilds/{gid}/settings", json={"default_volume": 10})
        assert no_header.status_code == 403
        token = await csrf_of(client)
        cross_site = await client.post(
            f"/guilds/{gid}/settings",
            data={**form, "csrf_token": token},
            headers={"Origin": "https://evil.example"},
        )
        assert cross_site.status_code == 403
    assert (await rig.deps.configuration.get(guild_id=gid)).default_volume == 100


async def test_json_api_patches_only_what_it_sends(rig: PanelRig) -> None:
    gid = rig.ids["sandbox"]
    async with rig.client() as client, rig.bus.tap(Channel.COMMANDS) as tap:
        await login(client, rig.ids["dave"])
        token = await csrf_of(client)
        response = await client.patch(
            f"/api/guilds/{gid}/settings",
            json={"vote_skip_ratio": 0.25, "dj_role_id": str(rig.ids["dj"])},
            headers={"X-CSRF-Token": token},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["vote_skip_ratio"] == 0.25
        assert body["dj_role_id"] == str(rig.ids["dj"])
        assert body["default_volume"] == 100
        message = await _next_settings_changed(tap)
        assert sorted(message.payload.keys) == ["dj_role_id", "vote_skip_ratio"]
        invalid = await client.patch(
            f"/api/guilds/{gid}/settings",
            json={"vote_skip_ratio": 2, "default_volume": True},
            headers={"X-CSRF-Token": token},
        )
        assert invalid.status_code == 422
        assert set(invalid.json()["fields"]) == {"vote_skip_ratio", "default_volume"}


async def test_saving_unchanged_settings_audits_and_publishes_nothing(rig: PanelRig) -> None:
    gid = rig.ids["sandbox"]
    async with rig.client() as client:
        await login(client, rig.ids["alice"])
        token = await csrf_of(client)
        response = await client.post(f"/guilds/{gid}/settings", data=_form(rig, token))
        assert response.status_code == 303
    assert await AuditRepository(rig.engine).recent(guild_id=gid) == []


async def test_bad_blacklist_lines_are_named_and_nothing_is_written(rig: PanelRig) -> None:
    gid = rig.ids["sandbox"]
    async with rig.client() as client:
        await login(client, rig.ids["bob"])
        token = await csrf_of(client)
        page = await client.get(f"/guilds/{gid}/settings")
        assert 'id="blacklist_scope"' in page.text
        assert "<code>artist:Name</code>" in page.text
        response = await client.post(
            f"/guilds/{gid}/settings",
            data=_form(
                rig, token, blacklist="artist:Ok\ngenre:lofi\nchannel:", blacklist_scope="x"
            ),
        )
        assert response.status_code == 422
        assert "line 2: unknown entry type &#39;genre&#39;" in response.text
        assert "line 3: the entry is empty" in response.text
        assert "must be one of autoplay, all" in response.text
        assert "genre:lofi" in response.text  # the user's text is kept in the form
        api = await client.get(f"/api/guilds/{gid}/settings")
        assert api.json()["blacklist"] == []
        assert api.json()["blacklist_scope"] == "autoplay"
        patched = await client.patch(
            f"/api/guilds/{gid}/settings",
            json={"blacklist": ["channel:Lofi Girl"], "blacklist_scope": "all"},
            headers={"X-CSRF-Token": token},
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["blacklist"] == ["channel:Lofi Girl"]
    settings = await rig.deps.configuration.get(guild_id=gid)
    assert settings.blacklist == ("channel:Lofi Girl",)
    assert settings.blacklist_scope is BlacklistScope.ALL
