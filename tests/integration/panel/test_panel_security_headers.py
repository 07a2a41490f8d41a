"""Security headers on every kind of answer: pages, API, errors, redirects, static files."""

from __future__ import annotations

from panel_rig import PanelRig, login

from backbeat.panel.security import CSP


def _check(headers: object, *, static: bool = False) -> None:
    assert hasattr(headers, "get")
    get = headers.get
    csp = get("content-security-policy")
    assert csp == CSP
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert "script-src 'self'" in csp
    assert get("x-frame-options") == "DENY"
    assert get("x-content-type-options") == "nosniff"
    assert get("referrer-policy") == "same-origin"
    assert get("strict-transport-security") is None  # http public URL
    if not static:
        assert get("cache-control") == "no-store"
    assert get("server") is None


async def test_every_answer_carries_the_security_headers(rig: PanelRig) -> None:
    gid = rig.ids["sandbox"]
    async with rig.client() as client:
        for path in ("/", "/login", "/guilds", "/api/guilds", "/nope", "/api/nope"):
            _check((await client.get(path)).headers)
        _check((await client.get("/static/panel.css")).headers, static=True)
        _check((await client.get("/static/panel.js")).headers, static=True)
        await login(client, rig.ids["alice"])
        for path in ("/guilds", f"/guilds/{gid}", f"/guilds/{gid}/settings", "/api/me"):
            response = await client.get(path)
            assert response.status_code == 200
            _check(response.headers)
            if "text/html" in response.headers["content-type"]:
                # No inline script anywhere: every script comes from /static.
                assert "<script>" not in response.text
                assert '<script src="/static/panel.js" defer></script>' in response.text
                assert "<style" not in response.text
                assert " style=" not in response.text
                assert " on" + "click=" not in response.text
        _check((await client.get(f"/guilds/{rig.ids['elsewhere']}")).headers)


async def test_pages_are_usable_on_a_phone_and_by_keyboard(rig: PanelRig) -> None:
    async with rig.client() as client:
        await login(client, rig.ids["alice"])
        page = (await client.get(f"/guilds/{rig.ids['sandbox']}/settings")).text
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert 'href="#main"' in page  # skip link
    # Every form control has a label.
    for control in (
        "autoplay_enabled",
        "autoplay_mode",
        "dj_role_id",
        "default_volume",
        "announce_channel_id",
        "blacklist",
        "vote_skip_ratio",
        "max_queue_per_user",
        "twenty_four_seven",
    ):
        assert f'for="{control}"' in page
        assert f'id="{control}"' in page
    assert 'tabindex="-1"' in page
    assert "https://" not in page  # nothing from a CDN


async def test_https_public_url_makes_cookies_secure_and_sends_hsts(
    panel_engine: object, bus: object
) -> None:
    from panel_rig import authorize, start_rig

    async for https in start_rig(
        engine=panel_engine,  # type: ignore[arg-type]
        bus=bus,  # type: ignore[arg-type]
        public_url="https://panel.example",
    ):
        async with https.client() as client:
            started = await client.get("/login")
            login_cookie = started.headers["set-cookie"]
            assert login_cookie.startswith("__Host-backbeat_login=")
            assert "secure" in login_cookie.lower()
            assert started.headers["strict-transport-security"] == "max-age=31536000"
            authorize_url = started.headers["location"]
            assert "redirect_uri=https%3A%2F%2Fpanel.example%2Fauth%2Fcallback" in authorize_url
            callback = await authorize(authorize_url, https.ids["alice"])
            assert callback.startswith("https://panel.example/auth/callback?")
            # A browser sends the Secure cookie over https; here the test sends it by hand.
            value = login_cookie.split(";", 1)[0].split("=", 1)[1]
            client.cookies.clear()
            response = await client.get(
                callback.removeprefix("https://panel.example"),
                headers={"Cookie": f"__Host-backbeat_login={value}"},
            )
            assert response.status_code == 303, response.text
            session_cookie = next(
                c
                for c in response.headers.get_list("set-cookie")
                if c.startswith("__Host-backbeat_session=")
            )
            assert "secure" in session_cookie.lower()
            assert "httponly" in session_cookie.lower()
            assert "path=/" in session_cookie.lower()
            assert "domain" not in session_cookie.lower()
            # A cookie without the prefix is not the session over https.
            token = session_cookie.split(";", 1)[0].split("=", 1)[1]
            client.cookies.clear()
            plain = await client.get("/api/me", headers={"Cookie": f"backbeat_session={token}"})
            assert plain.status_code == 401
            prefixed = f"__Host-backbeat_session={token}"
            assert (await client.get("/api/me", headers={"Cookie": prefixed})).status_code == 200


async def test_names_from_discord_are_escaped(rig: PanelRig) -> None:
    evil = '<img src=x onerror="alert(1)">'
    rig.discord.world.guild(rig.ids["sandbox"]).name = evil
    rig.discord.world.role(rig.ids["sandbox"], rig.ids["dj"]).name = evil
    async with rig.client() as client:
        await login(client, rig.ids["alice"])
        for path in ("/guilds", f"/guilds/{rig.ids['sandbox']}/settings"):
            text = (await client.get(path)).text
            assert evil not in text
            assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in text


async def test_an_internal_error_still_carries_the_headers(rig: PanelRig) -> None:
    class Broken:
        async def session(self, session_id: str) -> None:
            raise RuntimeError("database gone")

    working = rig.deps.panel
    rig.deps.panel = Broken()  # type: ignore[assignment]
    try:
        async with rig.client() as client:
            client.cookies.set("backbeat_session", "x", domain="127.0.0.1")
            response = await client.get("/guilds")
        assert response.status_code == 500
        _check(response.headers)
        assert "database gone" not in response.text
    finally:
        rig.deps.panel = working
