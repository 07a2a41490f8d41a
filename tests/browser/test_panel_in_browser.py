"""The panel in headless Chromium: log in through the emulator's OAuth page, see only
manageable guilds, change a setting, get 403 on another guild; at phone width and by keyboard.

Screenshots of each page go to ``BACKBEAT_PANEL_SCREENSHOTS`` when set (``docs/images`` to
refresh the documentation's), else to the test's temporary directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from panel_rig import PanelRig

from backbeat.db.repositories.audit import AuditRepository
from backbeat.db.repositories.queue import QueueRepository
from backbeat.domain.guild_settings import BlacklistScope
from backbeat.domain.queue import NewQueueItem, QueueTrack

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1100, "height": 800}


def _shots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("BACKBEAT_PANEL_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


async def test_login_choose_a_guild_and_change_a_setting(
    rig: PanelRig, browser: Any, tmp_path: Path
) -> None:
    shots = _shots(tmp_path)
    gid = rig.ids["sandbox"]
    queues = QueueRepository(rig.engine)
    for title in ("Midnight City", "Intro"):
        track = QueueTrack(encoded=title, identifier=title, title=title, author="M83")
        await queues.append(guild_id=gid, item=NewQueueItem(track))
    await queues.set_session(guild_id=gid, voice_channel_id=rig.ids["lounge"])
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    await page.goto(rig.url + "/")
    await page.screenshot(path=str(shots / "panel-index.png"), full_page=True)

    await page.get_by_role("link", name="Log in with Discord").click()
    await page.wait_for_url(f"{rig.discord.oauth_url}*")
    await page.screenshot(path=str(shots / "panel-discord-authorize.png"), full_page=True)
    await page.get_by_role("button", name="Log in as bob").click()

    await page.wait_for_url(f"{rig.url}/guilds")
    cards = page.locator(".card h2")
    assert await cards.all_inner_texts() == ["Sandbox"]
    assert await page.get_by_text("Elsewhere").count() == 0
    await page.screenshot(path=str(shots / "panel-guilds.png"), full_page=True)

    await page.get_by_role("link", name="Sandbox").click()
    await page.wait_for_url(f"{rig.url}/guilds/{gid}")
    assert "Midnight City — M83" in await page.locator(".facts").first.inner_text()
    await page.screenshot(path=str(shots / "panel-overview.png"), full_page=True)

    await page.get_by_role("link", name="Edit settings").click()
    await page.wait_for_url(f"{rig.url}/guilds/{gid}/settings")
    # The autoplay mode is disabled by the page's script while autoplay is off.
    assert await page.locator("#autoplay_mode").is_disabled()
    await page.get_by_label("Keep playing similar music").check()
    assert await page.locator("#autoplay_mode").is_enabled()
    await page.get_by_label("DJ role").select_option(label="DJ")
    await page.get_by_label("Default volume").fill("150")
    # The blacklist takes typed entries, one a line, and says where it applies.
    await page.get_by_label("Entries, one per line").fill("artist:Harbor Pilots\nnightcore")
    await page.get_by_label("Applies to").select_option(value="all")
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_url(f"{rig.url}/guilds/{gid}/settings?saved=1")
    assert await page.get_by_role("status").inner_text() == (
        "Saved. Backbeat applies the change at once."
    )
    await page.screenshot(path=str(shots / "panel-settings.png"), full_page=True)
    settings = await rig.deps.configuration.get(guild_id=gid)
    assert settings.dj_role_id == rig.ids["dj"]
    assert settings.default_volume == 150
    assert settings.autoplay_enabled
    assert settings.blacklist == ("artist:Harbor Pilots", "keyword:nightcore")
    assert settings.blacklist_scope is BlacklistScope.ALL
    assert await page.get_by_label("Entries, one per line").input_value() == (
        "artist:Harbor Pilots\nkeyword:nightcore"
    )
    [entry] = await AuditRepository(rig.engine).recent(guild_id=gid)
    assert entry.actor_id == rig.ids["bob"]

    await page.get_by_label("Default volume").fill("999")
    await page.get_by_label("Entries, one per line").fill("genre:lofi")
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_selector("#default_volume-error")
    assert "between 0 and 200" in await page.locator("#default_volume-error").inner_text()
    assert (
        "line 1: unknown entry type 'genre'" in await page.locator("#blacklist-error").inner_text()
    )
    # Focus moves to the invalid field.
    assert await page.evaluate("document.activeElement.id") == "default_volume"
    await page.screenshot(path=str(shots / "panel-settings-errors.png"), full_page=True)

    response = await page.goto(f"{rig.url}/guilds/{rig.ids['elsewhere']}")
    assert response is not None
    assert response.status == 403
    await page.screenshot(path=str(shots / "panel-forbidden.png"), full_page=True)
    api = await page.goto(f"{rig.url}/api/guilds/{rig.ids['elsewhere']}/settings")
    assert api is not None
    assert api.status == 403

    assert not [text for text in problems if "Content Security Policy" in text], problems
    await context.close()


async def test_phone_width_and_keyboard(rig: PanelRig, browser: Any, tmp_path: Path) -> None:
    shots = _shots(tmp_path)
    gid = rig.ids["sandbox"]
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await page.goto(f"{rig.url}/login?next=/guilds/{gid}/settings")
    await page.get_by_role("button", name="Log in as alice").click()
    await page.wait_for_url(f"{rig.url}/guilds/{gid}/settings")
    # Nothing is wider than the phone's screen.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    await page.screenshot(path=str(shots / "panel-settings-phone.png"), full_page=True)

    # By keyboard: the skip link comes first, then the form can be filled and sent.
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
    await page.keyboard.press("Enter")
    await page.locator("#twenty_four_seven").focus()
    await page.keyboard.press("Space")
    await page.locator("button[type=submit].button").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{rig.url}/guilds/{gid}/settings?saved=1")
    assert (await rig.deps.configuration.get(guild_id=gid)).twenty_four_seven
    await context.close()
