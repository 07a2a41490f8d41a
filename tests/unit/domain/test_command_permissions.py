"""The command rules the gateway (and later the panel) applies: managers bypass the DJ role,
a DJ role gates control, the requester skips their own track, others vote, and everyone
touching the player listens where the bot plays."""

from __future__ import annotations

from backbeat.domain.permissions import (
    ADMINISTRATOR,
    MANAGE_GUILD,
    CommandKind,
    Denial,
    Member,
    Situation,
    check_command,
)

DJ = 900
HERE, THERE = 1, 2
user = Member(user_id=10, role_ids=frozenset(), permissions=0)
dj = Member(user_id=11, role_ids=frozenset({DJ}), permissions=0)
manager = Member(user_id=12, role_ids=frozenset(), permissions=MANAGE_GUILD)
admin = Member(user_id=13, role_ids=frozenset(), permissions=ADMINISTRATOR)
owner = Member(user_id=14, role_ids=frozenset(), permissions=0, owner=True)
with_bot = Situation(user_voice_channel_id=HERE, bot_voice_channel_id=HERE, requester_id=99)


def test_without_a_dj_role_everyone_controls_but_skipping_others_is_a_vote() -> None:
    assert check_command(user, CommandKind.CONTROL, with_bot, dj_role_id=None) is None
    assert check_command(user, CommandKind.SKIP, with_bot, dj_role_id=None) is Denial.VOTE_INSTEAD
    assert check_command(user, CommandKind.VOTE, with_bot, dj_role_id=None) is None
    assert check_command(manager, CommandKind.SKIP, with_bot, dj_role_id=None) is None


def test_a_dj_role_gates_control_and_skip_and_managers_bypass_it() -> None:
    assert check_command(user, CommandKind.CONTROL, with_bot, dj_role_id=DJ) is Denial.DJ_ONLY
    assert check_command(user, CommandKind.SUMMON, with_bot, dj_role_id=DJ) is Denial.DJ_ONLY
    assert check_command(user, CommandKind.SKIP, with_bot, dj_role_id=DJ) is Denial.VOTE_INSTEAD
    for member in (dj, manager, admin, owner):
        for kind in (CommandKind.CONTROL, CommandKind.SKIP, CommandKind.SUMMON):
            assert check_command(member, kind, with_bot, dj_role_id=DJ) is None
    assert check_command(user, CommandKind.LISTEN, with_bot, dj_role_id=DJ) is None


def test_the_requester_skips_their_own_track() -> None:
    mine = Situation(user_voice_channel_id=HERE, bot_voice_channel_id=HERE, requester_id=10)
    assert check_command(user, CommandKind.SKIP, mine, dj_role_id=DJ) is None
    assert check_command(user, CommandKind.CONTROL, mine, dj_role_id=DJ) is Denial.DJ_ONLY


def test_touching_the_player_needs_the_bots_channel_even_for_managers() -> None:
    elsewhere = Situation(user_voice_channel_id=THERE, bot_voice_channel_id=HERE)
    nowhere = Situation(user_voice_channel_id=None, bot_voice_channel_id=HERE)
    for kind in (CommandKind.CONTROL, CommandKind.SKIP, CommandKind.VOTE):
        assert check_command(manager, kind, elsewhere, dj_role_id=None) is Denial.OTHER_CHANNEL
        assert check_command(manager, kind, nowhere, dj_role_id=None) is Denial.NOT_IN_VOICE
    # Looking is fine from anywhere; adding music needs the bot's channel once it plays.
    assert check_command(user, CommandKind.LISTEN, nowhere, dj_role_id=None) is None
    assert (
        check_command(user, CommandKind.LISTEN, elsewhere, dj_role_id=None, needs_voice=True)
        is Denial.OTHER_CHANNEL
    )
    # The bot idle: anyone in a voice channel may start it.
    idle = Situation(user_voice_channel_id=THERE, bot_voice_channel_id=None)
    assert check_command(user, CommandKind.LISTEN, idle, dj_role_id=DJ, needs_voice=True) is None


def test_summon_brings_the_bot_from_any_channel_but_not_from_outside_voice() -> None:
    elsewhere = Situation(user_voice_channel_id=THERE, bot_voice_channel_id=HERE)
    nowhere = Situation(user_voice_channel_id=None, bot_voice_channel_id=HERE)
    assert check_command(dj, CommandKind.SUMMON, elsewhere, dj_role_id=DJ) is None
    assert check_command(dj, CommandKind.SUMMON, nowhere, dj_role_id=DJ) is Denial.NOT_IN_VOICE


def test_settings_are_for_managers_only_from_anywhere() -> None:
    nowhere = Situation(user_voice_channel_id=None, bot_voice_channel_id=HERE)
    for member in (manager, admin, owner):
        assert check_command(member, CommandKind.MANAGE, nowhere, dj_role_id=DJ) is None
    for member in (user, dj):
        assert (
            check_command(member, CommandKind.MANAGE, nowhere, dj_role_id=DJ)
            is Denial.MANAGERS_ONLY
        )
