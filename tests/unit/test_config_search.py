"""The search, URL-safety and playback-failure settings of AudioSettings."""

from __future__ import annotations

import ipaddress

import pytest

from backbeat.config import AudioSettings, load_settings
from backbeat.errors import ConfigurationError
from backbeat.net import policy_from_settings


def test_defaults_match_the_issue() -> None:
    audio = AudioSettings(_env_file=None)  # type: ignore[call-arg]
    assert audio.search_provider == "ytsearch"
    assert audio.search_cache_ttl_s == 300.0
    assert audio.suggest_budget_s == 1.5
    assert (audio.play_retry_base_s, audio.play_retry_cap_s, audio.play_retry_attempts) == (
        1.0,
        30.0,
        3,
    )
    assert audio.url_allowlist == []
    policy = policy_from_settings(audio)
    assert policy.resolve_timeout_s == 1.0
    assert policy.max_length == 512


def test_allowlist_from_a_comma_list_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKBEAT_URL_ALLOWLIST", " media.lan, *.home.arpa ,10.1.0.0/16")
    audio = AudioSettings(_env_file=None)  # type: ignore[call-arg]
    assert audio.url_allowlist == ["media.lan", "*.home.arpa", "10.1.0.0/16"]
    allow = policy_from_settings(audio).allowlist
    assert allow.admits_host("media.lan")
    assert allow.admits_host("nas.home.arpa")
    assert allow.admits_address(ipaddress.ip_address("10.1.9.9"))
    monkeypatch.setenv("BACKBEAT_URL_ALLOWLIST", '["[fd12::]/16"]')
    assert AudioSettings(_env_file=None).url_allowlist == ["[fd12::]/16"]  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("BACKBEAT_SEARCH_PROVIDER", "local", "must be one of"),
        ("BACKBEAT_URL_ALLOWLIST", "bad entry!", "neither a host"),
        ("BACKBEAT_URL_ALLOWLIST", "10.0.0.0/99", "not a network"),
        ("BACKBEAT_URL_MAX_LENGTH", "100000", "less than or equal to 512"),
        ("BACKBEAT_SUGGEST_BUDGET_S", "3", "less than 3"),
        ("BACKBEAT_PLAY_RETRY_CAP_S", "0.5", "at least BACKBEAT_PLAY_RETRY_BASE_S"),
    ],
)
def test_bad_values_name_their_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, words: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as refused:
        load_settings(env_file=None)
    assert refused.value.variable == variable
    assert words in refused.value.problem
