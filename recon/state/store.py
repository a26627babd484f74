"""The state store: runs, the xref registry, review decisions and findings in a SQL database.

A SQLite file by default (``recon-state.sqlite`` next to the outputs); PostgreSQL or
MariaDB/MySQL by URL, where ``${VAR}`` reads a password from the environment. Opening a store
creates or migrates its schema (``migrations``). Every write goes through ``transaction()``: one
database transaction under the store lock (``lock``), committed whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from recon.errors import SourceError, StateError
from recon.state import lock, migrations, tables

log = logging.getLogger(__name__)

DEFAULT_FILE = "recon-state.sqlite"
LOCK_TIMEOUT_S = 60.0
_CONNECT_TIMEOUT_S = 15


def default_store_url(folder: Path | None = None) -> str:
    """``sqlite:///<folder or cwd>/recon-state.sqlite`` (absolute, so cron's cwd does not matter)."""
    return f"sqlite:///{(folder or Path.cwd()).resolve() / DEFAULT_FILE}"


class Store:
    """An open state store. Use ``Store.open(url)``; ``transaction()`` for every write."""

    def __init__(self, engine: sa.Engine, url: URL, lock_timeout: float) -> None:
        self.engine = engine
        self.url = url
        self.location = url.render_as_string(hide_password=True)
        self.lock_timeout = lock_timeout

    @classmethod
    def open(cls, url: str, *, create: bool = True, lock_timeout: float = LOCK_TIMEOUT_S) -> Store:
        """Connect, then create or migrate the schema; a StateError names what is wrong."""
        parsed = _parse(url)
        store = cls(_engine(parsed, lock_timeout, create), parsed, lock_timeout)
        try:
            with store.transaction() as conn:
                if not create and migrations.stored_version(conn) == 0:
                    raise StateError(f"the state store {store.location} holds no recon state yet")
                migrations.migrate(conn, store.location)
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """One transaction under the store lock: committed when the block ends, else rolled back."""
        try:
            with (
                self._connect() as conn,
                lock.held(conn, self.lock_timeout, self.location),
                conn.begin(),
            ):
                yield conn
        except sa.exc.OperationalError as exc:
            if "database is locked" in str(exc.orig):  # SQLite's busy timeout ran out
                raise lock.busy(self.location, self.lock_timeout) from exc
            raise StateError(f"state store {self.location}: {self._message(exc)}") from exc
        except SQLAlchemyError as exc:
            raise StateError(f"state store {self.location}: {self._message(exc)}") from exc

    def _connect(self) -> sa.Connection:
        try:
            return self.engine.connect()
        except DBAPIError as exc:
            raise StateError(
                f"cannot open the state store {self.location}: {self._message(exc)}"
            ) from exc

    def _message(self, exc: SQLAlchemyError) -> str:
        """The database's own message, first line, with the password masked."""
        orig = getattr(exc, "orig", None)
        args: tuple[object, ...] = getattr(orig, "args", ())
        text = str(exc if orig is None else orig)
        if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
            text = args[1]  # PyMySQL: (1045, "Access denied for user ...")
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        message = lines[0] if lines else type(orig or exc).__name__
        if self.url.password:
            message = message.replace(str(self.url.password), "***")
        return message

    def read(self, statement: sa.Select[Any]) -> pd.DataFrame:
        """A query's rows as a frame (columns named as selected)."""
        with self.transaction() as conn:
            return frame(conn, statement)

    def schema_version(self) -> int:
        with self.transaction() as conn:
            return migrations.stored_version(conn)

    def runs(self) -> pd.DataFrame:
        return self.read(sa.select(tables.runs).order_by(tables.runs.c.run_id))

    def registry(self) -> pd.DataFrame:
        t = tables.xref_registry
        return self.read(sa.select(t).order_by(t.c.system, t.c.record_id))

    def changes(self) -> pd.DataFrame:
        t = tables.xref_changes
        return self.read(sa.select(t).order_by(t.c.change_id))

    def findings(self) -> pd.DataFrame:
        t = tables.findings
        return self.read(sa.select(t).order_by(t.c.finding_id))

    def acceptances(self) -> pd.DataFrame:
        t = tables.acceptances
        return self.read(sa.select(t).order_by(t.c.acceptance_id))


def frame(conn: sa.Connection, statement: sa.Select[Any]) -> pd.DataFrame:
    result = conn.execute(statement)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()), dtype=object)


def today() -> dt.date:
    return dt.date.today()


def _parse(url: str) -> URL:
    from recon.extract.sql import expand_env

    try:
        expanded = expand_env(url, label="--store")
    except SourceError as exc:
        raise StateError(str(exc)) from exc
    try:
        return sa.make_url(expanded)
    except ArgumentError as exc:
        raise StateError(
            f"--store: '{url}' is not a database URL; expected one such as "
            "sqlite:///recon-state.sqlite or postgresql+psycopg://user:${PGPASSWORD}@host/db"
        ) from exc


def _engine(url: URL, lock_timeout: float, create: bool) -> sa.Engine:
    backend = url.get_backend_name()
    connect_args: dict[str, object] = {}
    if backend == "sqlite":
        path = Path(url.database or "")
        if url.database in (None, "", ":memory:"):
            raise StateError("--store: an in-memory SQLite store remembers nothing; give a file")
        if not create and not path.is_file():
            raise StateError(f"no state store at {path}; run recon with --store first")
        if not path.parent.is_dir():
            raise StateError(f"--store: the folder {path.parent} does not exist")
        connect_args["timeout"] = lock_timeout  # SQLite's busy timeout: how long to wait
    elif backend in ("postgresql", "mysql", "mariadb"):
        connect_args["connect_timeout"] = _CONNECT_TIMEOUT_S
    try:
        engine = sa.create_engine(url, poolclass=sa.NullPool, connect_args=connect_args)
    except (NoSuchModuleError, ImportError) as exc:
        raise StateError(
            f"--store: cannot use '{url.drivername}://' ({exc}); use sqlite:///FILE, "
            "postgresql+psycopg:// (pip install 'recon[postgres]') or mysql+pymysql:// "
            "(pip install 'recon[mysql]')"
        ) from exc
    if backend == "sqlite":
        _immediate_transactions(engine)
    return engine


def _immediate_transactions(engine: sa.Engine) -> None:
    """SQLite: recon emits ``BEGIN IMMEDIATE`` itself, taking the write lock at the start of every
    transaction (the pysqlite driver would begin lazily, and upgrade a reader into a deadlock)."""

    @sa.event.listens_for(engine, "connect")
    def _no_driver_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
