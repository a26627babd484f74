"""The state store: runs, the xref registry, review decisions and findings in a SQL database.

A SQLite file by default (``recon-state.sqlite`` next to the outputs); PostgreSQL or
MariaDB/MySQL by URL, where ``${VAR}`` reads a password from the environment. Opening a store
creates or migrates its schema (``migrations``). Every write goes through ``transaction()``: one
database transaction under the store lock (``lock``), committed whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, NoSuchModuleError, SQLAlchemyError

from recon.errors import SourceError, StateError
from recon.extract.sql import database_url, limit_statements, masked, timeout_args, where
from recon.state import lifecycle, lock, migrations, tables

log = logging.getLogger(__name__)

DEFAULT_FILE = "recon-state.sqlite"
LOCK_TIMEOUT_S = 60.0
CONNECT_TIMEOUT_S = 15.0
# The longest one statement of the store may run; a weekly run's biggest (the registry's bulk
# update) takes seconds. A server that stalls is given up on 30 s after that (socket reads).
STATEMENT_TIMEOUT_S = 120.0
_READ_MARGIN_S = 30.0
# Query parameters of a store URL that recon reads itself (the driver would refuse them).
_RECON_PARAMETERS = ("statement_timeout",)
_EXAMPLE_URL = "sqlite:///recon-state.sqlite or postgresql+psycopg://user:${PGPASSWORD}@host/db"


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
    def open(
        cls,
        url: str,
        *,
        create: bool = True,
        lock_timeout: float = LOCK_TIMEOUT_S,
        connect_timeout: float = CONNECT_TIMEOUT_S,
        statement_timeout: float = STATEMENT_TIMEOUT_S,
    ) -> Store:
        """Connect, then create or migrate the schema; a StateError names what is wrong.

        ``connect_timeout`` and ``statement_timeout`` (seconds) bound every wait on a database
        server; ``?connect_timeout=``, ``?statement_timeout=`` (and the drivers' own parameters,
        such as PyMySQL's ``read_timeout``) in the URL win.
        """
        parsed, statement_timeout = _parse(url, statement_timeout)
        engine = _engine(parsed, lock_timeout, create, connect_timeout, statement_timeout)
        store = cls(engine, parsed, lock_timeout)
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
                f"cannot open the state store {self.location} ({where(self.url)}): "
                f"{self._message(exc)}"
            ) from exc

    def _message(self, exc: SQLAlchemyError) -> str:
        """The database's own message, first line, with the password masked."""
        return masked(_first_line(exc), self.url)

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
        """Every record ever seen (system, record_id, xref_id, first_seen_run, last_seen_run,
        active); an active one's ``last_seen_run`` is the latest run."""
        from recon.match.stable_ids import xref_text

        t = tables.xref_registry
        with self.transaction() as conn:
            out = frame(conn, sa.select(t).order_by(t.c.system, t.c.record_id))
            latest = conn.execute(sa.select(sa.func.max(tables.runs.c.run_id))).scalar()
        numbers = out.pop("xref_number").to_numpy(dtype=np.int64)
        out.insert(2, "xref_id", xref_text(numbers).to_numpy())
        if len(out) and latest is not None:
            active = out["active"].astype(bool).to_numpy()
            out.loc[active, "last_seen_run"] = int(latest)
        return out

    def changes(self) -> pd.DataFrame:
        t = tables.xref_changes
        return self.read(sa.select(t).order_by(t.c.change_id))

    def findings(self) -> pd.DataFrame:
        """Every finding ever stored (finding_id, family, key, kind, first_seen_run,
        last_seen_run, resolved_run, status, payload, value, payload_run): a live one's
        ``last_seen_run`` is the latest run that checked its family (see
        ``recon.state.findings_io``); ``payload`` its kept row as JSON text, written by run
        ``payload_run``."""
        from recon.state import rows

        f, k = tables.findings, tables.finding_kinds
        names = {code: name for name, code in tables.STATUS.items()}
        statement = sa.select(
            f.c.finding_id, k.c.family, f.c.key, k.c.kind, f.c.first_seen_run,
            f.c.last_seen_run, f.c.resolved_run, f.c.status, f.c.value, f.c.row_block,
        ).join(k, k.c.kind_id == f.c.kind_id)  # fmt: skip
        with self.transaction() as conn:
            out = frame(conn, statement)
            numbers = out["finding_id"].to_numpy(dtype=np.int64)
            kept = rows.read(conn, numbers, pd.to_numeric(out["row_block"]).to_numpy(float))
            out["status"] = out["status"].map(names)
            out["last_seen_run"] = seen_until(out, last_checked(conn))
        kept_rows = rows.as_frame(kept)
        at = pd.Index(kept_rows["finding_id"]).get_indexer(numbers)
        payload = rows.as_json(kept_rows.drop(columns=["finding_id", "row_run"]))
        out["payload"] = _at(payload.to_numpy(dtype=object), at)
        out["payload_run"] = pd.array(_at(kept_rows["row_run"].to_numpy(object), at), "Int64")
        out["finding_id"] = lifecycle.id_text(numbers).to_pylist()
        out = out.drop(columns="row_block").sort_values("finding_id", kind="stable")
        columns = ["finding_id", "family", "key", "kind", "first_seen_run", "last_seen_run"]
        columns += ["resolved_run", "status", "payload", "value", "payload_run"]
        return out[columns].reset_index(drop=True)

    def kept_rows(self, finding_ids: Collection[str]) -> pd.DataFrame:
        """The kept row of each of the given findings (those kept), with the types it was
        written with: ``finding_id``, the row's columns, and ``row_run``, the run that wrote
        it."""
        from recon.state import bulk, rows

        numbers = lifecycle.id_numbers(list(finding_ids))
        f = tables.findings
        with self.transaction() as conn:
            blocks = bulk.read_ids(conn, f.c.finding_id, numbers.tolist(), f.c.row_block)
            found = rows.read(
                conn,
                blocks["finding_id"].to_numpy(dtype=np.int64),
                pd.to_numeric(blocks["row_block"]).to_numpy(dtype=np.float64),
            )
        out = rows.as_frame(found)
        out["finding_id"] = lifecycle.id_text(out["finding_id"].to_numpy()).to_pylist()
        return out

    def accepted_keys(self, family: str, as_of: dt.date) -> set[str]:
        """The keys of the findings of ``family`` whose acceptance holds on ``as_of``."""
        f, k, a = tables.findings, tables.finding_kinds, tables.acceptances
        statement = (
            sa.select(f.c.key)
            .join(a, a.c.finding_id == f.c.finding_id)
            .join(k, k.c.kind_id == f.c.kind_id)
            .where(k.c.family == family, a.c.until >= as_of)
        )
        with self.transaction() as conn:
            return {str(key) for key in conn.execute(statement).scalars()}

    def acceptances(self) -> pd.DataFrame:
        t = tables.acceptances
        out = self.read(sa.select(t).order_by(t.c.acceptance_id))
        numbers = out["finding_id"].to_numpy(dtype=np.int64)
        out["finding_id"] = pd.Series(lifecycle.id_text(numbers).to_pylist(), dtype=object)
        return out


def _at(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``values`` at positions ``at`` as objects, None where ``at`` is -1."""
    out = np.full(len(at), None, dtype=object)
    out[at >= 0] = values[at[at >= 0]]
    return out


def frame(conn: sa.Connection, statement: sa.Select[Any]) -> pd.DataFrame:
    """A query's rows as a frame of object columns, built column by column (pandas would look
    at every row object to guess what it is)."""
    result = conn.execute(statement)
    names = list(result.keys())
    rows = result.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pd.DataFrame(
        {i: np.fromiter(c, dtype=object, count=len(rows)) for i, c in enumerate(columns)}
    ).set_axis(names, axis=1)


def last_checked(conn: sa.Connection, before: int | None = None) -> dict[str, int]:
    """Each finding family's latest run (before ``before``) that checked it."""
    runs = tables.runs
    statement = sa.select(runs.c.run_id, runs.c.families).where(runs.c.families.is_not(None))
    if before is not None:
        statement = statement.where(runs.c.run_id < before)
    latest: dict[str, int] = {}
    for run_id, families in conn.execute(statement):
        for family in str(families).split(","):
            if family:
                latest[family] = max(latest.get(family, 0), int(run_id))
    return latest


def seen_until(findings: pd.DataFrame, latest: dict[str, int]) -> pd.Series:
    """The run each finding was last seen in: its stored ``last_seen_run`` or, while it is live,
    the latest run that checked its family, whichever is later."""
    stored = pd.to_numeric(findings["last_seen_run"]).astype("Int64")
    if not len(findings):
        return stored
    checked = findings["family"].map(latest).astype("Int64")
    live = findings["status"].isin(lifecycle.LIVE).to_numpy() & checked.notna().to_numpy()
    later = np.maximum(stored.fillna(0).to_numpy(), checked.fillna(0).to_numpy())
    return stored.where(~live, pd.array(later, dtype="Int64"))


def check_fits(table: sa.Table, rows: pd.DataFrame, record: Callable[[pd.Series], str]) -> None:
    """Refuse, naming the record and the column, a value longer than its column of ``table``.

    MariaDB would refuse the whole statement without saying which row (or, outside strict mode,
    cut the value silently); ``record`` describes a row of ``rows`` for the message.
    """
    for column in table.columns:
        length = getattr(column.type, "length", None)
        if not length or column.name not in rows.columns or not len(rows):
            continue
        sizes = rows[column.name].astype("string").str.len()
        over = (sizes > length).fillna(False).to_numpy(dtype=bool)
        if over.any():
            first = rows[over].iloc[0]
            raise StateError(
                f"the state store cannot keep {record(first)}: its {column.name} is "
                f"{int(sizes[over].iloc[0])} characters long, and {table.name}.{column.name} "
                f"holds up to {length}"
                + (f" ({int(over.sum())} such rows)" if over.sum() > 1 else "")
            )


@contextmanager
def writing(conn: sa.Connection, what: str) -> Iterator[None]:
    """Turn a failed write into a StateError that names the store, ``what`` was written, and the
    database's reason (with the key a duplicate repeats, where the database gives it)."""
    try:
        yield
    except DBAPIError as exc:
        url = conn.engine.url
        reason = _first_line(exc)
        detail = getattr(getattr(exc.orig, "diag", None), "message_detail", None)
        if detail:
            reason += f" ({detail.strip()})"
        raise StateError(
            f"state store {url.render_as_string(hide_password=True)}: writing {what} failed: "
            + masked(reason, url)
        ) from exc


def first_few(rows: pd.DataFrame, name: Callable[[pd.Series], str], shown: int = 3) -> str:
    """``a, b, c, … (10 in all)``: which rows a failed write held, each named by ``name``."""
    names = [name(row) for _, row in rows.head(shown).iterrows()]
    return ", ".join(names) + (f", … ({len(rows)} in all)" if len(rows) > shown else "")


def shown_id(value: object, limit: int = 60) -> str:
    """A record id in a message: quoted, and cut to ``limit`` characters."""
    text = str(value)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _first_line(exc: SQLAlchemyError) -> str:
    """The database's own message, first line (PyMySQL's text without its error number)."""
    orig = getattr(exc, "orig", None)
    args: tuple[object, ...] = getattr(orig, "args", ())
    text = str(exc if orig is None else orig)
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        text = args[1]  # PyMySQL: (1045, "Access denied for user ...")
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else type(orig or exc).__name__


def today() -> dt.date:
    return dt.date.today()


def _parse(url: str, statement_timeout: float) -> tuple[URL, float]:
    """The store URL with ``${VAR}`` put into its parts, and the statement timeout it asks for."""
    try:
        parsed = database_url(url, label="--store", example=_EXAMPLE_URL)
    except SourceError as exc:
        raise StateError(str(exc)) from exc
    given = parsed.query.get("statement_timeout")
    if given is not None:
        text = given if isinstance(given, str) else given[-1]
        try:
            statement_timeout = float(text)
        except ValueError:
            statement_timeout = -1.0
        if not statement_timeout > 0:
            raise StateError(
                f"--store: statement_timeout={text} in {parsed.render_as_string()} is not a "
                "number of seconds; give one such as statement_timeout=120"
            )
    return parsed.difference_update_query(_RECON_PARAMETERS), statement_timeout


def _engine(
    url: URL, lock_timeout: float, create: bool, connect_timeout: float, statement_timeout: float
) -> sa.Engine:
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
    else:
        connect_args = timeout_args(
            url,
            connect=connect_timeout,
            read=statement_timeout + _READ_MARGIN_S,
            statement=statement_timeout,
        )
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
    else:
        limit_statements(engine, url, statement_timeout)
    return engine


def _immediate_transactions(engine: sa.Engine) -> None:
    """SQLite: recon emits ``BEGIN IMMEDIATE`` itself, taking the write lock at the start of every
    transaction (the pysqlite driver would begin lazily, and upgrade a reader into a deadlock)."""

    @sa.event.listens_for(engine, "connect")
    def _no_driver_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        # A page cache of up to 256 MB: a first run inserts a million rows into indexes that
        # the default 2 MB would read and write again and again.
        dbapi_connection.execute("PRAGMA cache_size = -262144")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
