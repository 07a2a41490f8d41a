"""``backbeat run panel``'s component in a process: settings it needs, the web server on a
free port, readiness, /stats, and a full login through the emulator."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from panel_rig import authorize

from backbeat.config import Settings, load_settings
from backbeat.errors import ConfigurationError
from backbeat.observability.status import StatusServer
from backbeat.panel.component import COMPONENT_FACTORY, PanelComponent
from backbeat.runtime import ProcessContext, component_modules, load_factory
from backbeat.testing.discord import DiscordEmulator


def settings_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **values: str) -> Settings:
    for name in list(os.environ):
        if name.startswith("BACKBEAT_") and not name.startswith("BACKBEAT_TEST_"):
            monkeypatch.delenv(name)
    base = {"STATUS_PORT": "0", "DATA_DIR": str(tmp_path), "PANEL_PORT": "0"}
    for name, value in (base | values).items():
        monkeypatch.setenv(f"BACKBEAT_{name}", value)
    return load_settings(None)


def test_the_panel_is_registered_and_needs_its_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert load_factory("panel", component_modules()["panel"]) is COMPONENT_FACTORY
    with pytest.raises(ConfigurationError, match="BACKBEAT_PANEL_SESSION_SECRET"):
        COMPONENT_FACTORY(settings_from_env(monkeypatch, tmp_path))
    with pytest.raises(ConfigurationError, match="BACKBEAT_PANEL_OAUTH_CLIENT_SECRET"):
        COMPONENT_FACTORY(settings_from_env(monkeypatch, tmp_path, PANEL_SESSION_SECRET="x" * 32))
    with pytest.raises(ConfigurationError, match="BACKBEAT_PANEL_OAUTH_CLIENT_ID"):
        COMPONENT_FACTORY(
            settings_from_env(
                monkeypatch,
                tmp_path,
                PANEL_SESSION_SECRET="x" * 32,
                PANEL_OAUTH_CLIENT_SECRET="y",
            )
        )
    with pytest.raises(ConfigurationError, match="at least 32"):
        settings_from_env(monkeypatch, tmp_path, PANEL_SESSION_SECRET="short")
    with pytest.raises(ConfigurationError, match="BACKBEAT_PANEL_PUBLIC_URL"):
        settings_from_env(monkeypatch, tmp_path, PANEL_PUBLIC_URL="https://x.example/sub")


def test_secrets_are_masked_and_scrubbed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = settings_from_env(
        monkeypatch,
        tmp_path,
        PANEL_SESSION_SECRET="z" * 40,
        PANEL_OAUTH_CLIENT_SECRET="client-secret-value",
    )
    view = settings.public_view()
    assert view["BACKBEAT_PANEL_SESSION_SECRET"] == "********"
    assert view["BACKBEAT_PANEL_OAUTH_CLIENT_SECRET"] == "********"
    assert {"z" * 40, "client-secret-value"} <= set(settings.secrets())


async def test_component_serves_logs_in_reports_ready_and_stops(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with DiscordEmulator(port=0, default_world=True) as emu:
        alice = emu.default_ids["alice"]
        guild = emu.world.guild(emu.default_ids["guild"])
        guild.owner_id = alice
        settings = settings_from_env(
            monkeypatch,
            tmp_path,
            DISCORD_TOKEN=emu.token,
            DISCORD_API_BASE=emu.rest_url,
            PANEL_SESSION_SECRET="q" * 40,
            PANEL_OAUTH_CLIENT_SECRET=emu.oauth.client_secret,
        )
        component = COMPONENT_FACTORY(settings)
        assert isinstance(component, PanelComponent)
        async with StatusServer(port=0) as status:
            process = ProcessContext(settings, status)
            try:
                await component.start(process)
                port = component.port
                assert port
                emu.oauth.register_redirect_uri(f"http://127.0.0.1:{port}/auth/callback")
                async with httpx.AsyncClient(timeout=20.0) as http:
                    ready = await http.get(f"{status.url}/ready")
                    assert ready.status_code == 200
                    assert ready.json()["checks"]["panel.http"] is True
                    stats: Any = (await http.get(f"{status.url}/stats")).json()
                    section = stats["sections"]["panel"]
                    assert section["running"] is True
                    assert section["sessions"] == 0
                    assert section["public_url"] == f"http://127.0.0.1:{port}"
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{port}", timeout=20.0
                ) as browser:
                    start = await browser.get("/login")
                    callback = await authorize(start.headers["location"], alice)
                    done = await browser.get(callback, follow_redirects=True)
                    assert done.status_code == 200
                    assert "Backbeat Sandbox" in done.text
                async with httpx.AsyncClient(timeout=20.0) as http:
                    stats = (await http.get(f"{status.url}/stats")).json()
                    assert stats["sections"]["panel"]["sessions"] == 1
            finally:
                await component.stop()
                await process.close()
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient(timeout=5.0) as http:
                await http.get(f"http://127.0.0.1:{port}/")
