"""The control panel's tables: users who logged in, their sessions, pending logins, and the
per-session cache of the guilds Discord says they are in.

Session ids and login states are stored as HMAC digests (hex), never as the values the
browser holds, so a copy of the database cannot be replayed as a cookie. The user's OAuth
tokens stay here, server side; the browser only ever sees the session cookie.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backbeat.db.models.base import Base
from backbeat.db.types import UtcDateTime, utc_now

#: Lengths of the panel's string columns (hex SHA-256 digests, Discord names, OAuth tokens).
DIGEST = 64
USERNAME = 64
AVATAR = 64
GUILD_NAME = 100
OAUTH_TOKEN = 512
VERIFIER = 128
NEXT_PATH = 512


class PanelUser(Base):
    """A Discord user who logged in to the panel (their Discord id is the key)."""

    __tablename__ = "panel_users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    username: Mapped[str] = mapped_column(String(USERNAME))
    global_name: Mapped[str | None] = mapped_column(String(USERNAME))
    avatar: Mapped[str | None] = mapped_column(String(AVATAR))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    last_login_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class PanelSession(Base):
    """One login: the digest of the cookie's token, the user's OAuth tokens, its lifetime."""

    __tablename__ = "panel_sessions"
    __table_args__ = (
        Index("ix_panel_sessions_user_id", "user_id"),
        Index("ix_panel_sessions_expires_at", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(DIGEST), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("panel_users.id", ondelete="CASCADE")
    )
    access_token: Mapped[str] = mapped_column(String(OAUTH_TOKEN))
    refresh_token: Mapped[str | None] = mapped_column(String(OAUTH_TOKEN))
    token_expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    guilds_fetched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PanelLogin(Base):
    """A login under way: the digest of its ``state``, the browser it started in, the PKCE
    verifier and where to go afterwards. Deleted when used (a state works once)."""

    __tablename__ = "panel_logins"
    __table_args__ = (Index("ix_panel_logins_expires_at", "expires_at"),)

    state_digest: Mapped[str] = mapped_column(String(DIGEST), primary_key=True)
    browser_digest: Mapped[str] = mapped_column(String(DIGEST))
    code_verifier: Mapped[str] = mapped_column(String(VERIFIER))
    next_path: Mapped[str] = mapped_column(String(NEXT_PATH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PanelGuildMembership(Base):
    """A guild of a session's user as Discord last answered (owner flag, permission bits)."""

    __tablename__ = "panel_guild_memberships"

    session_id: Mapped[str] = mapped_column(
        String(DIGEST), ForeignKey("panel_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(GUILD_NAME))
    icon: Mapped[str | None] = mapped_column(String(AVATAR))
    owner: Mapped[bool] = mapped_column(Boolean, default=False)
    permissions: Mapped[int] = mapped_column(BigInteger, default=0)
