"""Settings: defaults, parsing, derivation, masking and one clear error per bad variable."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from backbeat.config import (
    MASK,
    bot_user_id_from_token,
    load_settings,
    mask_url,
)
from backbeat.errors import ConfigurationError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No BACKBEAT_ variable from the caller's shell and no .env leaks into these tests."""
    import os

    for name in list(os.environ):
        if name.startswith("BACKBEAT_") and not name.startswith("BACKBEAT_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def token_for(user_id: int) -> str:
    head = base64.b64encode(str(user_id).encode()).decode().rstrip("=")
    return f"{head}.GhIjKl.c2VjcmV0LXBhcnQtb2YtdGhlLXRva2Vu"


def test_defaults_give_the_embedded_setup() -> None:
    settings = load_settings()
    assert settings.database.url == "sqlite+aiosqlite:///data/backbeat.db"
    assert settings.bus.redis_url is None
    assert settings.bus.bus_partitions == 16
    assert settings.discord.discord_token is None
    assert settings.discord.bot_user_id is None
    assert settings.lavalink.lavalink_nodes == []
    assert settings.logging.log_level == "INFO"


def test_bot_user_id_is_derived_from_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKBEAT_DISCORD_TOKEN", token_for(1234567890123456789))
    assert load_settings().discord.bot_user_id == 1234567890123456789


def test_explicit_bot_user_id_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKBEAT_DISCORD_TOKEN", token_for(111))
    monkeypatch.setenv("BACKBEAT_BOT_USER_ID", "222")
    assert load_settings().discord.bot_user_id == 222


@pytest.mark.parametrize("token", ["!!!.x.y", "bm90LWEtbnVtYmVy.x.y"])
def test_underivable_token_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    monkeypatch.setenv("BACKBEAT_DISCORD_TOKEN", token)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert caught.value.variable == "BACKBEAT_BOT_USER_ID"
    assert token not in str(caught.value)


def test_token_helper_rejects_non_numeric_segments() -> None:
    with pytest.raises(ValueError, match="user id"):
        bot_user_id_from_token("bm90LWEtbnVtYmVy.x.y")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0,1,2", [0, 1, 2]), ("0-3", [0, 1, 2, 3]), ("[3, 1]", [1, 3]), ("2, 0-1", [0, 1, 2])],
)
def test_shard_ids_forms(monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[int]) -> None:
    monkeypatch.setenv("BACKBEAT_SHARD_COUNT", "4")
    monkeypatch.setenv("BACKBEAT_SHARD_IDS", raw)
    assert load_settings().discord.shard_ids == expected


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("BACKBEAT_LOG_LEVEL", "LOUD", "'DEBUG', 'INFO'"),
        ("BACKBEAT_LOG_FORMAT", "xml", "'json' or 'console'"),
        ("BACKBEAT_BUS_PARTITIONS", "0", "greater than or equal to 1"),
        ("BACKBEAT_BUS_PARTITIONS", "many", "valid integer"),
        ("BACKBEAT_STATUS_PORT", "70000", "less than or equal to 65535"),
        ("BACKBEAT_SHARD_IDS", "1", "BACKBEAT_SHARD_COUNT"),
        ("BACKBEAT_DATABASE_URL", "oracle://db", "postgresql://"),
        ("BACKBEAT_REDIS_URL", "http://localhost", "redis://"),
        ("BACKBEAT_DISCORD_API_BASE", "discord.com", "http(s) URL"),
        ("BACKBEAT_DISCORD_GATEWAY_URL", "https://gateway", "ws(s) URL"),
        ("BACKBEAT_LAVALINK_NODES", "{not json", "JSON list"),
        ("BACKBEAT_REDIS_KEY_PREFIX", "a b", "letters, digits"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert caught.value.variable == variable
    assert fragment in caught.value.problem


def test_bad_lavalink_node_names_the_item_and_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "BACKBEAT_LAVALINK_NODES", '[{"name": "a", "url": "ftp://x", "password": "pw"}]'
    )
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert caught.value.variable == "BACKBEAT_LAVALINK_NODES[0].url"


def test_duplicate_node_names_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    node = '{"name": "a", "url": "http://127.0.0.1:2333", "password": "pw"}'
    monkeypatch.setenv("BACKBEAT_LAVALINK_NODES", f"[{node}, {node}]")
    with pytest.raises(ConfigurationError, match="unique"):
        load_settings()


def test_database_urls_get_async_drivers(monkeypatch: pytest.MonkeyPatch) -> None:
    for given, expected in [
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("mariadb://u@h/db", "mysql+aiomysql://u@h/db"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ]:
        monkeypatch.setenv("BACKBEAT_DATABASE_URL", given)
        assert load_settings().database.url == expected


def test_dotenv_file_is_read_and_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env_file = tmp_path / "custom.env"
    env_file.write_text("BACKBEAT_BUS_PARTITIONS=32\nBACKBEAT_LOG_LEVEL=debug\n")
    assert load_settings(env_file).bus.bus_partitions == 32
    monkeypatch.setenv("BACKBEAT_BUS_PARTITIONS", "8")
    settings = load_settings(env_file)
    assert settings.bus.bus_partitions == 8
    assert settings.logging.log_level == "DEBUG"


def test_public_view_masks_every_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    token = token_for(42)
    monkeypatch.setenv("BACKBEAT_DISCORD_TOKEN", token)
    monkeypatch.setenv("BACKBEAT_REDIS_URL", "redis://:redispass@127.0.0.1:6379/0")
    monkeypatch.setenv("BACKBEAT_DATABASE_URL", "postgresql://bb:dbpass@127.0.0.1/bb")
    monkeypatch.setenv(
        "BACKBEAT_LAVALINK_NODES",
        '[{"name": "n1", "url": "http://127.0.0.1:2333", "password": "nodepass"}]',
    )
    settings = load_settings()
    rendered = "\n".join(settings.public_view().values())
    for secret in (token, "redispass", "dbpass", "nodepass"):
        assert secret not in rendered
    assert settings.public_view()["BACKBEAT_DISCORD_TOKEN"] == MASK
    assert set(settings.secrets()) == {token, "redispass", "dbpass", "nodepass"}


def test_mask_url_keeps_everything_but_the_password() -> None:
    assert mask_url("redis://user:pw@[::1]:6380/2") == f"redis://user:{MASK}@[::1]:6380/2"
    assert mask_url("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379"
