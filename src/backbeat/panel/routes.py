"""Pages and the JSON API of guilds: list, overview, settings (read and write).

Every guild route first checks access (:class:`~backbeat.panel.access.GuildAccess`): reads
on the session's cached answer, writes re-checked with the bot's token. Writes need the
session's CSRF token: the form field ``csrf_token`` or the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from backbeat.db.repositories.panel import GuildMembership
from backbeat.domain.guild_settings import MAX_VOLUME, AutoplayMode, BlacklistScope, GuildSettings
from backbeat.observability.logging import get_logger
from backbeat.panel import settings_edit
from backbeat.panel.access import GuildAccess
from backbeat.panel.auth import CSRF_FIELD, CSRF_HEADER, check_csrf, deps_of, require_session
from backbeat.panel.forms import read_form, read_json
from backbeat.panel.views import render

_log = get_logger(__name__)
router = APIRouter()
#: The blacklist's scopes as the settings page offers them.
SCOPES: Final = (
    (BlacklistScope.AUTOPLAY.value, "Autoplay's picks only"),
    (BlacklistScope.ALL.value, "Autoplay's picks and /play, /playnext, /playnow"),
)


def access_of(request: Request) -> GuildAccess:
    access: GuildAccess = request.app.state.access
    return access


def settings_json(settings: GuildSettings) -> dict[str, Any]:
    return {
        "guild_id": str(settings.guild_id),
        "premium_tier": settings.premium_tier.value,
        "autoplay_enabled": settings.autoplay_enabled,
        "autoplay_mode": settings.autoplay_mode.value,
        "default_volume": settings.default_volume,
        "dj_role_id": None if settings.dj_role_id is None else str(settings.dj_role_id),
        "twenty_four_seven": settings.twenty_four_seven,
        "announce_channel_id": (
            None if settings.announce_channel_id is None else str(settings.announce_channel_id)
        ),
        "vote_skip_ratio": settings.vote_skip_ratio,
        "max_queue_per_user": settings.max_queue_per_user,
        "blacklist": list(settings.blacklist),
        "blacklist_scope": settings.blacklist_scope.value,
    }


def guild_json(guild: GuildMembership) -> dict[str, Any]:
    return {"id": str(guild.guild_id), "name": guild.name, "owner": guild.owner}


# -- pages ------------------------------------------------------------------------------


@router.get("/")
async def index(request: Request) -> Response:
    if getattr(request.state, "session", None) is not None:
        return RedirectResponse("/guilds", status_code=303)
    return render(request, "index.html")


@router.get("/guilds")
async def guilds_page(request: Request) -> Response:
    session = require_session(request)
    guilds = await access_of(request).manageable(session)
    return render(request, "guilds.html", {"guilds": guilds})


@router.get("/guilds/{guild_id}")
async def overview_page(request: Request, guild_id: int) -> Response:
    session = require_session(request)
    access = access_of(request)
    guild = await access.require_read(session, guild_id)
    deps = deps_of(request)
    settings = await deps.configuration.get(guild_id=guild_id)
    queue = await deps.queues.session(guild_id=guild_id)
    current = await deps.queues.current(guild_id=guild_id) if queue is not None else None
    channels = {c.channel_id: c.name for c in await access.channels(guild_id)}
    info = await access.guild_info(guild_id)
    roles = {role.role_id: role.name for role in info.roles}
    voice = None
    if queue is not None and queue.voice_channel_id is not None:
        voice = channels.get(queue.voice_channel_id, str(queue.voice_channel_id))
    return render(
        request,
        "overview.html",
        {
            "guild": guild,
            "settings": settings,
            "queue": queue,
            "current": current,
            "voice": voice,
            "dj_role": roles.get(settings.dj_role_id) if settings.dj_role_id else None,
            "announce": (
                channels.get(settings.announce_channel_id) if settings.announce_channel_id else None
            ),
        },
    )


async def _settings_page(
    request: Request,
    guild: GuildMembership,
    settings: GuildSettings,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    saved: bool = False,
    status: int = 200,
) -> Response:
    access = access_of(request)
    info = await access.guild_info(guild.guild_id)
    channels = await access.channels(guild.guild_id)
    roles = [role for role in info.roles if role.role_id != guild.guild_id and not role.managed]
    text_channels = [c for c in channels if c.kind in settings_edit.TEXT_CHANNEL_TYPES]
    form = {
        "autoplay_enabled": settings.autoplay_enabled,
        "autoplay_mode": settings.autoplay_mode.value,
        "default_volume": str(settings.default_volume),
        "dj_role_id": "" if settings.dj_role_id is None else str(settings.dj_role_id),
        "announce_channel_id": (
            "" if settings.announce_channel_id is None else str(settings.announce_channel_id)
        ),
        "twenty_four_seven": settings.twenty_four_seven,
        "blacklist": "\n".join(settings.blacklist),
        "blacklist_scope": settings.blacklist_scope.value,
        "vote_skip_ratio": str(round(settings.vote_skip_ratio * 100)),
        "max_queue_per_user": (
            "" if settings.max_queue_per_user is None else str(settings.max_queue_per_user)
        ),
    }
    if values is not None:
        form.update({k: v for k, v in values.items() if k in form})
        for name in ("autoplay_enabled", "twenty_four_seven"):
            form[name] = values.get(name) in {"on", "true", "1"}
    return render(
        request,
        "settings.html",
        {
            "guild": guild,
            "settings": settings,
            "form": form,
            "errors": errors or {},
            "saved": saved,
            "roles": roles,
            "channels": text_channels,
            "modes": [mode.value for mode in AutoplayMode],
            "scopes": SCOPES,
            "blacklist_limit": settings_edit.MAX_BLACKLIST,
            "max_volume": MAX_VOLUME,
        },
        status=status,
    )


@router.get("/guilds/{guild_id}/settings")
async def settings_page(request: Request, guild_id: int, saved: int = 0) -> Response:
    session = require_session(request)
    guild = await access_of(request).require_read(session, guild_id)
    settings = await deps_of(request).configuration.get(guild_id=guild_id)
    return await _settings_page(request, guild, settings, saved=bool(saved))


@router.post("/guilds/{guild_id}/settings")
async def settings_submit(request: Request, guild_id: int) -> Response:
    session = require_session(request)
    form = await read_form(request)
    check_csrf(request, session, form.get(CSRF_FIELD))
    access = access_of(request)
    guild = await access.require_read(session, guild_id)
    info = await access.require_write(session, guild_id)
    deps = deps_of(request)
    choices = settings_edit.Choices.of(info, await access.channels(guild_id))
    changes, errors = settings_edit.from_form(form, choices)
    if errors:
        current = await deps.configuration.get(guild_id=guild_id)
        return await _settings_page(request, guild, current, errors=errors, values=form, status=422)
    await _apply(request, guild_id, session.user_id, changes)
    return RedirectResponse(f"/guilds/{guild_id}/settings?saved=1", status_code=303)


async def _apply(request: Request, guild_id: int, actor_id: int, changes: dict[str, Any]) -> Any:
    deps = deps_of(request)
    settings = await settings_edit.apply(
        engine=deps.engine,
        configuration=deps.configuration,
        audit=deps.audit,
        publish=deps.publish,
        invalidate=deps.invalidate,
        guild_id=guild_id,
        actor_id=actor_id,
        changes=changes,
    )
    _log.info("panel settings changed", guild_id=guild_id, user_id=actor_id, keys=sorted(changes))
    return settings


# -- JSON API ---------------------------------------------------------------------------


@router.get("/api/me")
async def api_me(request: Request) -> Response:
    session = require_session(request)
    return JSONResponse(
        {
            "id": str(session.user_id),
            "username": session.record.username,
            "global_name": session.record.global_name,
            "csrf_token": session.csrf,
            "expires_at": session.record.expires_at.isoformat(),
        }
    )


@router.get("/api/guilds")
async def api_guilds(request: Request) -> Response:
    session = require_session(request)
    guilds = await access_of(request).manageable(session)
    return JSONResponse({"guilds": [guild_json(guild) for guild in guilds]})


@router.get("/api/guilds/{guild_id}")
async def api_guild(request: Request, guild_id: int) -> Response:
    session = require_session(request)
    guild = await access_of(request).require_read(session, guild_id)
    deps = deps_of(request)
    queue = await deps.queues.session(guild_id=guild_id)
    current = await deps.queues.current(guild_id=guild_id) if queue is not None else None
    return JSONResponse(
        {
            "guild": guild_json(guild),
            "bot_present": True,
            "voice_channel_id": (
                str(queue.voice_channel_id) if queue and queue.voice_channel_id else None
            ),
            "paused": queue.paused if queue else None,
            "now_playing": (
                {"title": current.track.title, "author": current.track.author}
                if current is not None
                else None
            ),
            "settings": settings_json(await deps.configuration.get(guild_id=guild_id)),
        }
    )


@router.get("/api/guilds/{guild_id}/settings")
async def api_settings(request: Request, guild_id: int) -> Response:
    session = require_session(request)
    await access_of(request).require_read(session, guild_id)
    settings = await deps_of(request).configuration.get(guild_id=guild_id)
    return JSONResponse(settings_json(settings))


@router.patch("/api/guilds/{guild_id}/settings")
async def api_settings_update(request: Request, guild_id: int) -> Response:
    session = require_session(request)
    check_csrf(request, session, request.headers.get(CSRF_HEADER))
    body = await read_json(request)
    access = access_of(request)
    info = await access.require_write(session, guild_id)
    choices = settings_edit.Choices.of(info, await access.channels(guild_id))
    changes, errors = settings_edit.from_json(body, choices)
    if errors:
        return JSONResponse({"error": "invalid settings", "fields": errors}, status_code=422)
    settings = await _apply(request, guild_id, session.user_id, changes)
    return JSONResponse(settings_json(settings))
