"""The settings editor's validation of forms and JSON bodies."""

from __future__ import annotations

from backbeat.domain.guild_settings import AutoplayMode, BlacklistScope, GuildSettings
from backbeat.panel.settings_edit import Choices, differences, from_form, from_json

CHOICES = Choices(role_ids=frozenset({1, 10, 11}), text_channel_ids=frozenset({20}), guild_id=1)


def _form(**values: str) -> dict[str, str]:
    form = {
        "autoplay_mode": "similar",
        "default_volume": "100",
        "dj_role_id": "",
        "announce_channel_id": "",
        "blacklist": "",
        "blacklist_scope": "autoplay",
        "vote_skip_ratio": "50",
        "max_queue_per_user": "",
    }
    form.update(values)
    return form


def test_a_full_form_becomes_typed_changes() -> None:
    changes, errors = from_form(
        _form(
            autoplay_enabled="on",
            autoplay_mode="mixed",
            default_volume="0",
            dj_role_id="10",
            announce_channel_id="20",
            blacklist="a\n\n b \na\nartist:Harbor  Pilots\nhttps://x.test/v?id=1\nKeyword:A",
            blacklist_scope="all",
            vote_skip_ratio="100",
            max_queue_per_user="10000",
        ),
        CHOICES,
    )
    assert errors == {}
    assert changes == {
        "autoplay_enabled": True,
        "twenty_four_seven": False,
        "autoplay_mode": AutoplayMode.MIXED,
        "default_volume": 0,
        "dj_role_id": 10,
        "announce_channel_id": 20,
        "blacklist": (
            "keyword:a",
            "keyword:b",
            "artist:Harbor Pilots",
            "track:https://x.test/v?id=1",
        ),
        "blacklist_scope": BlacklistScope.ALL,
        "vote_skip_ratio": 1.0,
        "max_queue_per_user": 10000,
    }


def test_each_invalid_field_gets_its_message() -> None:
    _, errors = from_form(
        _form(
            default_volume="201",
            dj_role_id="1",  # @everyone
            announce_channel_id="99",
            vote_skip_ratio="-1",
            max_queue_per_user="x",
            autoplay_enabled="maybe",
            blacklist="\n".join(str(i) for i in range(101)),
            blacklist_scope="sometimes",
            premium_tier="pro",
            surprise="1",
        ),
        CHOICES,
    )
    assert set(errors) == {
        "default_volume",
        "dj_role_id",
        "announce_channel_id",
        "vote_skip_ratio",
        "max_queue_per_user",
        "autoplay_enabled",
        "blacklist",
        "blacklist_scope",
        "premium_tier",
        "surprise",
    }
    _, long_entry = from_form(_form(blacklist="x" * 201), CHOICES)
    assert "blacklist" in long_entry


def test_json_takes_only_the_keys_sent_and_checks_types() -> None:
    changes, errors = from_json({"vote_skip_ratio": 0.3, "dj_role_id": None}, CHOICES)
    assert errors == {}
    assert changes == {"vote_skip_ratio": 0.3, "dj_role_id": None}
    _, errors = from_json(
        {
            "default_volume": True,
            "vote_skip_ratio": "0.5",
            "blacklist": [1],
            "twenty_four_seven": 1,
        },
        CHOICES,
    )
    assert set(errors) == {"default_volume", "vote_skip_ratio", "blacklist", "twenty_four_seven"}


def test_differences_drop_unchanged_values() -> None:
    current = GuildSettings(guild_id=1, blacklist=("a",))
    assert differences(current, {"blacklist": ("a",), "default_volume": 100}) == {}
    assert differences(current, {"autoplay_mode": AutoplayMode.GENRE}) == {
        "autoplay_mode": AutoplayMode.GENRE
    }


def test_each_bad_blacklist_line_is_named() -> None:
    _, errors = from_form(
        _form(blacklist="artist:Ok\ngenre:lofi\nkeyword:\n" + "track:" + "x" * 201), CHOICES
    )
    message = errors["blacklist"]
    assert "line 2: unknown entry type 'genre'" in message
    assert "artist:, channel:, keyword:, track:" in message
    assert "line 3: the entry is empty" in message
    assert "line 4: an entry holds at most 200 characters" in message
    full = "\n".join(f"artist:{i}" for i in range(101))
    _, errors = from_form(_form(blacklist=full), CHOICES)
    assert errors["blacklist"] == "at most 100 entries (101 given)"
    # the JSON body takes a list of the same entries
    changes, errors = from_json({"blacklist": ["channel:Lofi Girl", "rain"]}, CHOICES)
    assert errors == {}
    assert changes == {"blacklist": ("channel:Lofi Girl", "keyword:rain")}
    _, errors = from_json({"blacklist_scope": "everywhere"}, CHOICES)
    assert errors == {"blacklist_scope": "must be one of autoplay, all"}
