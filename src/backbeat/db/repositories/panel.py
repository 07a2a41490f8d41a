"""The control panel's users, sessions, logins under way and per-session guild cache.

Keys are digests computed by the panel (``backbeat.panel.tokens``); this module stores and
finds rows, nothing more. :meth:`PanelRepository.take_login` deletes the login it returns in
the same transaction, so a ``state`` is accepted at most once even when two callbacks race.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backbeat.db.models import PanelGuildMembership, PanelLogin, PanelSession, PanelUser
from backbeat.db.transactions import transact
from backbeat.db.types import utc_now


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """A login started in a browser, waiting for Discord's callback."""

    state_digest: str
    browser_digest: str
    code_verifier: str
    next_path: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A logged-in session (the cookie's token is not here, only its digest)."""

    session_id: str
    user_id: int
    username: str
    global_name: str | None
    access_token: str
    refresh_token: str | None
    token_expires_at: datetime
    created_at: datetime
    expires_at: datetime
    guilds_fetched_at: datetime | None


@dataclass(frozen=True, slots=True)
class GuildMembership:
    """One guild of the user as Discord answered ``/users/@me/guilds``."""

    guild_id: int
    name: str
    icon: str | None
    owner: bool
    permissions: int


def _membership(row: Row[Any]) -> GuildMembership:
    return GuildMembership(
        guild_id=row.guild_id,
        name=row.name,
        icon=row.icon,
        owner=bool(row.owner),
        permissions=int(row.permissions),
    )


class PanelRepository:
    """The ``panel_*`` tables."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # -- users ----------------------------------------------------------------------------

    async def save_user(
        self,
        *,
        user_id: int,
        username: str,
        global_name: str | None,
        avatar: str | None,
        conn: AsyncConnection | None = None,
    ) -> None:
        """Insert the user or refresh their name and avatar; stamps ``last_login_at``."""
        values = {
            "username": username[:64],
            "global_name": global_name[:64] if global_name else None,
            "avatar": avatar[:64] if avatar else None,
        }

        async def work(conn: AsyncConnection) -> None:
            now = utc_now()
            found = (
                await conn.execute(
                    select(PanelUser.id).where(PanelUser.id == user_id).with_for_update()
                )
            ).first()
            if found is None:
                await conn.execute(
                    insert(PanelUser).values(
                        id=user_id, created_at=now, last_login_at=now, **values
                    )
                )
            else:
                await conn.execute(
                    update(PanelUser)
                    .where(PanelUser.id == user_id)
                    .values(last_login_at=now, **values)
                )

        await transact(self._engine, "panel.save_user", work, retry_integrity=True, conn=conn)

    # -- logins under way ---------------------------------------------------------------

    async def add_login(self, login: PendingLogin, *, conn: AsyncConnection | None = None) -> None:
        """Remember a login until Discord calls back (or it expires)."""

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(
                insert(PanelLogin).values(
                    state_digest=login.state_digest,
                    browser_digest=login.browser_digest,
                    code_verifier=login.code_verifier,
                    next_path=login.next_path,
                    created_at=utc_now(),
                    expires_at=login.expires_at,
                )
            )

        await transact(self._engine, "panel.add_login", work, conn=conn)

    async def take_login(
        self, state_digest: str, *, conn: AsyncConnection | None = None
    ) -> PendingLogin | None:
        """The login of ``state_digest``, deleted as it is read: None if unknown or taken."""

        async def work(conn: AsyncConnection) -> PendingLogin | None:
            row = (
                await conn.execute(
                    select(PanelLogin.__table__)
                    .where(PanelLogin.state_digest == state_digest)
                    .with_for_update()
                )
            ).one_or_none()
            if row is None:
                return None
            deleted = await conn.execute(
                delete(PanelLogin).where(PanelLogin.state_digest == state_digest)
            )
            if deleted.rowcount != 1:
                return None
            return PendingLogin(
                state_digest=row.state_digest,
                browser_digest=row.browser_digest,
                code_verifier=row.code_verifier,
                next_path=row.next_path,
                expires_at=row.expires_at,
            )

        return await transact(self._engine, "panel.take_login", work, conn=conn)

    # -- sessions -------------------------------------------------------------------------

    async def add_session(
        self,
        *,
        session_id: str,
        user_id: int,
        access_token: str,
        refresh_token: str | None,
        token_expires_at: datetime,
        expires_at: datetime,
        conn: AsyncConnection | None = None,
    ) -> None:
        """Store a new session of a saved user."""

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(
                insert(PanelSession).values(
                    id=session_id,
                    user_id=user_id,
                    access_token=access_token,
                    refresh_token=refresh_token,
                    token_expires_at=token_expires_at,
                    created_at=utc_now(),
                    expires_at=expires_at,
                )
            )

        await transact(self._engine, "panel.add_session", work, conn=conn)

    async def session(
        self, session_id: str, *, conn: AsyncConnection | None = None
    ) -> SessionRecord | None:
        """The session with its user's names; None when unknown (expiry is the caller's)."""

        async def work(conn: AsyncConnection) -> SessionRecord | None:
            row = (
                await conn.execute(
                    select(
                        PanelSession.__table__,
                        PanelUser.username,
                        PanelUser.global_name,
                    )
                    .join(PanelUser, PanelUser.id == PanelSession.user_id)
                    .where(PanelSession.id == session_id)
                )
            ).one_or_none()
            if row is None:
                return None
            return SessionRecord(
                session_id=row.id,
                user_id=row.user_id,
                username=row.username,
                global_name=row.global_name,
                access_token=row.access_token,
                refresh_token=row.refresh_token,
                token_expires_at=row.token_expires_at,
                created_at=row.created_at,
                expires_at=row.expires_at,
                guilds_fetched_at=row.guilds_fetched_at,
            )

        return await transact(self._engine, "panel.session", work, read_only=True, conn=conn)

    async def update_tokens(
        self,
        session_id: str,
        *,
        access_token: str,
        refresh_token: str | None,
        token_expires_at: datetime,
        conn: AsyncConnection | None = None,
    ) -> None:
        """Store refreshed OAuth tokens of a session."""

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(
                update(PanelSession)
                .where(PanelSession.id == session_id)
                .values(
                    access_token=access_token,
                    refresh_token=refresh_token,
                    token_expires_at=token_expires_at,
                )
            )

        await transact(self._engine, "panel.update_tokens", work, conn=conn)

    async def delete_session(self, session_id: str, *, conn: AsyncConnection | None = None) -> bool:
        """Log a session out (its guild cache goes with it); False when it was not there."""

        async def work(conn: AsyncConnection) -> bool:
            await conn.execute(
                delete(PanelGuildMembership).where(PanelGuildMembership.session_id == session_id)
            )
            result = await conn.execute(delete(PanelSession).where(PanelSession.id == session_id))
            return bool(result.rowcount)

        return await transact(self._engine, "panel.delete_session", work, conn=conn)

    async def delete_expired(self, now: datetime, *, conn: AsyncConnection | None = None) -> int:
        """Delete sessions and logins past their expiry; returns how many rows went."""

        async def work(conn: AsyncConnection) -> int:
            expired = select(PanelSession.id).where(PanelSession.expires_at <= now)
            await conn.execute(
                delete(PanelGuildMembership).where(PanelGuildMembership.session_id.in_(expired))
            )
            sessions = await conn.execute(
                delete(PanelSession).where(PanelSession.expires_at <= now)
            )
            logins = await conn.execute(delete(PanelLogin).where(PanelLogin.expires_at <= now))
            return int(sessions.rowcount or 0) + int(logins.rowcount or 0)

        return await transact(self._engine, "panel.delete_expired", work, conn=conn)

    async def count_sessions(self, now: datetime, *, conn: AsyncConnection | None = None) -> int:
        """Sessions not yet expired."""

        async def work(conn: AsyncConnection) -> int:
            statement = select(func.count()).where(PanelSession.expires_at > now)
            return int((await conn.execute(statement)).scalar_one())

        return await transact(self._engine, "panel.count_sessions", work, read_only=True, conn=conn)

    # -- the guild cache ----------------------------------------------------------------

    async def replace_guilds(
        self,
        session_id: str,
        guilds: Sequence[GuildMembership],
        *,
        fetched_at: datetime,
        conn: AsyncConnection | None = None,
    ) -> None:
        """Replace the session's cached guild list with Discord's latest answer."""

        async def work(conn: AsyncConnection) -> None:
            await conn.execute(
                delete(PanelGuildMembership).where(PanelGuildMembership.session_id == session_id)
            )
            unique = {guild.guild_id: guild for guild in guilds}
            if unique:
                await conn.execute(
                    insert(PanelGuildMembership),
                    [
                        {
                            "session_id": session_id,
                            "guild_id": guild.guild_id,
                            "name": guild.name[:100],
                            "icon": guild.icon[:64] if guild.icon else None,
                            "owner": guild.owner,
                            "permissions": guild.permissions,
                        }
                        for guild in unique.values()
                    ],
                )
            await conn.execute(
                update(PanelSession)
                .where(PanelSession.id == session_id)
                .values(guilds_fetched_at=fetched_at)
            )

        await transact(self._engine, "panel.replace_guilds", work, conn=conn)

    async def guilds(
        self, session_id: str, *, conn: AsyncConnection | None = None
    ) -> list[GuildMembership]:
        """The session's cached guilds, by name."""

        async def work(conn: AsyncConnection) -> list[GuildMembership]:
            rows = await conn.execute(
                select(PanelGuildMembership.__table__)
                .where(PanelGuildMembership.session_id == session_id)
                .order_by(PanelGuildMembership.name, PanelGuildMembership.guild_id)
            )
            return [_membership(row) for row in rows]

        return await transact(self._engine, "panel.guilds", work, read_only=True, conn=conn)
