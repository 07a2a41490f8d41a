"""Discord login: ``/login`` → Discord's consent page → ``/auth/callback`` → a session.

* ``/login`` (rate limited per client address, :func:`client_address`) makes a random
  ``state``, a PKCE pair and a browser-binding token; stores the state's digest with the
  verifier and the (checked) target path; sets the binding token as an HttpOnly cookie;
  redirects to Discord.
* ``/auth/callback`` takes the login by the state's digest (deleting it: a state works once),
  checks the binding cookie (the login finishes in the browser that started it), that the
  login is not older than 10 minutes, exchanges the code with the verifier, reads the user,
  and issues a **new** session token (any session cookie the browser had is dropped first,
  so a planted cookie never becomes a logged-in session).
* ``POST /logout`` (CSRF-checked) deletes the session.

The session cookie is HttpOnly, SameSite=Lax (the callback is a cross-site navigation),
``Secure`` and ``__Host-``-prefixed when the public URL is https, and lives as long as the
session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from backbeat.db.repositories.panel import PendingLogin, SessionRecord
from backbeat.observability.logging import get_logger
from backbeat.observability.metrics import panel_access_refused_total, panel_logins_total
from backbeat.panel.client_address import request_client
from backbeat.panel.deps import PanelDeps
from backbeat.panel.discord_api import DiscordRefused, DiscordUnavailable, login_redirect
from backbeat.panel.errors import CsrfRefused, DiscordDown, LoginFailed, NotLoggedIn, TooManyLogins
from backbeat.panel.forms import read_form
from backbeat.panel.security import safe_next, same_origin
from backbeat.panel.tokens import pkce_pair, random_token

SESSION_COOKIE: Final = "backbeat_session"
LOGIN_COOKIE: Final = "backbeat_login"
HOST_PREFIX: Final = "__Host-"
"""Over https the cookies carry this prefix: the browser then accepts them only when Secure,
for ``/`` and this exact host (no sub-domain can set or shadow them)."""
LOGIN_TTL: Final = timedelta(minutes=10)
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "X-CSRF-Token"

_log = get_logger(__name__)
router = APIRouter()


@dataclass(frozen=True, slots=True)
class Session:
    """The request's logged-in session."""

    token: str
    record: SessionRecord
    csrf: str

    @property
    def user_id(self) -> int:
        return self.record.user_id

    @property
    def display_name(self) -> str:
        return self.record.global_name or self.record.username


def deps_of(request: Request) -> PanelDeps:
    deps: PanelDeps = request.app.state.deps
    return deps


def cookie_name(deps: PanelDeps, name: str) -> str:
    """``name``, with the ``__Host-`` prefix when the public URL is https."""
    return HOST_PREFIX + name if deps.secure_cookies else name


def client_address(request: Request) -> str:
    """Who sent the request: the socket peer, or behind a trusted reverse proxy
    (``BACKBEAT_PANEL_TRUSTED_PROXIES``) the client it forwarded for."""
    return request_client(request, deps_of(request).settings.panel_trusted_proxies)


async def load_session(request: Request) -> Session | None:
    """The valid session of the request's cookie (an expired one is deleted), or None."""
    deps = deps_of(request)
    token = request.cookies.get(cookie_name(deps, SESSION_COOKIE))
    if not token or len(token) > 128:
        return None
    digest = deps.signer.digest("session", token)
    record = await deps.panel.session(digest)
    if record is None:
        return None
    if record.expires_at <= deps.clock():
        await deps.panel.delete_session(digest)
        _log.info("panel session expired", user_id=record.user_id)
        return None
    return Session(token=token, record=record, csrf=deps.signer.csrf_token(token))


def require_session(request: Request) -> Session:
    """The session loaded by the app's middleware; :class:`NotLoggedIn` without one."""
    session: Session | None = getattr(request.state, "session", None)
    if session is None:
        raise NotLoggedIn("log in with Discord to continue")
    return session


def check_csrf(request: Request, session: Session, presented: str | None) -> None:
    """A state-changing request must carry the session's CSRF token and come from this site."""
    deps = deps_of(request)
    if not same_origin(request.headers.get("origin"), deps.public_url):
        _log.warning("panel request from another origin refused", user_id=session.user_id)
        panel_access_refused_total.labels("origin").inc()
        raise CsrfRefused("the request did not come from the panel")
    if not deps.signer.csrf_valid(session.token, presented):
        _log.warning("panel request without a valid CSRF token", user_id=session.user_id)
        panel_access_refused_total.labels("csrf").inc()
        raise CsrfRefused("the form expired or did not come from the panel; reload and retry")


