"""docs/configuration.md lists every setting with the default the code has, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import SecretStr

from backbeat.config import SECTIONS, env_name
from backbeat.testing.backends import DEFAULT_SERVER_URLS

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
ROW = re.compile(r"^\| `(BACKBEAT_[A-Z0-9_]+)` \|([^|]*)\|")


def documented() -> dict[str, str]:
    rows: dict[str, str] = {}
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match:
            name, default = match.group(1), match.group(2).strip().strip("`")
            assert name not in rows, f"{name} is documented twice"
            rows[name] = default
    return rows


def default_as_documented(value: object) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, list):
        return "[]" if not value else repr(value)
    return str(value)


def in_code() -> dict[str, str]:
    rows: dict[str, str] = {}
    for section in SECTIONS:
        for name, field in section.model_fields.items():
            default = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
            rows[env_name(name)] = default_as_documented(default)
    test_variables = {
        "postgresql": "BACKBEAT_TEST_POSTGRES_URL",
        "mariadb": "BACKBEAT_TEST_MARIADB_URL",
        "redis": "BACKBEAT_TEST_REDIS_URL",
    }
    for backend, variable in test_variables.items():
        rows[variable] = DEFAULT_SERVER_URLS[backend]
    return rows


def test_every_setting_is_documented_with_its_default() -> None:
    assert documented() == in_code()
