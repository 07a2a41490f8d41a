"""Permission bits read as bits; guild management, DJ and skip rules."""

from __future__ import annotations

import pytest

from backbeat.domain.permissions import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    MANAGE_GUILD,
    Member,
    SkipRight,
    base_permissions,
    can_manage_guild,
    has_bit,
    is_dj,
    may_control,
    parse_permissions,
    skip_right,
)


def test_discords_strings_parse_to_integers() -> None:
    assert parse_permissions("32") == MANAGE_GUILD
    assert parse_permissions(" 8 ") == ADMINISTRATOR
    assert parse_permissions(None) == 0
    assert parse_permissions(str(ALL_PERMISSIONS)) == ALL_PERMISSIONS
    for bad in ("-1", "0x20", "1e3", "", "٣", str(ALL_PERMISSIONS + 1), True):
        with pytest.raises(ValueError, match="permissions"):
            parse_permissions(bad)  # type: ignore[arg-type]


def test_management_needs_the_bits_not_a_large_number() -> None:
    # Large numbers without the bits do not manage (a numeric comparison would say they do).
    big_without = (1 << 40) | (1 << 10) | (1 << 4) | 1
    assert big_without > MANAGE_GUILD
    assert not can_manage_guild(owner=False, permissions=big_without)
    assert can_manage_guild(owner=False, permissions=MANAGE_GUILD)
    assert can_manage_guild(owner=False, permissions=ADMINISTRATOR | 1)
    assert can_manage_guild(owner=True, permissions=0)
    assert not can_manage_guild(owner=False, permissions=0)
    assert has_bit(MANAGE_GUILD | ADMINISTRATOR, MANAGE_GUILD | ADMINISTRATOR)
    assert not has_bit(MANAGE_GUILD, MANAGE_GUILD | ADMINISTRATOR)


def test_base_permissions_follow_discords_computation() -> None:
    roles = {100: 1 << 10, 200: MANAGE_GUILD, 300: ADMINISTRATOR}
    common = {"guild_id": 100, "owner_id": 9, "role_permissions": roles}
    assert base_permissions(user_id=1, member_role_ids=[], **common) == 1 << 10
    assert base_permissions(user_id=1, member_role_ids=[200], **common) == (1 << 10) | MANAGE_GUILD
    assert base_permissions(user_id=1, member_role_ids=[300], **common) == ALL_PERMISSIONS
    assert base_permissions(user_id=9, member_role_ids=[], **common) == ALL_PERMISSIONS
    assert base_permissions(user_id=1, member_role_ids=[999], **common) == 1 << 10


def _member(*roles: int, permissions: int = 0, owner: bool = False, user_id: int = 1) -> Member:
    return Member(user_id=user_id, role_ids=frozenset(roles), permissions=permissions, owner=owner)


def test_dj_role_rules() -> None:
    assert is_dj(_member(), None)
    assert not is_dj(_member(), 50)
    assert is_dj(_member(50), 50)
    assert is_dj(_member(permissions=MANAGE_GUILD), 50)
    assert is_dj(_member(owner=True), 50)
    assert may_control(_member(50), dj_role_id=50)
    assert not may_control(_member(51), dj_role_id=50)


def test_skip_rights() -> None:
    assert skip_right(_member(), dj_role_id=50, requester_id=1) is SkipRight.DIRECT
    assert skip_right(_member(), dj_role_id=50, requester_id=2) is SkipRight.VOTE
    assert skip_right(_member(50), dj_role_id=50, requester_id=2) is SkipRight.DIRECT
    assert skip_right(_member(), dj_role_id=None, requester_id=None) is SkipRight.VOTE
    assert (
        skip_right(_member(permissions=ADMINISTRATOR), dj_role_id=None, requester_id=None)
        is SkipRight.DIRECT
    )
