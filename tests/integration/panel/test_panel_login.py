"""Discord login against the emulator: the happy path, and every way it must refuse."""

from __future__ import annotations

import html
import re

import httpx
from panel_rig import (
    PanelRig,
    authorize,
    csrf_of,
    login,
    query_of,
    start_login,
)
from sqlalchemy import func, select

from backbeat.db.models import PanelLogin, PanelSession
from backbeat.observability.metrics import REGISTRY
from backbeat.panel.auth import LOGIN_COOKIE, SESSION_COOKIE


def _set_cookie_headers(response: httpx.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


async def test_login_sends_state_and_pkce_and_sets_a_safe_cookie(rig: PanelRig) -> None:
    async with rig.client() as client:
        authorize_url = await start_login(client)
        params = query_of(authorize_url)
        assert authorize_url.startswith(rig.discord.oauth_url)
        assert params["code_challenge_method"] == "S256"
        assert len(params["code_challenge"]) == 43
        assert len(params["state"]) >= 32
        assert params["redirect_uri"] == f"{rig.url}/auth/callback"
        assert params["client_id"] == str(rig.discord.oauth.client_id)

        callback = await authorize(authorize_url, rig.ids["alice"])
        response = await client.get(callback)
        assert response.status_code == 303
        assert response.headers["location"] == "/guilds"
        cookie = next(c for c in _set_cookie_headers(response) if c.startswith(SESSION_COOKIE))
        lowered = cookie.lower()
        assert "httponly" in lowered
        assert "samesite=lax" in lowered
        assert "secure" not in lowered  # the public URL is http here
        assert "path=/" in lowered
        # The OAuth tokens never reach the browser: only the session cookie is set.
        assert all(rig.discord.oauth.client_secret not in c for c in _set_cookie_headers(response))

        me = await client.get("/api/me")
        assert me.status_code == 200
        assert me.json()["username"] == "alice"
        page = await client.get("/guilds")
        assert page.status_code == 200
        assert "alice" in page.text
        async with rig.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(PanelSession.id, PanelSession.access_token, PanelSession.refresh_token)
                )
            ).one()
        # Discord's tokens stay on the server; the cookie is not the stored id (a digest).
        for text in (me.text, page.text, *_set_cookie_headers(response)):
            assert row.access_token not in text
            assert row.refresh_token not in text
        assert client.cookies.get(SESSION_COOKIE) != row.id


async def test_next_path_is_kept_but_never_an_open_redirect(rig: PanelRig) -> None:
    target = f"/guilds/{rig.ids['sandbox']}/settings"
    async with rig.client() as client:
        callback = await authorize(await start_login(client, target), rig.ids["alice"])
        response = await client.get(callback)
        assert response.headers["location"] == target
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        async with rig.client() as client:
            callback = await authorize(await start_login(client, evil), rig.ids["alice"])
            response = await client.get(callback)
            assert response.status_code == 303
            assert response.headers["location"] == "/guilds", evil


async def test_replayed_state_is_refused(rig: PanelRig) -> None:
    async with rig.client() as client:
        callback = await authorize(await start_login(client), rig.ids["alice"])
        first = await client.get(callback)
        assert first.status_code == 303
        labels = {"outcome": "invalid_state"}
        before = REGISTRY.get_sample_value("panel_logins_total", labels) or 0.0
        again = await client.get(callback)
        assert again.status_code == 400
        assert "already used" in again.text
        assert REGISTRY.get_sample_value("panel_logins_total", labels) == before + 1


async def test_wrong_state_is_refused_and_no_session_made(rig: PanelRig) -> None:
    async with rig.client() as client:
        callback = await authorize(await start_login(client), rig.ids["alice"])
        params = query_of(callback)
        forged = f"/auth/callback?code={params['code']}&state=not-the-state"
        response = await client.get(forged)
        assert response.status_code == 400
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
        missing = await client.get(f"/auth/callback?code={params['code']}")
        assert missing.status_code == 400
    async with rig.engine.connect() as connection:
        sessions = await connection.scalar(select(func.count()).select_from(PanelSession))
    assert sessions == 0


async def test_callback_in_another_browser_is_refused(rig: PanelRig) -> None:
    async with rig.client() as victim, rig.client() as attacker:
        callback = await authorize(await start_login(attacker), rig.ids["alice"])
        response = await victim.get(callback)
        assert response.status_code == 400
        assert "another browser" in response.text


