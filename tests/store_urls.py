"""A state-store URL of one test's own on any backend: the SQLite file itself, a new schema on
PostgreSQL (through ``search_path``) or a new database on MariaDB/MySQL, dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from dbs import backend, temp_schema


@contextmanager
def isolated_store_url(db_url: str) -> Iterator[str]:
    if backend(db_url) == "sqlite":
        yield db_url
        return
    with temp_schema(db_url) as name:
        url = sa.make_url(db_url)
        if backend(db_url) == "mysql":
            url = url.set(database=name)
        else:
            url = url.update_query_dict({"options": f"-csearch_path={name}"})
        yield url.render_as_string(hide_password=False)
