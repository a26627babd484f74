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
import os
import re
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

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
# A server that silently drops packets would otherwise hold a batch run for minutes.
_CONNECT_TIMEOUT_S = 15
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
    url = _parse_url(expand_env(source.url, label=label), label=label)
    shown = url.render_as_string(hide_password=True)
    engine = _create_engine(url, label=label)
    try:
        try:
            conn = engine.connect()
        except DBAPIError as exc:
            detail = _db_message(exc)
            if url.password:
                detail = detail.replace(str(url.password), "***")
            raise SourceError(
                f"{label}: cannot connect to {_where(url)} ({shown}): {detail}"
            ) from exc
        with conn:
            statement: sa.Select[Any] | str
            if source.table is not None:
                statement = _table_select(conn, source.table, label=label, shown=shown)
                what = f"reading table {source.table} failed"
            else:
                assert source.query is not None
                statement, what = source.query, "the query failed"
            yield from _stream(conn, statement, source.chunk_rows, label=label, what=what)
    finally:
        engine.dispose()


def expand_env(url: str, *, label: str) -> str:
    """Replace each ``${VAR}`` with the environment variable's value; an unset one is an error."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise SourceError(
                f"{label}: the database URL uses ${{{name}}}, but the environment variable "
                f"{name} is not set; set it before running recon"
            )
        return os.environ[name]

    return _ENV_VAR.sub(value, url)


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


def _parse_url(url: str, *, label: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError as exc:
        shown = _URL_PASSWORD.sub(r"\1***@", url)
        raise SourceError(
            f"{label}: '{shown}' is not a database URL; expected one such as "
            "postgresql+psycopg://user:${PGPASSWORD}@host:5432/database "
            "(percent-encode special characters in the user name and password)"
        ) from exc


def _create_engine(url: URL, *, label: str) -> sa.Engine:
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        in_file = database not in ("", ":memory:") and not database.startswith("file:")
        if in_file and not Path(database).is_file():
            raise SourceError(f"{label}: SQLite database file {database} not found")
    connect_args: dict[str, object] = {}
    if backend == "postgresql" and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = _CONNECT_TIMEOUT_S
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


def _where(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return f"SQLite database {url.database or ':memory:'}"
    host = url.host or "localhost"
    if url.port:
        host = f"{host}:{url.port}"
    return f"database '{url.database or ''}' on {host}"


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