async def test_wrong_pkce_verifier_is_refused_by_discord(rig: PanelRig) -> None:
    async with rig.client() as client:
        callback = await authorize(await start_login(client), rig.ids["alice"])
        # Swap the stored verifier for another valid-looking one: Discord must refuse.
        async with rig.engine.begin() as connection:
            await connection.execute(PanelLogin.__table__.update().values(code_verifier="v" * 64))
        response = await client.get(callback)
        assert response.status_code == 400
        assert "Discord refused" in response.text


async def test_emulator_token_endpoint_enforces_discords_rules(rig: PanelRig) -> None:
    oauth = rig.discord.oauth
    token_url = rig.discord.rest_url.removesuffix("/api/v10") + "/api/oauth2/token"
    async with rig.client() as client:
        authorize_url = await start_login(client)
    login_row_verifier = await _verifier(rig)
    callback = await authorize(authorize_url, rig.ids["alice"])
    code = query_of(callback)["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": f"{rig.url}/auth/callback",
        "code_verifier": login_row_verifier,
        "client_id": str(oauth.client_id),
        "client_secret": oauth.client_secret,
    }
    async with httpx.AsyncClient(timeout=20.0) as http:
        bad_secret = await http.post(token_url, data={**form, "client_secret": "nope"})
        assert bad_secret.status_code == 401
        short = await http.post(token_url, data={**form, "code_verifier": "a" * 42})
        assert short.status_code == 400
        # A refused attempt used the code up: the right verifier now fails too (single use).
        again = await http.post(token_url, data=form)
        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"

        callback = await authorize(authorize_url, rig.ids["alice"])
        fresh = {**form, "code": query_of(callback)["code"]}
        wrong_uri = await http.post(token_url, data={**fresh, "redirect_uri": "http://x/cb"})
        assert wrong_uri.status_code == 400

        callback = await authorize(authorize_url, rig.ids["alice"])
        fresh = {**form, "code": query_of(callback)["code"]}
        ok = await http.post(token_url, data=fresh)
        assert ok.status_code == 200, ok.text
        access = ok.json()["access_token"]
        me = await http.get(
            f"{rig.discord.rest_url}/users/@me", headers={"Authorization": f"Bearer {access}"}
        )
        assert me.json()["id"] == str(rig.ids["alice"])
        # A replayed code is refused and revokes the token it gave.
        replay = await http.post(token_url, data=fresh)
        assert replay.status_code == 400
        revoked = await http.get(
            f"{rig.discord.rest_url}/users/@me", headers={"Authorization": f"Bearer {access}"}
        )
        assert revoked.status_code == 401
        # Bearer tokens reach only the user's own routes.
        bot_only = await http.get(
            f"{rig.discord.rest_url}/guilds/{rig.ids['sandbox']}",
            headers={"Authorization": f"Bearer {access}"},
        )
        assert bot_only.status_code == 401


async def _verifier(rig: PanelRig) -> str:
    async with rig.engine.connect() as connection:
        verifier = await connection.scalar(select(PanelLogin.code_verifier))
    assert isinstance(verifier, str)
    return verifier


async def test_emulator_authorize_refuses_unregistered_redirect_and_plain_pkce(
    rig: PanelRig,
) -> None:
    async with rig.client() as client:
        authorize_url = await start_login(client)
    async with httpx.AsyncClient(follow_redirects=False, timeout=20.0) as http:
        bad_uri = authorize_url.replace("auth%2Fcallback", "evil")
        refused = await http.get(bad_uri)
        assert refused.status_code == 400
        assert "location" not in refused.headers
        plain = authorize_url.replace("code_challenge_method=S256", "code_challenge_method=plain")
        answer = await http.get(plain)
        assert answer.status_code == 302
        assert query_of(answer.headers["location"])["error"] == "invalid_request"


async def test_logout_needs_csrf_and_ends_the_session(rig: PanelRig) -> None:
    async with rig.client() as client:
        await login(client, rig.ids["alice"])
        refused = await client.post("/logout", data={})
        assert refused.status_code == 403
        assert (await client.get("/api/me")).status_code == 200
        token = await csrf_of(client)
        done = await client.post("/logout", data={"csrf_token": token})
        assert done.status_code == 303
        assert (await client.get("/api/me")).status_code == 401
    async with rig.engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(PanelSession)) == 0


async def test_expired_session_is_logged_out(rig: PanelRig) -> None:
    async with rig.client() as client:
        await login(client, rig.ids["alice"])
        assert (await client.get("/api/me")).status_code == 200
        rig.clock.advance(rig.deps.settings.panel_session_lifetime_s + 1)
        assert (await client.get("/api/me")).status_code == 401
        page = await client.get("/guilds")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login?next=/guilds")
    async with rig.engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(PanelSession)) == 0


