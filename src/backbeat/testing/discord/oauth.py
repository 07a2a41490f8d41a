"""Discord's OAuth2 authorization-code flow with PKCE, as strict as Discord is.

* ``GET /oauth2/authorize``: checks the client and the redirect URI (an unregistered one gets
  an error page, never a redirect), then shows a page to pick which sandbox user logs in.
  ``POST /oauth2/authorize`` (the page's buttons) redirects to the redirect URI with a
  ``code`` and the client's ``state`` (or ``error=access_denied`` when cancelled).
* ``POST /api/oauth2/token`` (also under ``/api/v10``): exchanges a code for tokens. It
  enforces client authentication (HTTP Basic or form fields), the code's redirect URI, PKCE
  with ``S256`` only, a verifier of 43–128 unreserved characters, and single use: a code
  presented twice is refused and revokes the tokens it gave. ``refresh_token`` grants work.
* Bearer tokens reach ``/users/@me`` and ``/users/@me/guilds`` only, each answering for the
  token's user: their guilds with *their* owner flag and permission bits.
* Control: ``GET /_control/oauth2`` (client id, secret, redirect URIs) and
  ``POST /_control/oauth2/redirect-uris`` ``{"uri"}`` for processes outside this one.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiohttp import web

from backbeat.testing.discord.world import JSON, World, WorldError

CODE_TTL_S: Final = 600.0
ACCESS_TOKEN_TTL_S: Final = 604_800
SCOPES: Final = frozenset({"identify", "guilds", "email", "guilds.members.read"})
BEARER_ROUTES: Final = {
    "GET /users/@me": "identify",
    "GET /users/@me/guilds": "guilds",
}
OAUTH_USER: Final = web.RequestKey("backbeat_oauth_user_id", int)
"""The request key under which an accepted bearer token's user id is stored."""
_VERIFIER: Final = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


@dataclass
class _Code:
    client_id: int
    user_id: int
    redirect_uri: str
    scopes: frozenset[str]
    challenge: str
    expires_at: float
    used: bool = False
    issued: list[str] = field(default_factory=list)


@dataclass
class _Token:
    user_id: int
    scopes: frozenset[str]
    expires_at: float
    refresh_token: str


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier`` (base64url of its SHA-256, unpadded)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _oauth_error(error: str, description: str, status: int = 400) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def _page(title: str, body: str, status: int = 200) -> web.Response:
    document = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return web.Response(status=status, text=document, content_type="text/html")


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


