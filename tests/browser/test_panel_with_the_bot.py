"""The panel beside the running bot (gateway and audio in one process, both emulators):
a manager logs in through the emulator's OAuth page and sets a DJ role in the browser, and
at once a member without the role is refused player controls and ``/skip`` in Discord."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gateway_audio_rig import Slash, audio_rig, emulator_pair, environment, playing_title
from gateway_harness import make_place, until

from backbeat.config import PanelSettings
from backbeat.domain.permissions import MANAGE_GUILD
from backbeat.gateway.discord_endpoints import discord_py_endpoints
from backbeat.panel.component import PanelComponent

pytestmark = pytest.mark.slow


async def test_a_dj_role_set_in_the_panel_gates_discord_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, browser: Any
) -> None:
    async with emulator_pair() as (emu, node):
        settings = environment(monkeypatch, tmp_path, emu, node)
        panel_settings = PanelSettings(
            _env_file=None,  # type: ignore[call-arg]
            panel_port=0,
            panel_session_secret="p" * 40,
            panel_oauth_client_secret=emu.oauth.client_secret,
        )
        settings = settings.model_copy(update={"panel": panel_settings})
        place = await make_place(emu)
        control = emu.control
        managers = await control.create_role(place.guild, "Managers", permissions=MANAGE_GUILD)
        dj = int((await control.create_role(place.guild, "DJ"))["id"])
        dave = int((await control.create_user("dave"))["id"])
        await control.put_member(place.guild, place.alice, roles=[int(managers["id"])])
        await control.put_member(place.guild, dave)
        for user in (place.bob, dave):
            await control.move_voice(place.guild, user, place.voice)
        with discord_py_endpoints(emu.rest_url, emu.gateway_url):
            async with audio_rig(settings, emu, node) as rig:
                panel = PanelComponent(settings)
                try:
                    await panel.start(rig.process)
                    url = f"http://127.0.0.1:{panel.port}"
                    emu.oauth.register_redirect_uri(f"{url}/auth/callback")
                    slash = Slash(emu, place)
                    assert "Playing" in await slash.text(place.bob, "play", {"query": "house"})
                    assert "Queued" in await slash.text(place.bob, "play", {"query": "techno"})
                    await until(lambda: playing_title(rig.lavalink, place.guild), within=30)
                    # No DJ role yet: everyone in the channel controls the player.
                    assert "Paused" in await slash.text(dave, "pause")
                    assert "Resumed" in await slash.text(dave, "resume")

                    context = await browser.new_context()
                    page = await context.new_page()
                    await page.goto(f"{url}/guilds/{place.guild}/settings")
                    await page.get_by_role("button", name="Log in as alice").click()
                    await page.wait_for_url(f"{url}/guilds/{place.guild}/settings")
                    await page.get_by_label("DJ role").select_option(label="DJ")
                    await page.get_by_role("button", name="Save").click()
                    await page.wait_for_url(f"{url}/guilds/{place.guild}/settings?saved=1")
                    await context.close()

                    denied = await slash.text(dave, "pause")
                    assert denied == (
                        f"🎧 Only members with the DJ role (<@&{dj}>) can do that here."
                    )
                    skip = await slash.text(dave, "skip")
                    assert skip.startswith("🗳️ Only the requester or a DJ"), skip
                    # The requester still skips their own track.
                    assert "Skipped" in await slash.text(place.bob, "skip")
                finally:
                    await panel.stop()
