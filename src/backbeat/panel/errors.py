"""The panel's errors; the app turns each into a page (HTML) or a JSON body (``/api/``)."""

from __future__ import annotations

from backbeat.errors import BackbeatError


class PanelError(BackbeatError):
    """Something the panel answers with an HTTP error status."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotLoggedIn(PanelError):
    status = 401
    title = "Please log in"


class Forbidden(PanelError):
    """The user may not manage this guild (or the bot is not in it)."""

    status = 403
    title = "Not allowed"


class CsrfRefused(PanelError):
    status = 403
    title = "Request refused"


class LoginFailed(PanelError):
    status = 400
    title = "Login failed"


class TooManyLogins(PanelError):
    status = 429
    title = "Too many login attempts"

    def __init__(self, detail: str, retry_after_s: float) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class DiscordDown(PanelError):
    status = 503
    title = "Discord is not answering"
