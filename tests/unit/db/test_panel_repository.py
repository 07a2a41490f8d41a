"""The panel's tables: users, single-use logins, sessions with their guild cache, expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from backbeat.db.repositories.panel import GuildMembership, PanelRepository, PendingLogin
from backbeat.db.types import utc_now


def _login(digest: str = "s" * 64, minutes: int = 10) -> PendingLogin:
    return PendingLogin(
        state_digest=digest,
        browser_digest="b" * 64,
        code_verifier="v" * 64,
        next_path="/guilds",
        expires_at=utc_now() + timedelta(minutes=minutes),
    )


async def _session(repo: PanelRepository, session_id: str = "a" * 64, days: int = 7) -> None:
    await repo.save_user(user_id=1, username="alice", global_name="Alice", avatar=None)
    await repo.add_session(
        session_id=session_id,
        user_id=1,
        access_token="access",
        refresh_token="refresh",
        token_expires_at=utc_now() + timedelta(days=7),
        expires_at=utc_now() + timedelta(days=days),
    )


async def test_a_login_is_taken_once_even_by_racing_callbacks(engine: AsyncEngine) -> None:
    repo = PanelRepository(engine)
    await repo.add_login(_login())
    taken = await asyncio.gather(*(repo.take_login("s" * 64) for _ in range(4)))
    found = [login for login in taken if login is not None]
    assert len(found) == 1
    assert found[0].code_verifier == "v" * 64
    assert found[0].next_path == "/guilds"
    assert await repo.take_login("s" * 64) is None
    assert await repo.take_login("unknown") is None


async def test_users_are_saved_then_refreshed(engine: AsyncEngine) -> None:
    repo = PanelRepository(engine)
    await _session(repo)
    await repo.save_user(user_id=1, username="alice2", global_name=None, avatar="abc")
    record = await repo.session("a" * 64)
    assert record is not None
    assert (record.username, record.global_name) == ("alice2", None)


async def test_sessions_hold_tokens_and_a_guild_cache(engine: AsyncEngine) -> None:
    repo = PanelRepository(engine)
    await _session(repo)
    record = await repo.session("a" * 64)
    assert record is not None
    assert record.access_token == "access"
    assert record.guilds_fetched_at is None
    guilds = [
        GuildMembership(guild_id=2, name="Zed", icon=None, owner=False, permissions=1 << 40),
        GuildMembership(guild_id=3, name="Alpha", icon="i", owner=True, permissions=(1 << 53) - 1),
    ]
    fetched = utc_now()
    await repo.replace_guilds("a" * 64, guilds, fetched_at=fetched)
    assert [g.name for g in await repo.guilds("a" * 64)] == ["Alpha", "Zed"]
    assert (await repo.guilds("a" * 64))[0].permissions == (1 << 53) - 1
    record = await repo.session("a" * 64)
    assert record is not None
    assert record.guilds_fetched_at is not None
    await repo.replace_guilds("a" * 64, guilds[:1], fetched_at=fetched)
    assert [g.guild_id for g in await repo.guilds("a" * 64)] == [2]
    await repo.update_tokens(
        "a" * 64, access_token="new", refresh_token=None, token_expires_at=fetched
    )
    record = await repo.session("a" * 64)
    assert record is not None
    assert (record.access_token, record.refresh_token) == ("new", None)
    assert await repo.delete_session("a" * 64)
    assert await repo.session("a" * 64) is None
    assert await repo.guilds("a" * 64) == []
    assert not await repo.delete_session("a" * 64)


async def test_expired_sessions_and_logins_are_purged(engine: AsyncEngine) -> None:
    repo = PanelRepository(engine)
    await _session(repo, "old" + "0" * 61, days=1)
    await _session(repo, "new" + "0" * 61, days=30)
    await repo.replace_guilds(
        "old" + "0" * 61,
        [GuildMembership(guild_id=2, name="G", icon=None, owner=True, permissions=0)],
        fetched_at=utc_now(),
    )
    await repo.add_login(_login("l" * 64, minutes=1))
    later = utc_now() + timedelta(days=2)
    assert await repo.count_sessions(later) == 1
    assert await repo.delete_expired(later) == 2
    assert await repo.session("old" + "0" * 61) is None
    assert await repo.session("new" + "0" * 61) is not None
    assert await repo.take_login("l" * 64) is None
