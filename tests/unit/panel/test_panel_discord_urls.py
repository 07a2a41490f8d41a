"""Where the panel sends browsers and codes: Discord's authorize page and token endpoint."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from backbeat.panel.discord_api import authorize_url, login_redirect


def test_authorize_url_follows_the_api_base() -> None:
    assert authorize_url("https://discord.com/api/v10") == "https://discord.com/oauth2/authorize"
    assert authorize_url("https://discord.com/api") == "https://discord.com/oauth2/authorize"
    assert authorize_url("http://127.0.0.1:5005/api/v10/") == (
        "http://127.0.0.1:5005/oauth2/authorize"
    )


def test_login_redirect_carries_state_pkce_and_scopes() -> None:
    url = login_redirect(
        "https://discord.com/api/v10",
        client_id=42,
        redirect_uri="https://panel.example/auth/callback",
        state="st",
        challenge="c" * 43,
    )
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://discord.com/oauth2/authorize"
    assert query == {
        "response_type": "code",
        "client_id": "42",
        "redirect_uri": "https://panel.example/auth/callback",
        "scope": "identify guilds",
        "state": "st",
        "code_challenge": "c" * 43,
        "code_challenge_method": "S256",
    }
