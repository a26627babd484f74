"""Read a database table or query into raw chunks: source column names, text values, row ordinals.

A raw chunk is a DataFrame with one text column per result column (missing = NA) and an int64
``_row`` column: the 1-based ordinal of the record in the result, continuing across chunks. Rows are
streamed with a server-side cursor (PostgreSQL, MariaDB/MySQL; SQLite steps its cursor lazily), so
memory stays bounded by ``chunk_rows`` however large the table is.

Values become text without losing anything: big integers and decimals keep every digit, dates read
as ISO dates. Parsing the text into ids, amounts and dates is left to the loader, as for CSV files.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import logging
import math
import os
import re
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    NoSuchTableError,
    SQLAlchemyError,
)

from recon.config.models import SqlSource
from recon.errors import SourceError
from recon.schema import TEXT_DTYPE

log = logging.getLogger(__name__)

_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_URL_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")
_EXAMPLE_URL = "postgresql+psycopg://user:${PGPASSWORD}@host:5432/database"
_PORT = re.compile(r"://(?:[^@/]*@)?(?:\[[^\]]*\]|[^/:?@]*):([^/?@]*)(?=[/?]|$)")
# libpq TCP keepalives: a server that is gone (not merely slow) is noticed within about 2 minutes.
_PG_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 60,
    "keepalives_interval": 10,
    "keepalives_count": 6,
}
_TABLES_SHOWN = 20
# The drivers recon documents, by SQLAlchemy backend: (pip extra, URL scheme to use).
_DRIVERS = {
    "postgresql": ("postgres", "postgresql+psycopg://"),
    "mysql": ("mysql", "mysql+pymysql://"),
    "mariadb": ("mysql", "mariadb+pymysql://"),
}


def read_sql_chunks(source: SqlSource, *, label: str) -> Iterator[pd.DataFrame]:
    """Yield raw chunks of ``source.table`` or ``source.query``, each at most ``chunk_rows`` rows.

    ``label`` names the table in messages. Every failure is a SourceError with one clear message;
    a result without rows yields one empty chunk that still has the result's columns.
    """
    url = database_url(source.url, label=label)
    shown = url.render_as_string(hide_password=True)
    connect_args = timeout_args(
        url,
        connect=source.connect_timeout,
        read=source.read_timeout,
        statement=source.read_timeout,  # PostgreSQL: each FETCH of the server-side cursor
    )
    engine = _create_engine(url, connect_args, label=label)
    try:
        try:
            conn = engine.connect()
        except DBAPIError as exc:
            detail = masked(_db_message(exc), url)
            raise SourceError(
                f"{label}: cannot connect to {where(url)} ({shown}): {detail}"
                + _timeout_hint(exc, label, source, connecting=True)
            ) from exc
        with conn:
            statement: sa.Select[Any] | str
            if source.table is not None:
                statement = _table_select(conn, source.table, label=label, shown=shown)
                what = f"reading table {source.table} failed"
            else:
                assert source.query is not None
                statement, what = source.query, "the query failed"
            chunks = _stream(conn, statement, source.chunk_rows, label=label, what=what)
            try:
                yield from chunks
            except SourceError as exc:
                cause = exc.__cause__
                if isinstance(cause, DBAPIError) and _timed_out(cause):
                    raise SourceError(
                        f"{exc} — no answer from {where(url)} ({shown})"
                        + _timeout_hint(cause, label, source, connecting=False)
                    ) from cause
                raise
    finally:
        engine.dispose()


def database_url(text: str, *, label: str, example: str = _EXAMPLE_URL) -> URL:
    """Parse a database URL, then put each ``${VAR}`` into the part of the URL it stands in.

    Secrets never go into the URL's text: a password holding ``@``, ``:`` or ``/`` stays the
    password (the text around it would otherwise be read as host and port). A URL that is one
    ``${VAR}`` as a whole is read from that variable. An unset variable is an error.
    """
    whole = _ENV_VAR.fullmatch(text.strip())
    if whole:
        text = _env_value(whole.group(1), label=label)
    try:
        url = make_url(text)
    except ArgumentError as exc:
        raise SourceError(
            f"{label}: '{_masked_text(text)}' is not a database URL; expected one such as "
            f"{example} (percent-encode special characters in a user name or password "
            "written into the URL; a ${VAR} may hold any)"
        ) from exc
    except ValueError as exc:  # make_url's int() of the port
        port = _PORT.search(text)
        raise SourceError(
            f"{label}: the port '{port.group(1) if port else '?'}' in {_masked_text(text)} is "
            "not a number; write it as digits, such as :5432 (or leave it out for the default)"
        ) from exc

    def expand(part: str) -> str:
        return _ENV_VAR.sub(lambda m: _env_value(m.group(1), label=label), part)

    parts = {
        name: expand(value)
        for name in ("username", "password", "host", "database")
        if isinstance(value := getattr(url, name), str) and "${" in value
    }
    query = {
        key: tuple(map(expand, value)) if isinstance(value, tuple) else expand(value)
        for key, value in url.query.items()
    }
    return url.set(query=query, **parts)  # type: ignore[arg-type]


def timeout_args(
    url: URL, *, connect: float, read: float, statement: float | None
) -> dict[str, object]:
    """Driver arguments that bound every wait on the server; the URL's own parameters win.

    ``connect``: reaching the server and logging in. ``read``: how long MariaDB/MySQL may stay
    silent on the socket (PyMySQL ``read_timeout``/``write_timeout``). ``statement``: PostgreSQL's
    ``statement_timeout``, so a stalled statement is cancelled by the server itself; keepalives
    notice a peer that is gone. MariaDB/MySQL statement limits are set by ``limit_statements``.
    """
    backend = url.get_backend_name()
    query = url.query
    args: dict[str, object] = {}
    if backend == "postgresql":
        if "connect_timeout" not in query:
            args["connect_timeout"] = max(2, math.ceil(connect))  # libpq: whole seconds, >= 2
        args.update({k: v for k, v in _PG_KEEPALIVES.items() if k not in query})
        options = " ".join(_values(query.get("options")))
        if statement is not None and "statement_timeout" not in options:
            limit = f"-c statement_timeout={math.ceil(statement * 1000)}"
            args["options"] = f"{options} {limit}".strip()
    elif backend in ("mysql", "mariadb"):
        exact = url.get_driver_name() == "pymysql"  # others take whole seconds
        for key, value in (
            ("connect_timeout", connect),
            ("read_timeout", read),
            ("write_timeout", read),
        ):
            if key not in query:
                args[key] = value if exact else math.ceil(value)
    return args


def limit_statements(engine: sa.Engine, url: URL, seconds: float) -> None:
    """MariaDB/MySQL: every new connection limits its statements to ``seconds`` on the server.

    MariaDB's ``max_statement_time`` (seconds) covers every statement; MySQL's
    ``max_execution_time`` (milliseconds) covers SELECTs. An ``init_command`` in the URL that sets
    either wins. PostgreSQL's limit is a connect option (``timeout_args``); SQLite has none.
    """
    init = " ".join(_values(url.query.get("init_command")))
    if url.get_backend_name() not in ("mysql", "mariadb") or "max_" in init:
        return

    @sa.event.listens_for(engine, "connect")
    def _limit(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT VERSION()")
            version = str(cursor.fetchone()[0])
            if "mariadb" in version.lower():
                cursor.execute(f"SET SESSION max_statement_time = {float(seconds):g}")
            else:
                cursor.execute(f"SET SESSION max_execution_time = {math.ceil(seconds * 1000)}")
        finally:
            cursor.close()


def where(url: URL) -> str:
    """``database 'erp' on db.example.com:5432`` or ``SQLite database FILE``, for messages."""
    if url.get_backend_name() == "sqlite":
        return f"SQLite database {url.database or ':memory:'}"
    host = url.host or "localhost"
    if url.port:
        host = f"{host}:{url.port}"
    return f"database '{url.database or ''}' on {host}"


def masked(message: str, url: URL) -> str:
    """``message`` with the URL's password (as given and percent-encoded) replaced by ``***``."""
    if url.password:
        secret = str(url.password)
        for form in {secret, quote_plus(secret), quote(secret, safe="")}:
            message = message.replace(form, "***")
    return message


