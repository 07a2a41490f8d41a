"""The sandbox page in headless Chromium, used as a person would, by keyboard where it can be:
join a voice channel, ``/play lofi`` through the command box's autocomplete, see the
now-playing message and the Lavalink player, pause with the message's button, queue tracks
(one through a select menu), set a filter, then switch to a member without rights and be
refused; and the page at phone width.

Screenshots go to ``BACKBEAT_SANDBOX_SCREENSHOTS`` when set (``docs/images`` refreshes the
documentation's), else to the test's temporary directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "sandbox"))

from sandbox_rig import running_sandbox

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
WAIT_MS = 60_000

NOW_PLAYING = 'li.message[data-ephemeral="false"]:has(.embed)'
PAUSE = 'button[data-custom-id^="bb:pause:"]'
RESUME = 'button[data-custom-id^="bb:resume:"]'


def _shots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("BACKBEAT_SANDBOX_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


async def _sent(page: Any, *, within_ms: float = WAIT_MS) -> bool:
    """True once the command box is empty again (the page clears it when the command went)."""
    try:
        await expect(page.locator("#command")).to_have_value("", timeout=within_ms)
    except AssertionError:
        return False
    return True


async def _act_as(page: Any, name: str) -> None:
    """Switch to ``name`` and wait until the messages shown are that user's view."""
    label = page.locator(f'label[data-user="{name}"]')
    user_id = await label.locator("input").get_attribute("value")
    await label.click()
    await page.locator(f'#messages[data-viewer="{user_id}"]').wait_for(state="attached")


async def _command(page: Any, text: str) -> None:
    """Type a command and press Enter until it is sent (a first Enter may take a suggestion)."""
    box = page.locator("#command")
    await box.fill("")
    await box.type(text)
    for _ in range(3):
        await box.press("Enter")
        if await _sent(page, within_ms=5_000):
            return
    raise AssertionError(f"{text!r} was not sent: {await box.input_value()!r}")


