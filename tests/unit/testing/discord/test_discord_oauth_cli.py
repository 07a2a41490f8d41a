"""The emulator's command line allows OAuth2 redirect URIs and prints the client's secret."""

from __future__ import annotations

import asyncio
import json
import sys

import httpx
import pytest


async def test_command_line_registers_redirect_uris_and_prints_oauth_details() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backbeat.testing.discord",
        "--port",
        "0",
        "--oauth-redirect-uri",
        "http://127.0.0.1:8080/auth/callback",
        "--oauth-client-secret",
        "sandbox-secret",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        assert line["oauth"].endswith("/oauth2/authorize")
        assert line["oauth_client_secret"] == "sandbox-secret"
        params = {
            "client_id": line["oauth_client_id"],
            "response_type": "code",
            "scope": "identify guilds",
            "code_challenge": "A" * 43,
            "code_challenge_method": "S256",
        }
        async with httpx.AsyncClient(timeout=20.0) as http:
            allowed = await http.get(
                line["oauth"],
                params={**params, "redirect_uri": "http://127.0.0.1:8080/auth/callback"},
            )
            assert allowed.status_code == 200
            assert "Log in as alice" in allowed.text
            other = await http.get(
                line["oauth"], params={**params, "redirect_uri": "http://127.0.0.1:9/cb"}
            )
            assert other.status_code == 400
    finally:
        process.terminate()
        await process.wait()


async def test_control_api_registers_redirect_uris() -> None:
    from backbeat.testing.discord import ControlError, DiscordEmulator

    async with DiscordEmulator(port=0) as emu:
        state = await emu.control.oauth()
        assert state == {
            "client_id": str(emu.bot_user_id),
            "client_secret": emu.oauth.client_secret,
            "redirect_uris": [],
        }
        state = await emu.control.register_redirect_uri("http://127.0.0.1:1/auth/callback")
        assert state["redirect_uris"] == ["http://127.0.0.1:1/auth/callback"]
        assert "http://127.0.0.1:1/auth/callback" in emu.oauth.redirect_uris
        with pytest.raises(ControlError) as refused:
            await emu.control.register_redirect_uri("not a url")
        assert refused.value.status == 400