def _env_value(name: str, *, label: str) -> str:
    if name not in os.environ:
        raise SourceError(
            f"{label}: the database URL uses ${{{name}}}, but the environment variable "
            f"{name} is not set; set it before running recon"
        )
    return os.environ[name]


def _values(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else value


def _masked_text(text: str) -> str:
    return _URL_PASSWORD.sub(r"\1***@", text)


def _timed_out(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "timed out" in text or "timeout" in text or "max_statement_time" in text


def _timeout_hint(exc: DBAPIError, label: str, source: SqlSource, *, connecting: bool) -> str:
    if not _timed_out(exc):
        return ""
    setting = f"tables.{label}.sql"
    if connecting:  # MariaDB/MySQL wait for the server's greeting up to the read timeout
        return (
            f"; {setting}.connect_timeout is {source.connect_timeout:g} s, "
            f"read_timeout {source.read_timeout:g} s"
        )
    return (
        f"; {setting}.read_timeout is {source.read_timeout:g} s (raise it in recon.yaml "
        "if the query needs longer)"
    )


def text_column(values: Sequence[object]) -> pd.api.extensions.ExtensionArray:
    """One result column as text (``pd.StringDtype``), converted losslessly by the values' type.

    int → ``123`` (every digit), Decimal and float → plain notation without exponent, date →
    ``2026-10-31``, datetime → ``2026-10-31`` at midnight else ``2026-10-31T13:45:00``, bool →
    ``true``/``false``, bytes → UTF-8 text (hex ``0x…`` when not UTF-8), str unchanged,
    None and NaN → NA.
    """
    kinds = set(map(type, values))
    has_null = type(None) in kinds
    kinds.discard(type(None))
    if kinds <= {str}:
        return pd.array(values, dtype=TEXT_DTYPE)
    if len(kinds) == 1:
        convert = _converter(kinds.pop())
        if has_null:
            text = [None if v is None else convert(v) for v in values]
        else:
            text = list(map(convert, values))
    else:
        cache: dict[type, Callable[[Any], str | None]] = {}
        text = []
        for v in values:
            if v is None:
                text.append(None)
                continue
            kind = type(v)
            if kind not in cache:
                cache[kind] = _converter(kind)
            text.append(cache[kind](v))
    return pd.array(text, dtype=TEXT_DTYPE)


def _converter(kind: type) -> Callable[[Any], str | None]:
    # bool before int, datetime before date: each is a subclass of the other.
    if issubclass(kind, str):
        return _same
    if issubclass(kind, bool | np.bool_):
        return _bool_text
    if issubclass(kind, int | np.integer):
        return str if kind is int else _int_text
    if issubclass(kind, Decimal):
        return _decimal_text
    if issubclass(kind, float):
        return _float_text
    if issubclass(kind, np.floating):
        return _numpy_float_text
    if issubclass(kind, dt.datetime):
        return _datetime_text
    if issubclass(kind, dt.date | dt.time):
        return _iso_text
    if issubclass(kind, bytes | bytearray | memoryview):
        return _bytes_text
    if issubclass(kind, dict | list):
        return _json_text  # PostgreSQL json/jsonb, arrays
    return str  # UUID, timedelta, IP addresses and other driver types: their usual spelling


def _same(v: str) -> str:
    return v


def _bool_text(v: bool) -> str:
    return "true" if v else "false"


def _int_text(v: int) -> str:
    return str(int(v))


def _decimal_text(v: Decimal) -> str | None:
    return None if v.is_nan() else format(v, "f")


def _iso_text(v: dt.date | dt.time) -> str:
    return v.isoformat()


def _json_text(v: object) -> str:
    return json.dumps(v, ensure_ascii=False, default=str)


def _numpy_float_text(v: np.floating) -> str | None:
    return None if np.isnan(v) else np.format_float_positional(v, trim="-")


def _float_text(v: float) -> str | None:
    text = repr(float(v))
    if "e" in text or "n" in text:  # 1e+15, 1e-07, nan, inf
        if v != v:
            return None
        if text.endswith("inf"):
            return text
        return np.format_float_positional(v, unique=True, trim="-")
    return text.removesuffix(".0")


def _datetime_text(v: dt.datetime) -> str:
    if v.tzinfo is None and v.time() == dt.time(0):
        return v.date().isoformat()
    return v.isoformat()


def _bytes_text(v: bytes | bytearray | memoryview) -> str:
    raw = bytes(v)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + raw.hex()


def _create_engine(url: URL, connect_args: dict[str, object], *, label: str) -> sa.Engine:
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        in_file = database not in ("", ":memory:") and not database.startswith("file:")
        if in_file and not Path(database).is_file():
            raise SourceError(f"{label}: SQLite database file {database} not found")
    try:
        return sa.create_engine(url, poolclass=sa.NullPool, connect_args=connect_args)
    except NoSuchModuleError as exc:
        raise SourceError(
            f"{label}: unknown kind of database '{url.drivername}' in the URL; use for example "
            "postgresql+psycopg://, mysql+pymysql:// or sqlite:///"
        ) from exc
    except ImportError as exc:
        module = exc.name or url.get_driver_name()
        extra, scheme = _DRIVERS.get(backend, (None, None))
        if extra is None:
            fix = f"install the Python driver for it (pip install {module})"
        elif url.drivername + "://" == scheme:
            fix = f"install it with: pip install 'recon[{extra}]'"
        else:
            fix = f"use a {scheme} URL and install its driver with: pip install 'recon[{extra}]'"
        raise SourceError(
            f"{label}: the database driver for {url.drivername}:// ({module}) is not installed; "
            + fix
        ) from exc


def _db_message(exc: SQLAlchemyError) -> str:
    """The database's own message, first line only (no SQL echo, no driver class names)."""
    orig = getattr(exc, "orig", None)
    text = str(exc if orig is None else orig)
    args: tuple[object, ...] = getattr(orig, "args", ())
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        text = args[1]  # PyMySQL: (1146, "Table 'test.x' doesn't exist")
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else type(orig or exc).__name__


def _table_select(conn: Connection, table: str, *, label: str, shown: str) -> sa.Select[Any]:
    """``SELECT *`` from a table or view, identifiers quoted by SQLAlchemy, primary key order.

    Ordering by the primary key makes ``_row`` and every later tie-break the same from run to run.
    """
    schema, _, name = table.rpartition(".")
    schema_name = schema or None
    try:
        inspector = sa.inspect(conn)
        if not inspector.has_table(name, schema=schema_name):
            name = _resolve_table(inspector, table, name, schema_name, label=label, shown=shown)
        try:
            primary_key = inspector.get_pk_constraint(name, schema=schema_name)
        except NoSuchTableError:  # found ignoring case (SQLite); reflection wants the stored name
            name = _resolve_table(inspector, table, name, schema_name, label=label, shown=shown)
            primary_key = inspector.get_pk_constraint(name, schema=schema_name)
    except SQLAlchemyError as exc:
        raise SourceError(
            f"{label}: cannot read the table list of {shown}: {_db_message(exc)}"
        ) from exc
    key = primary_key["constrained_columns"]
    clause = sa.table(name, *(sa.column(c) for c in key), schema=schema_name)
    statement: sa.Select[Any] = sa.select(sa.literal_column("*")).select_from(clause)
    return statement.order_by(*clause.c) if key else statement


def _resolve_table(
    inspector: sa.Inspector, table: str, name: str, schema: str | None, *, label: str, shown: str
) -> str:
    """The table's exact name when it differs only in case; otherwise a SourceError that helps."""
    if schema is not None and schema not in inspector.get_schema_names():
        schemas = _shortened(sorted(inspector.get_schema_names()))
        raise SourceError(
            f"{label}: table {table} not found: schema '{schema}' does not exist in {shown} "
            f"(schemas: {schemas})"
        )
    existing = sorted(
        {*inspector.get_table_names(schema=schema), *inspector.get_view_names(schema=schema)}
    )
    same_case = [t for t in existing if t.casefold() == name.casefold()]
    if len(same_case) == 1:
        return same_case[0]
    where = f"schema '{schema or inspector.default_schema_name}'"
    message = f"{label}: table {table} not found in {shown}."
    close = difflib.get_close_matches(name, existing, n=3)
    if close:
        message += " Did you mean " + " or ".join(f"'{t}'" for t in close) + "?"
    if not existing:
        message += f" There are no tables in {where}."
    else:
        message += f" Tables in {where}: {_shortened(existing)}"
    raise SourceError(message)


def _shortened(names: list[str]) -> str:
    listed = ", ".join(names[:_TABLES_SHOWN])
    if len(names) > _TABLES_SHOWN:
        listed += f", … ({len(names) - _TABLES_SHOWN} more)"
    return listed


def _stream(
    conn: Connection,
    statement: sa.Select[Any] | str,
    chunk_rows: int,
    *,
    label: str,
    what: str,
) -> Iterator[pd.DataFrame]:
    """Fetch ``chunk_rows`` at a time through a server-side cursor and convert each batch.

    A query (str) runs exactly as written: ``text()`` would take ``:name`` and ``%`` inside quoted
    strings (JSON literals, LIKE patterns, times of day) for bind parameters.
    """
    streaming = conn.execution_options(stream_results=True, max_row_buffer=chunk_rows)
    done = 0
    try:
        if isinstance(statement, str):
            result = streaming.execution_options(no_parameters=True).exec_driver_sql(statement)
        else:
            result = streaming.execute(statement)
        if not result.returns_rows:
            raise SourceError(f"{label}: the query returns no rows; give a SELECT statement")
        # Closed on every way out: an open SQLite statement would keep the file locked.
        with result:
            columns = [str(c) for c in result.keys()]  # noqa: SIM118 (a Result is not a dict)
            _check_columns(columns, label=label)
            for rows in result.partitions(chunk_rows):
                chunk = _frame(columns, rows, start_row=done + 1)
                done += len(rows)
                yield chunk
    except SQLAlchemyError as exc:
        raise SourceError(f"{label}: {what}: {_db_message(exc)}") from exc
    if done == 0:
        # No rows: an empty chunk keeps the columns for the missing-column check.
        yield _frame(columns, [], start_row=1)
    log.debug("%s: %d rows read in chunks of %d", label, done, chunk_rows)


def _check_columns(columns: list[str], *, label: str) -> None:
    seen: set[str] = set()
    for c in columns:
        if c == "_row":
            raise SourceError(
                f"{label}: the column name _row is reserved by recon; rename it with AS"
            )
        key = c.casefold()
        if key in seen:
            raise SourceError(
                f"{label}: column '{c}' appears twice in the result; give each column its own "
                "name with AS"
            )
        seen.add(key)


def _frame(columns: list[str], rows: Sequence[Sequence[object]], *, start_row: int) -> pd.DataFrame:
    if rows:
        data = {
            c: text_column(values)
            for c, values in zip(columns, zip(*rows, strict=True), strict=True)
        }
    else:
        data = {c: pd.array([], dtype=TEXT_DTYPE) for c in columns}
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(rows)))
    frame["_row"] = np.arange(start_row, start_row + len(rows), dtype="int64")
    return frame
