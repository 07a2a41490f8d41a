"""The panel's FastAPI app: middleware (security headers, session loading), routes, errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from backbeat import __version__
from backbeat.panel import auth, routes
from backbeat.panel.access import GuildAccess
from backbeat.panel.deps import PanelDeps
from backbeat.panel.errors import NotLoggedIn, PanelError, TooManyLogins
from backbeat.panel.security import SecurityHeaders
from backbeat.panel.views import STATIC_DIR, render


class PanelApp(FastAPI):
    """FastAPI with the security headers outside everything, so that even Starlette's own
    500 answer carries them."""

    https = False

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), https=self.https)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(deps: PanelDeps) -> FastAPI:
    """The panel app over ``deps`` (no docs UI: it would need a CDN and inline scripts)."""
    app = PanelApp(
        title="Backbeat panel",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.https = deps.secure_cookies
    app.state.deps = deps
    app.state.access = GuildAccess(deps)

    @app.middleware("http")
    async def load_session(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.session = None
        if not request.url.path.startswith("/static/"):
            request.state.session = await auth.load_session(request)
        return await call_next(request)

    @app.exception_handler(PanelError)
    async def panel_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, PanelError)
        headers: dict[str, str] = {}
        if isinstance(error, TooManyLogins):
            headers["Retry-After"] = str(max(1, round(error.retry_after_s)))
        if _wants_json(request):
            return JSONResponse(
                {"error": error.title, "detail": error.detail},
                status_code=error.status,
                headers=headers,
            )
        if isinstance(error, NotLoggedIn) and request.method == "GET":
            target = request.url.path
            if request.url.query:
                target += "?" + request.url.query
            return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
        response = render(
            request,
            "error.html",
            {"title": error.title, "detail": error.detail},
            status=error.status,
        )
        response.headers.update(headers)
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if _wants_json(request):
            return JSONResponse({"error": error.detail}, status_code=error.status_code)
        return render(
            request,
            "error.html",
            {"title": "Not found" if error.status_code == 404 else "Error", "detail": error.detail},
            status=error.status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: Exception) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": "invalid request"}, status_code=422)
        return render(
            request,
            "error.html",
            {"title": "Not found", "detail": "There is no such page."},
            status=404,
        )

    app.include_router(auth.router)
    app.include_router(routes.router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    return app
