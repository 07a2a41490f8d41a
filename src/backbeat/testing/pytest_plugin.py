"""pytest plugin: choose real backends per run and hand each test a clean place on them.

Options:
  ``--db=sqlite,postgresql,mariadb``  SQL backends; tests using ``db_backend`` or
                                      ``database_url`` run once per backend (default sqlite).
  ``--bus=memory,redis``              bus backends; tests using ``bus_backend`` run once per
                                      backend (default memory).

Fixtures:
  ``database_url``      a fresh, empty database for this run and backend (session scope).
  ``fresh_database_url`` a fresh, empty database for one test (dropped afterwards).
  ``redis_url``         the test Redis server (fails the test when it cannot be reached).
  ``redis_key_prefix``  a key prefix unique to one test; the whole run's keys are deleted at exit.
  ``redis_server``      a private ``redis-server`` (AOF ``always``) to stop, kill and restart.

Server URLs: ``BACKBEAT_TEST_POSTGRES_URL``, ``BACKBEAT_TEST_MARIADB_URL``,
``BACKBEAT_TEST_REDIS_URL`` (defaults: the local servers).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from backbeat.testing.backends import (
    BUS_BACKENDS,
    DB_BACKENDS,
    create_database,
    delete_redis_prefix,
    drop_database,
    new_run_id,
    run_sync,
    server_url,
)

#: Fixture modules of the emulators and the bus, loaded with this plugin.
pytest_plugins: list[str] = [
    "backbeat.testing.bus_fixtures",
    "backbeat.testing.lavalink.fixtures",
    "backbeat.testing.discord.fixtures",
    "backbeat.testing.redis_server",
]

_RUN_ID = new_run_id()
_counter = itertools.count()


def _choices(value: str, allowed: tuple[str, ...], option: str) -> list[str]:
    chosen = [item.strip() for item in value.split(",") if item.strip()]
    if chosen == ["all"]:
        return list(allowed)
    unknown = sorted(set(chosen) - set(allowed))
    if unknown or not chosen:
        raise pytest.UsageError(
            f"{option}: choose from {', '.join(allowed)} or all (got {value!r})"
        )
    return list(dict.fromkeys(chosen))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("backbeat", "Backbeat backends")
    group.addoption("--db", default="sqlite", help=f"SQL backends: {','.join(DB_BACKENDS)} or all")
    group.addoption(
        "--bus", default="memory", help=f"bus backends: {','.join(BUS_BACKENDS)} or all"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.backbeat_dbs = _choices(config.getoption("--db"), DB_BACKENDS, "--db")  # type: ignore[attr-defined]
    config.backbeat_buses = _choices(config.getoption("--bus"), BUS_BACKENDS, "--bus")  # type: ignore[attr-defined]


def pytest_report_header(config: pytest.Config) -> str:
    dbs = ",".join(config.backbeat_dbs)  # type: ignore[attr-defined]
    buses = ",".join(config.backbeat_buses)  # type: ignore[attr-defined]
    return f"backbeat: run {_RUN_ID}, db={dbs}, bus={buses}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    config = metafunc.config
    if "db_backend" in metafunc.fixturenames:
        metafunc.parametrize("db_backend", config.backbeat_dbs, scope="session")  # type: ignore[attr-defined]
    if "bus_backend" in metafunc.fixturenames:
        metafunc.parametrize("bus_backend", config.backbeat_buses, scope="session")  # type: ignore[attr-defined]


def _database_name() -> str:
    return f"backbeat_test_{_RUN_ID}_{next(_counter)}"


def _create(backend: str, sqlite_dir: Path) -> str:
    try:
        return run_sync(create_database(backend, _database_name(), sqlite_dir=sqlite_dir))
    except Exception as exc:
        pytest.fail(f"cannot create a {backend} test database at {server_url(backend)!r}: {exc!r}")


@pytest.fixture(scope="session")
def database_url(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database on ``db_backend`` shared by this run's tests."""
    url = _create(db_backend, tmp_path_factory.mktemp("sqlite"))
    yield url
    run_sync(drop_database(db_backend, url))


@pytest.fixture
def fresh_database_url(db_backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on ``db_backend`` for one test."""
    url = _create(db_backend, tmp_path)
    yield url
    run_sync(drop_database(db_backend, url))


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The test Redis server; every key this run made is deleted at the end."""
    url = server_url("redis")
    try:
        run_sync(delete_redis_prefix(url, f"bbtest:{_RUN_ID}:"))
    except Exception as exc:
        pytest.fail(f"cannot reach the test Redis at {url!r}: {exc!r}")
    yield url
    run_sync(delete_redis_prefix(url, f"bbtest:{_RUN_ID}:"))


@pytest.fixture
def redis_key_prefix(redis_url: str) -> str:
    """A Redis key prefix no other test or run uses."""
    return f"bbtest:{_RUN_ID}:{next(_counter)}:"