async def test_play_pause_queue_and_a_denial_in_the_sandbox_page(
    browser: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shots = _shots(tmp_path)
    async with running_sandbox(monkeypatch, tmp_path / "data") as line:
        context = await browser.new_context(viewport=DESKTOP)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.set_default_timeout(WAIT_MS)
        await page.goto(line["sandbox"])
        await page.wait_for_selector("#live.on")  # the event stream is connected
        assert await page.locator('label[data-user="alice"] .badge').inner_text() == "manager"

        # Join the Lounge by keyboard.
        join = page.locator('[data-channel="Lounge"] button[data-voice]')
        assert await join.inner_text() == "Join"
        await join.focus()
        await page.keyboard.press("Enter")
        await page.locator('[data-channel="Lounge"] .members li', has_text="alice").wait_for()

        # "/pl" suggests /play from the synced commands; Enter takes it.
        box = page.locator("#command")
        await box.focus()
        await page.keyboard.type("/pl")
        first = page.locator("#suggestions li").first
        await first.wait_for()
        assert (await first.inner_text()).startswith("/play")
        await page.keyboard.press("Enter")
        assert await box.input_value() == "/play "

        # The query is asked of the bot's autocomplete as alice; Enter takes its first
        # suggestion (a catalogue link under a readable name), Enter again sends.
        await page.keyboard.type("lofi")
        answer = page.locator("#suggestions li:not(.pending)").first
        await answer.wait_for()
        await page.screenshot(path=str(shots / "sandbox-autocomplete.png"))
        assert await answer.get_attribute("aria-disabled") is None, await answer.inner_text()
        picked = await answer.inner_text()
        assert "lofi" in picked.lower()
        await page.keyboard.press("Enter")
        assert await box.input_value() == f"/play {picked}"
        await page.keyboard.press("Enter")
        assert await _sent(page)

        # The now-playing message, for everyone; the acknowledgement, for alice only.
        message = page.locator(NOW_PLAYING).last
        await message.wait_for()
        assert "lofi" in (await message.inner_text()).lower()
        await page.locator(
            'li.message[data-ephemeral="true"]', has_text="Only you can see this"
        ).first.wait_for()
        assert await message.locator(".embed img").count() >= 1  # the cover, served locally

        # The player beside it: playing the track in the Lounge, its position moving.
        player = page.locator("#player")
        await page.locator('#player[data-state="playing"]').wait_for()
        assert "lofi" in (await page.locator("#player-title").inner_text()).lower()
        assert "Lounge" in await page.locator("#player-voice").inner_text()
        assert await page.locator("#player-volume").inner_text() == "100%"
        before = await page.locator("#player-position").inner_text()
        await page.wait_for_function(
            "before => document.getElementById('player-position').textContent !== before",
            arg=before,
        )
        await page.screenshot(path=str(shots / "sandbox-playing.png"))

        # Pause with the message's button: the player pauses, the message offers resume.
        await message.locator(PAUSE).click()
        await page.locator('#player[data-state="paused"]').wait_for()
        await message.locator(f"{RESUME}:not([disabled])").wait_for()
        assert await page.locator("#player-state").inner_text() == "paused"
        paused_at = await page.locator("#player-position").inner_text()
        await page.wait_for_timeout(1500)
        assert await page.locator("#player-position").inner_text() == paused_at
        await page.screenshot(path=str(shots / "sandbox-paused.png"))

        # A second track joins the queue, a third through /search's select menu; /queue
        # shows them (to alice only).
        await _command(page, "/play jazz")
        await page.locator("li.message", has_text="Queued").first.wait_for()
        await _command(page, "/search jazz")
        menu = page.locator('li.message[data-ephemeral="true"] select[data-custom-id]').last
        await menu.wait_for()
        options = await menu.locator("option:not([disabled])").all_inner_texts()
        assert len(options) >= 2
        await menu.select_option(index=2)  # the second track (index 0 is the placeholder)
        await page.locator("li.message", has_text="at position 2").first.wait_for()
        await _command(page, "/queue")
        queue = page.locator('li.message[data-ephemeral="true"] .embed', has_text="Queue")
        await queue.last.wait_for()
        assert "2 tracks" in await queue.last.inner_text()
        await page.screenshot(path=str(shots / "sandbox-queue.png"))

        # A filter preset from the option's choices reaches the player.
        await _command(page, "/filters nightcore")
        await expect(page.locator("#player-filters")).to_contain_text("timescale", timeout=WAIT_MS)

        # bob: no server manager, not in the voice channel. He does not see alice's
        # ephemeral replies; the controls and /settings refuse him, to him only.
        await _act_as(page, "bob")
        await page.locator(f"{NOW_PLAYING} {RESUME}").last.wait_for()
        assert await page.locator('li.message[data-ephemeral="true"]').count() == 0
        await page.locator(NOW_PLAYING).last.locator(RESUME).click()
        denial = page.locator('li.message[data-ephemeral="true"]', has_text="voice channel")
        await denial.first.wait_for()
        assert "Only you can see this" in await denial.first.inner_text()
        assert await player.get_attribute("data-state") == "paused"  # nothing changed
        await _command(page, "/settings show")
        refused = page.locator('li.message[data-ephemeral="true"]', has_text="server managers")
        await refused.first.wait_for()
        await page.screenshot(path=str(shots / "sandbox-denied.png"))

        # Back to alice: her own replies are there again, bob's are not.
        await _act_as(page, "alice")
        await page.locator('li.message[data-ephemeral="true"]', has_text="Queue").first.wait_for()
        assert await page.locator("li.message", has_text="server managers").count() == 0

        # Escape closes the suggestions; alice leaves the Lounge by keyboard.
        await box.focus()
        await page.keyboard.type("/vol")
        await page.locator("#suggestions li").first.wait_for()
        await page.keyboard.press("Escape")
        await expect(page.locator("#suggestions")).to_be_hidden()
        await box.fill("")
        leave = page.locator('[data-channel="Lounge"] button[data-voice]')
        assert await leave.inner_text() == "Leave"
        await leave.focus()
        await page.keyboard.press("Enter")
        await expect(page.locator('[data-channel="Lounge"] .members')).not_to_contain_text(
            "alice", timeout=WAIT_MS
        )
        await expect(leave).to_have_text("Join")

        # Phone width: nothing wider than the screen, the command box reachable.
        await page.set_viewport_size(PHONE)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        await box.scroll_into_view_if_needed()
        assert await box.is_visible()
        await page.screenshot(path=str(shots / "sandbox-phone.png"), full_page=True)
        assert errors == []
        await context.close()