async def test_session_fixation_a_planted_cookie_never_becomes_a_session(rig: PanelRig) -> None:
    async with rig.client() as client:
        client.cookies.set(SESSION_COOKIE, "planted-by-an-attacker", domain="127.0.0.1")
        response = await login(client, rig.ids["alice"])
        issued = client.cookies.get(SESSION_COOKIE)
        assert issued
        assert issued != "planted-by-an-attacker"
        assert LOGIN_COOKIE not in client.cookies
        first = issued
        # Logging in again replaces the session token; the old one stops working.
        await login(client, rig.ids["alice"])
        second = client.cookies.get(SESSION_COOKIE)
        assert second != first
        assert response.status_code == 303
    async with rig.client() as stale:
        stale.cookies.set(SESSION_COOKIE, first, domain="127.0.0.1")
        assert (await stale.get("/api/me")).status_code == 401


async def test_login_is_rate_limited_per_client(panel_engine: object, bus: object) -> None:
    from panel_rig import start_rig

    async for limited in start_rig(engine=panel_engine, bus=bus, login_limit=3):  # type: ignore[arg-type]
        async with limited.client() as client:
            codes = [(await client.get("/login")).status_code for _ in range(5)]
        assert codes[:3] == [303, 303, 303]
        assert codes[3:] == [429, 429]
        async with limited.client() as client:
            refused = await client.get("/login")
            assert int(refused.headers["retry-after"]) >= 1


async def test_cancelled_consent_is_a_failed_login(rig: PanelRig) -> None:
    async with rig.client() as client:
        authorize_url = await start_login(client)
        async with httpx.AsyncClient(follow_redirects=False, timeout=20.0) as discord:
            page = await discord.get(authorize_url)
            form = dict(
                re.findall(r'<input type=hidden name="([^"]+)" value="([^"]*)">', page.text)
            )
            form = {k: html.unescape(v) for k, v in form.items()}
            denied = await discord.post(rig.discord.oauth_url, data={**form, "deny": "1"})
        assert query_of(denied.headers["location"])["error"] == "access_denied"
        response = await client.get(denied.headers["location"])
        assert response.status_code == 400
        assert "did not authorise" in response.text
        assert (await client.get("/api/me")).status_code == 401


async def test_an_expired_access_token_is_refreshed(panel_engine: object, bus: object) -> None:
    from panel_rig import start_rig

    lifetime = 30 * 86_400
    async for long in start_rig(
        engine=panel_engine,  # type: ignore[arg-type]
        bus=bus,  # type: ignore[arg-type]
        panel={"panel_session_lifetime_s": lifetime},
    ):
        async with long.client() as client:
            await login(client, long.ids["alice"])
            assert [g["name"] for g in (await client.get("/api/guilds")).json()["guilds"]] == [
                "Sandbox"
            ]
            async with long.engine.connect() as connection:
                first = await connection.scalar(select(PanelSession.access_token))
            # Eight days later: Discord's token (7 days) expired, the panel's session did not.
            long.clock.advance(8 * 86_400)
            long.discord.clock.advance(8 * 86_400)
            answer = await client.get("/api/guilds")
            assert answer.status_code == 200, answer.text
            assert [g["name"] for g in answer.json()["guilds"]] == ["Sandbox"]
            async with long.engine.connect() as connection:
                second = await connection.scalar(select(PanelSession.access_token))
            assert second != first


async def test_login_limit_is_shared_by_panels_on_one_redis(
    panel_engine: object, bus: object, redis_url: str, redis_key_prefix: str
) -> None:
    from panel_rig import start_rig

    from backbeat.cache import CacheKeys, RedisCacheStore

    keys = CacheKeys(redis_key_prefix)
    first_store = RedisCacheStore.from_url(redis_url)
    second_store = RedisCacheStore.from_url(redis_url)
    common = {"engine": panel_engine, "bus": bus, "login_limit": 2, "keys": keys}
    async for first in start_rig(cache=first_store, **common):  # type: ignore[arg-type]
        async for second in start_rig(cache=second_store, **common):  # type: ignore[arg-type]
            async with first.client() as a, second.client() as b:
                assert (await a.get("/login")).status_code == 303
                assert (await b.get("/login")).status_code == 303
                assert (await a.get("/login")).status_code == 429
                assert (await b.get("/login")).status_code == 429
