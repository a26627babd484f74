"""Helpers for tests against real databases: reachability, unique names, throw-away tables.

Every test creates its own uniquely named tables (and schemas) and drops them afterwards, so tests
can share one server with each other and with other people's test runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

# PostgreSQL with trust authentication: the user may be called postgres or root on a dev machine.
PG_URLS = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
)
MYSQL_URLS = ("mysql+pymysql://root:@127.0.0.1:3306/test",)
CONNECT_TIMEOUT_S = 5


def unique_name(prefix: str = "recon_t") -> str:
    """A table or schema name no other test run will use: ``recon_t_3f9a1c2b``."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def backend(url: str) -> str:
    """``sqlite``, ``postgresql`` or ``mysql`` (MariaDB included)."""
    name = sa.make_url(url).get_backend_name()
    return "mysql" if name == "mariadb" else name


def first_reachable(urls: Iterable[str]) -> tuple[str | None, str]:
    """The first URL that answers ``SELECT 1``, or None and the last connection error."""
    error = "no URL given"
    for url in urls:
        engine = sa.create_engine(
            url, poolclass=sa.NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_S}
        )
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return url, ""
        except sa.exc.SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None) or exc
            args = orig.args
            text = args[1] if len(args) == 2 and isinstance(args[1], str) else str(orig)  # PyMySQL
            error = (text.strip().splitlines() or [type(orig).__name__])[0]
        finally:
            engine.dispose()
    return None, error


@contextmanager
def engine_for(url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def temp_table(
    url: str,
    *columns: sa.Column[Any],
    rows: Iterable[Mapping[str, object]] = (),
    name: str | None = None,
    schema: str | None = None,
) -> Iterator[sa.Table]:
    """Create a uniquely named table, insert ``rows``, yield it, and drop it afterwards."""
    metadata = sa.MetaData()
    table = sa.Table(name or unique_name(), metadata, *columns, schema=schema)
    with engine_for(url) as engine:
        metadata.create_all(engine)
        try:
            rows = list(rows)
            if rows:
                with engine.begin() as conn:
                    conn.execute(table.insert(), rows)
            yield table
        finally:
            metadata.drop_all(engine)


@contextmanager
def temp_schema(url: str) -> Iterator[str]:
    """A new, empty schema (a database on MariaDB/MySQL), dropped with its tables afterwards."""
    name = unique_name("recon_s")
    kind = "DATABASE" if backend(url) == "mysql" else "SCHEMA"
    with engine_for(url) as engine:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE {kind} {name}")
        try:
            yield name
        finally:
            cascade = " CASCADE" if kind == "SCHEMA" else ""
            with engine.begin() as conn:
                conn.exec_driver_sql(f"DROP {kind} IF EXISTS {name}{cascade}")


def fill_sequence(url: str, table: sa.Table, rows: int) -> None:
    """Insert ``id`` 1..rows and ``name`` 'name <id>' on the server itself (fast for big tables)."""
    seq = sa.select(sa.literal(1, sa.Integer).label("x")).cte("seq", recursive=True)
    seq = seq.union_all(sa.select(seq.c.x + 1).where(seq.c.x < rows))
    values = sa.select(seq.c.x, sa.literal("name ") + sa.cast(seq.c.x, sa.String(20)))
    with engine_for(url) as engine, engine.begin() as conn:
        if backend(url) == "mysql":
            # Recursive CTEs stop at 1,000 iterations by default (MariaDB / MySQL variable names).
            for variable in ("max_recursive_iterations", "cte_max_recursion_depth"):
                try:
                    with conn.begin_nested():
                        conn.exec_driver_sql(f"SET SESSION {variable} = {rows + 1}")
                except sa.exc.DBAPIError:
                    pass
        conn.execute(table.insert().from_select(["id", "name"], values))
