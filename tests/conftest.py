"""Shared fixtures. Database fixtures skip with a reason on a machine without the servers,
and fail instead when CI=true, since CI must exercise the real databases."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

# tests/ is on sys.path: pytest puts the rootdir conftest's folder there.
from dbs import MYSQL_URLS, PG_URLS, first_reachable
from hypothesis import settings

# CI explores the same examples on every run, so a red build is reproducible; locally hypothesis
# keeps searching new ones (and remembers failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")


def _server_url(title: str, env_var: str, defaults: tuple[str, ...]) -> str:
    """The first URL that answers (``env_var`` overrides the defaults); else skip, or fail on CI."""
    override = os.environ.get(env_var)
    urls = (override,) if override else defaults
    url, error = first_reachable(urls)
    if url is not None:
        return url
    parsed = sa.make_url(urls[0])
    where = f"{parsed.host or 'localhost'}:{parsed.port or ''}".rstrip(":")
    reason = f"{title} not reachable at {where}: {error}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(
            f"{reason}. CI must run the database tests: start the server or set {env_var}.",
            pytrace=False,
        )
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A PostgreSQL URL (psycopg 3) that answered; RECON_TEST_PG_URL overrides the default."""
    return _server_url("PostgreSQL", "RECON_TEST_PG_URL", PG_URLS)


@pytest.fixture(scope="session")
def mysql_url() -> str:
    """A MariaDB/MySQL URL (PyMySQL) that answered; RECON_TEST_MYSQL_URL overrides the default."""
    return _server_url("MariaDB/MySQL", "RECON_TEST_MYSQL_URL", MYSQL_URLS)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file of this test's own."""
    path = tmp_path / "recon-test.sqlite"
    sqlite3.connect(path).close()  # an empty database file, as a user's would exist
    return f"sqlite:///{path}"


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.db),
        pytest.param("mysql", marks=pytest.mark.db),
    ]
)
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test against SQLite, PostgreSQL and MariaDB/MySQL."""
    fixture = {"sqlite": "sqlite_url", "postgresql": "pg_url", "mysql": "mysql_url"}
    return str(request.getfixturevalue(fixture[request.param]))
