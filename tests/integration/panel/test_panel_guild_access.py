"""Guild access: only guilds the user manages (owner, MANAGE_GUILD, ADMINISTRATOR) where the
bot is; 403 on every page and API route otherwise; Discord answers cached; writes re-checked."""

from __future__ import annotations

import httpx
import pytest
import structlog
from panel_rig import PanelRig, csrf_of, login

from backbeat.observability.metrics import REGISTRY


def _refused(reason: str) -> float:
    value = REGISTRY.get_sample_value("panel_access_refused_total", {"reason": reason})
    return value or 0.0


PAGES = ("/guilds/{gid}", "/guilds/{gid}/settings")
APIS = ("/api/guilds/{gid}", "/api/guilds/{gid}/settings")


async def _names(client: httpx.AsyncClient) -> list[str]:
    response = await client.get("/api/guilds")
    assert response.status_code == 200, response.text
    return [guild["name"] for guild in response.json()["guilds"]]


@pytest.mark.parametrize(
    ("user", "expected"),
    [("alice", ["Sandbox"]), ("bob", ["Sandbox"]), ("dave", ["Sandbox"]), ("carol", [])],
)
async def test_guild_list_holds_only_managed_guilds_with_the_bot(
    rig: PanelRig, user: str, expected: list[str]
) -> None:
    async with rig.client() as client:
        await login(client, rig.ids[user])
        assert await _names(client) == expected
        page = await client.get("/guilds")
        assert page.status_code == 200
        for name in ("Elsewhere", "Botless"):
            assert name not in page.text
        assert ("Sandbox" in page.text) == bool(expected)


async def _assert_refused_everywhere(client: httpx.AsyncClient, guild_id: int) -> None:
    for template in PAGES:
        page = await client.get(template.format(gid=guild_id))
        assert page.status_code == 403, template
        assert "text/html" in page.headers["content-type"]
    for template in APIS:
        api = await client.get(template.format(gid=guild_id))
        assert api.status_code == 403, template
        assert api.json()["error"] == "Not allowed"
    token = await csrf_of(client)
    form = await client.post(
        f"/guilds/{guild_id}/settings", data={"csrf_token": token, "default_volume": "50"}
    )
    assert form.status_code == 403
    patch = await client.patch(
        f"/api/guilds/{guild_id}/settings",
        json={"default_volume": 50},
        headers={"X-CSRF-Token": token},
    )
    assert patch.status_code == 403


async def test_every_guild_route_refuses_a_member_who_does_not_manage(rig: PanelRig) -> None:
    async with rig.client() as client:
        await login(client, rig.ids["carol"])
        before = _refused("not_manager")
        with structlog.testing.capture_logs() as logs:
            await _assert_refused_everywhere(client, rig.ids["sandbox"])
        assert _refused("not_manager") - before == 6
        refusals = [entry for entry in logs if entry["event"] == "panel access refused"]
        assert refusals
        assert refusals[0]["guild_id"] == rig.ids["sandbox"]
        assert refusals[0]["user_id"] == rig.ids["carol"]
    settings = await rig.deps.configuration.get(guild_id=rig.ids["sandbox"])
    assert settings.default_volume == 100


async def test_guilds_without_management_or_without_the_bot_are_refused(rig: PanelRig) -> None:
    async with rig.client() as client:
        await login(client, rig.ids["alice"])
        await _assert_refused_everywhere(client, rig.ids["elsewhere"])
        await _assert_refused_everywhere(client, rig.ids["botless"])
        await _assert_refused_everywhere(client, 1234567890123)


async def test_logged_out_users_are_sent_to_login_or_get_401(rig: PanelRig) -> None:
    gid = rig.ids["sandbox"]
    async with rig.client() as client:
        for template in ("/guilds", *PAGES):
            page = await client.get(template.format(gid=gid))
            assert page.status_code == 303
            assert page.headers["location"].startswith("/login?next=/guilds")
        for template in ("/api/guilds", "/api/me", *APIS):
            api = await client.get(template.format(gid=gid))
            assert api.status_code == 401
        post = await client.post(f"/guilds/{gid}/settings", data={"default_volume": "5"})
        assert post.status_code == 401
        patch = await client.patch(f"/api/guilds/{gid}/settings", json={"default_volume": 5})
        assert patch.status_code == 401


async def test_page_loads_reuse_discords_answers(rig: PanelRig) -> None:
    def user_guild_calls() -> int:
        return sum(
            1 for entry in rig.discord.rest.requests if entry["route"] == "GET /users/@me/guilds"
        )

    async with rig.client() as client:
        await login(client, rig.ids["alice"])
        before = user_guild_calls()
        for _ in range(5):
            assert (await client.get("/guilds")).status_code == 200
            assert (await client.get(f"/guilds/{rig.ids['sandbox']}")).status_code == 200
        # One answer for the user's guilds and one for the bot's, then the cache.
        assert user_guild_calls() - before == 2
        rig.clock.advance(rig.deps.settings.panel_discord_cache_s + 1)
        assert (await client.get("/guilds")).status_code == 200
        assert user_guild_calls() - before == 3


async def test_writes_recheck_the_permission_with_discord(rig: PanelRig) -> None:
    gid = rig.ids["sandbox"]
    async with rig.client() as client:
        await login(client, rig.ids["bob"])
        assert (await client.get(f"/guilds/{gid}/settings")).status_code == 200
        token = await csrf_of(client)
        # Bob loses the Mods role on Discord; the session's cached list still shows the guild.
        rig.discord.world.member(gid, rig.ids["bob"]).roles.clear()
        before = _refused("permission_gone")
        assert "Sandbox" in (await client.get("/guilds")).text
        refused = await client.patch(
            f"/api/guilds/{gid}/settings",
            json={"default_volume": 42},
            headers={"X-CSRF-Token": token},
        )
        assert refused.status_code == 403
        assert _refused("permission_gone") - before == 1
    assert (await rig.deps.configuration.get(guild_id=gid)).default_volume == 100


async def test_overview_shows_presence_voice_now_playing_and_settings(rig: PanelRig) -> None:
    from backbeat.db.repositories.queue import QueueRepository
    from backbeat.domain.queue import NewQueueItem, QueueTrack

    gid = rig.ids["sandbox"]
    queues = QueueRepository(rig.engine)
    await queues.append(
        guild_id=gid,
        item=NewQueueItem(
            QueueTrack(encoded="e1", identifier="i1", title="First Song", author="A")
        ),
    )
    await queues.set_session(guild_id=gid, voice_channel_id=rig.ids["lounge"], paused=True)
    await rig.deps.configuration.update(
        guild_id=gid, dj_role_id=rig.ids["dj"], announce_channel_id=rig.ids["music"]
    )
    async with rig.client() as client:
        await login(client, rig.ids["alice"])
        page = await client.get(f"/guilds/{gid}")
        assert page.status_code == 200
        assert "First Song — A (paused)" in page.text
        assert "present" in page.text
        assert "in Lounge" in page.text
        assert "<dd>DJ</dd>" in page.text
        assert "#music" in page.text
        api = (await client.get(f"/api/guilds/{gid}")).json()
        assert api["now_playing"] == {"title": "First Song", "author": "A"}
        assert api["voice_channel_id"] == str(rig.ids["lounge"])
        assert api["paused"] is True
        assert api["settings"]["premium_tier"] == "free"