class OAuthService:
    """The application's OAuth2 side: registered redirect URIs, codes and bearer tokens."""

    def __init__(self, world: World, *, client_secret: str | None = None) -> None:
        self.world = world
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.redirect_uris: set[str] = set()
        self._codes: dict[str, _Code] = {}
        self._tokens: dict[str, _Token] = {}
        self._refresh: dict[str, str] = {}
        self.token_requests = 0

    @property
    def client_id(self) -> int:
        return self.world.application_id

    def register_redirect_uri(self, uri: str) -> None:
        """Allow ``uri`` (compared exactly, as Discord does)."""
        self.redirect_uris.add(uri)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/oauth2/authorize", self.authorize_page)
        app.router.add_post("/oauth2/authorize", self.authorize_submit)
        app.router.add_post("/api/oauth2/token", self.token)
        app.router.add_post("/api/v10/oauth2/token", self.token)
        app.router.add_get("/_control/oauth2", self.control_state)
        app.router.add_post("/_control/oauth2/redirect-uris", self.control_redirect_uri)

    # ----- control -----------------------------------------------------------------------
    def state(self) -> JSON:
        return {
            "client_id": str(self.client_id),
            "client_secret": self.client_secret,
            "redirect_uris": sorted(self.redirect_uris),
        }

    async def control_state(self, request: web.Request) -> web.Response:
        return web.json_response(self.state())

    async def control_redirect_uri(self, request: web.Request) -> web.Response:
        body = await request.json()
        uri = body["uri"]
        if not isinstance(uri, str):
            raise TypeError("uri must be a string")
        parts = urlsplit(uri)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("uri must be an absolute http(s) URL")
        self.register_redirect_uri(uri)
        return web.json_response(self.state())

    # ----- authorize ---------------------------------------------------------------------
    def _check_authorize(self, params: dict[str, str]) -> str | None:
        """None when the request may be shown; else a redirect error code."""
        if params.get("response_type") != "code":
            return "unsupported_response_type"
        scopes = set(params.get("scope", "").split())
        if not scopes or not scopes <= SCOPES:
            return "invalid_scope"
        if params.get("code_challenge_method") != "S256":
            return "invalid_request"
        if not re.fullmatch(r"[A-Za-z0-9\-_]{43}", params.get("code_challenge", "")):
            return "invalid_request"
        return None

    def _refused(self, params: dict[str, str]) -> web.Response | None:
        """An error page for an unknown client or redirect URI, None when the request may go
        on; any other bad request raises the redirect back with its error code."""
        if params.get("client_id") != str(self.client_id):
            return _page("Unknown application", "<p>Invalid client_id.</p>", status=400)
        if params.get("redirect_uri") not in self.redirect_uris:
            return _page("Invalid redirect URI", "<p>Invalid OAuth2 redirect_uri.</p>", 400)
        problem = self._check_authorize(params)
        if problem is not None:
            raise web.HTTPFound(self._redirect_error(params, problem))
        return None

    async def authorize_page(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        refused = self._refused(params)
        if refused is not None:
            return refused
        hidden = "".join(
            f'<input type=hidden name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
            if k
            in {
                "client_id",
                "redirect_uri",
                "response_type",
                "scope",
                "state",
                "code_challenge",
                "code_challenge_method",
            }
        )
        users = [u for u in sorted(self.world.users.values(), key=lambda u: u.id) if not u.bot]
        buttons = "".join(
            f'<li><button type=submit name=user_id value="{u.id}">'
            f"Log in as {html.escape(u.username)}</button></li>"
            for u in users
        )
        scope = html.escape(params.get("scope", ""))
        body = (
            f"<p>An application asks for: <code>{scope}</code>. Pick the sandbox user.</p>"
            f'<form method=post action="/oauth2/authorize">{hidden}<ul>{buttons}</ul>'
            "<button type=submit name=deny value=1>Cancel</button></form>"
        )
        return _page("Authorize access", body)

    async def authorize_submit(self, request: web.Request) -> web.Response:
        params = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        refused = self._refused(params)
        if refused is not None:
            return refused
        if params.get("deny"):
            raise web.HTTPFound(self._redirect_error(params, "access_denied"))
        try:
            user = self.world.user(int(params.get("user_id", "")))
        except (ValueError, WorldError):
            return _page("Unknown user", "<p>Pick one of the listed users.</p>", status=400)
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Code(
            client_id=self.client_id,
            user_id=user.id,
            redirect_uri=params["redirect_uri"],
            scopes=frozenset(params["scope"].split()),
            challenge=params["code_challenge"],
            expires_at=self.world.clock.now() + CODE_TTL_S,
        )
        answer = {"code": code}
        if "state" in params:
            answer["state"] = params["state"]
        raise web.HTTPFound(_with_query(params["redirect_uri"], answer))

    def _redirect_error(self, params: dict[str, str], error: str) -> str:
        answer = {"error": error}
        if "state" in params:
            answer["state"] = params["state"]
        return _with_query(params["redirect_uri"], answer)

    # ----- token -------------------------------------------------------------------------
    def _client(self, request: web.Request, form: dict[str, str]) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                decoded = base64.b64decode(header[6:], validate=True).decode()
            except (ValueError, UnicodeError):
                return False
            client_id, _, secret = decoded.partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return client_id == str(self.client_id) and secrets.compare_digest(
            secret.encode(), self.client_secret.encode()
        )

    async def token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        if not request.content_type.startswith("application/x-www-form-urlencoded"):
            return _oauth_error("invalid_request", "form body expected")
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        if not self._client(request, form):
            return _oauth_error("invalid_client", "client authentication failed", 401)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._exchange_code(form)
        if grant == "refresh_token":
            return self._refresh_grant(form)
        return _oauth_error("unsupported_grant_type", f"unsupported grant type {grant!r}")

    def _exchange_code(self, form: dict[str, str]) -> web.Response:
        code = self._codes.get(form.get("code", ""))
        now = self.world.clock.now()
        if code is None:
            return _oauth_error("invalid_grant", 'Invalid "code" in request.')
        if code.used:
            for token in code.issued:
                self._revoke(token)
            return _oauth_error("invalid_grant", 'Invalid "code" in request.')
        code.used = True
        if now >= code.expires_at:
            return _oauth_error("invalid_grant", 'Invalid "code" in request.')
        if form.get("redirect_uri") != code.redirect_uri:
            return _oauth_error("invalid_grant", 'Invalid "redirect_uri" in request.')
        verifier = form.get("code_verifier", "")
        if not _VERIFIER.fullmatch(verifier):
            return _oauth_error("invalid_request", "code_verifier must be 43-128 characters")
        if not secrets.compare_digest(s256(verifier), code.challenge):
            return _oauth_error("invalid_grant", "Invalid code_verifier")
        answer = self._issue(code.user_id, code.scopes)
        code.issued.append(answer["access_token"])
        return web.json_response(answer)

    def _refresh_grant(self, form: dict[str, str]) -> web.Response:
        access = self._refresh.pop(form.get("refresh_token", ""), None)
        token = self._tokens.pop(access, None) if access is not None else None
        if token is None:
            return _oauth_error("invalid_grant", "Invalid refresh_token")
        return web.json_response(self._issue(token.user_id, token.scopes))

    def _issue(self, user_id: int, scopes: frozenset[str]) -> JSON:
        access, refresh = secrets.token_urlsafe(30), secrets.token_urlsafe(30)
        self._tokens[access] = _Token(
            user_id=user_id,
            scopes=scopes,
            expires_at=self.world.clock.now() + ACCESS_TOKEN_TTL_S,
            refresh_token=refresh,
        )
        self._refresh[refresh] = access
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_TTL_S,
            "refresh_token": refresh,
            "scope": " ".join(sorted(scopes)),
        }

    def _revoke(self, access: str) -> None:
        token = self._tokens.pop(access, None)
        if token is not None:
            self._refresh.pop(token.refresh_token, None)

    def revoke_all(self, user_id: int) -> None:
        """Revoke every token of ``user_id`` (the user deauthorised the application)."""
        for access in [a for a, t in self._tokens.items() if t.user_id == user_id]:
            self._revoke(access)

    # ----- bearer requests ---------------------------------------------------------------
    def accept_bearer(self, request: web.Request, route_key: str) -> bool:
        """True (and the user stored under :data:`OAUTH_USER`) for a valid bearer token
        with the scope ``route_key`` needs."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return False
        token = self._tokens.get(header[7:])
        scope = BEARER_ROUTES.get(route_key)
        if token is None or scope is None or scope not in token.scopes:
            return False
        if self.world.clock.now() >= token.expires_at:
            return False
        request[OAUTH_USER] = token.user_id
        return True

    def me(self, user_id: int) -> JSON:
        data = self.world.user(user_id).to_json()
        data.update(verified=True, mfa_enabled=False, flags=0, locale="en-US")
        return data

    def guilds(self, user_id: int) -> list[JSON]:
        """The user's guilds, each with their own owner flag and permission bits."""
        result: list[JSON] = []
        for guild in sorted(self.world.guilds.values(), key=lambda g: g.id):
            if user_id not in guild.members:
                continue
            result.append(
                {
                    "id": str(guild.id),
                    "name": guild.name,
                    "icon": None,
                    "banner": None,
                    "owner": guild.owner_id == user_id,
                    "permissions": str(self.world.permissions_for(guild.id, user_id)),
                    "features": [],
                }
            )
        return result