async def _limit(request: Request) -> None:
    deps = deps_of(request)
    address = client_address(request)
    wait = await deps.login_limiter.hit(address)
    if wait is not None:
        _log.warning("panel login rate limited", client=address)
        panel_logins_total.labels("rate_limited").inc()
        raise TooManyLogins("too many login attempts; wait a minute and retry", wait)


def _set_cookie(response: Response, deps: PanelDeps, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        cookie_name(deps, name),
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=deps.secure_cookies,
    )


def _clear_cookie(response: Response, deps: PanelDeps, name: str) -> None:
    response.delete_cookie(
        cookie_name(deps, name), path="/", httponly=True, samesite="lax", secure=deps.secure_cookies
    )


@router.get("/login")
async def login(request: Request, next: str | None = None) -> Response:
    await _limit(request)
    deps = deps_of(request)
    state, browser, pkce = random_token(), random_token(), pkce_pair()
    await deps.panel.add_login(
        PendingLogin(
            state_digest=deps.signer.digest("state", state),
            browser_digest=deps.signer.digest("browser", browser),
            code_verifier=pkce.verifier,
            next_path=safe_next(next),
            expires_at=deps.clock() + LOGIN_TTL,
        )
    )
    target = login_redirect(
        deps.discord.api_base,
        client_id=deps.discord.client_id,
        redirect_uri=deps.redirect_uri,
        state=state,
        challenge=pkce.challenge,
    )
    response = RedirectResponse(target, status_code=303)
    _set_cookie(response, deps, LOGIN_COOKIE, browser, int(LOGIN_TTL.total_seconds()))
    return response


@router.get("/auth/callback")
async def callback(
    request: Request,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    await _limit(request)
    deps = deps_of(request)
    if not state or len(state) > 128:
        panel_logins_total.labels("invalid_state").inc()
        raise LoginFailed("the login answer has no valid state; start again")
    login = await deps.panel.take_login(deps.signer.digest("state", state))
    if login is None:
        _log.warning("panel login with an unknown or used state", client=client_address(request))
        panel_logins_total.labels("invalid_state").inc()
        raise LoginFailed("this login link is invalid or was already used; start again")
    browser = request.cookies.get(cookie_name(deps, LOGIN_COOKIE), "")
    if deps.signer.digest("browser", browser) != login.browser_digest:
        _log.warning("panel login finished in another browser", client=client_address(request))
        panel_logins_total.labels("other_browser").inc()
        raise LoginFailed("the login was started in another browser; start again")
    if login.expires_at <= deps.clock():
        panel_logins_total.labels("expired").inc()
        raise LoginFailed("the login took too long; start again")
    if error is not None or not code:
        panel_logins_total.labels("denied").inc()
        raise LoginFailed("Discord did not authorise the login")
    try:
        grant = await deps.discord.exchange_code(
            code=code, verifier=login.code_verifier, redirect_uri=deps.redirect_uri
        )
        user = await deps.discord.me(grant.access_token)
    except DiscordRefused as refused:
        _log.warning("panel login refused by Discord", status=refused.status)
        panel_logins_total.labels("refused").inc()
        raise LoginFailed("Discord refused the login; start again") from refused
    except DiscordUnavailable as down:
        panel_logins_total.labels("unavailable").inc()
        raise DiscordDown("Discord did not answer; try again in a moment") from down
    old = request.cookies.get(cookie_name(deps, SESSION_COOKIE))
    if old and len(old) <= 128:
        await deps.panel.delete_session(deps.signer.digest("session", old))
    await deps.panel.save_user(
        user_id=user.user_id,
        username=user.username,
        global_name=user.global_name,
        avatar=user.avatar,
    )
    now = deps.clock()
    lifetime = timedelta(seconds=deps.settings.panel_session_lifetime_s)
    token = random_token()
    await deps.panel.add_session(
        session_id=deps.signer.digest("session", token),
        user_id=user.user_id,
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        token_expires_at=now + timedelta(seconds=max(0, grant.expires_in)),
        expires_at=now + lifetime,
    )
    _log.info("panel login", user_id=user.user_id)
    panel_logins_total.labels("ok").inc()
    response = RedirectResponse(safe_next(login.next_path), status_code=303)
    _clear_cookie(response, deps, LOGIN_COOKIE)
    _set_cookie(response, deps, SESSION_COOKIE, token, int(lifetime.total_seconds()))
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    session = require_session(request)
    form = await read_form(request)
    check_csrf(request, session, form.get(CSRF_FIELD))
    deps = deps_of(request)
    await deps.panel.delete_session(session.record.session_id)
    _log.info("panel logout", user_id=session.user_id)
    response = RedirectResponse("/", status_code=303)
    _clear_cookie(response, deps, SESSION_COOKIE)
    return response
