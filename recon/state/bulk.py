"""Many rows in few statements, inside the caller's transaction: inserts and set-based updates.

A weekly run over a million records writes hundreds of thousands of rows, so nothing here sends
one statement per row:

- **insert**: PostgreSQL through psycopg takes the rows as one ``COPY ... FROM STDIN`` (text built
  column by column, not row by row); SQLite and MariaDB/MySQL take one ``executemany`` of plain
  tuples (PyMySQL folds it into multi-row INSERTs).
- **update**: the rows go into a temporary table first (with ``insert``), then one ``UPDATE``
  joined to it changes them all (``UPDATE ... FROM`` on PostgreSQL and SQLite, a multi-table
  ``UPDATE`` on MariaDB/MySQL).

Values arrive as frames; NA becomes NULL. Text is written as given, so callers give exact text
for decimals (every backend parses it into its numeric column).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

_CHUNK = 100_000  # rows per COPY write / executemany: bounds the memory of one batch
_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))


def insert(conn: sa.Connection, table: sa.Table, rows: pd.DataFrame) -> int:
    """INSERT every row of ``rows`` (columns named as ``table``'s) into ``table``; rows written."""
    if not len(rows):
        return 0
    columns = list(rows.columns)
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        _copy(conn, table.name, columns, rows)
        return len(rows)
    marks = ", ".join(["?" if conn.dialect.paramstyle == "qmark" else "%s"] * len(columns))
    quote = conn.dialect.identifier_preparer.quote
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) VALUES ({marks})"
    )
    for start in range(0, len(rows), _CHUNK):
        conn.exec_driver_sql(statement, list(_tuples(rows.iloc[start : start + _CHUNK])))
    return len(rows)


def update(conn: sa.Connection, table: sa.Table, keys: Sequence[str], rows: pd.DataFrame) -> int:
    """Set the other columns of ``rows`` on the rows of ``table`` whose ``keys`` match: one
    statement joined to a temporary table holding ``rows``. Rows updated."""
    if not len(rows):
        return 0
    values = [c for c in rows.columns if c not in keys]
    scratch = _temporary(conn, table, [*keys, *values], keys)
    try:
        insert(conn, scratch, rows[[*keys, *values]])
        statement = (
            sa.update(table)
            .values({c: scratch.c[c] for c in values})
            .where(sa.and_(*(table.c[k] == scratch.c[k] for k in keys)))
        )
        return int(conn.execute(statement).rowcount)
    finally:
        _drop(conn, scratch)


def read(conn: sa.Connection, statement: sa.Select[Any]) -> pd.DataFrame:
    """A query's rows as a frame of object columns, fetched as the driver's own tuples: for the
    big reads of a run (the registry, the live findings), whose columns are text and integers
    (the drivers' values, without SQLAlchemy's conversions: a SQLite boolean is 0 or 1)."""
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params: Any = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    names = [c.name for c in statement.selected_columns]
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        rows = cursor.fetchall()
    except conn.dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(
            str(compiled), params, exc, conn.dialect.loaded_dbapi.Error
        ) from exc
    finally:
        cursor.close()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pd.DataFrame(
        {i: np.fromiter(c, dtype=object, count=len(rows)) for i, c in enumerate(columns)}
    ).set_axis(names, axis=1)


def read_ids(
    conn: sa.Connection, column: sa.Column[str], ids: Sequence[str], *extra: sa.Column[object]
) -> pd.DataFrame:
    """The rows of ``column``'s table whose ``column`` is one of ``ids`` (``column`` and
    ``extra``), through a temporary table rather than a statement with a million parameters."""
    table = column.table
    assert isinstance(table, sa.Table)
    scratch = _temporary(conn, table, [column.name], [column.name])
    try:
        insert(conn, scratch, pd.DataFrame({column.name: pd.unique(np.asarray(ids, dtype=object))}))
        statement = sa.select(column, *extra).join(scratch, scratch.c[column.name] == column)
        result = conn.execute(statement)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()), dtype=object)
    finally:
        _drop(conn, scratch)


def _temporary(
    conn: sa.Connection, table: sa.Table, columns: Sequence[str], keys: Sequence[str]
) -> sa.Table:
    """A temporary table of ``table``'s ``columns`` (same types, so joins compare alike), keyed
    by ``keys``; the caller drops it."""
    scratch = sa.Table(
        f"recon_tmp_{uuid.uuid4().hex[:12]}",
        sa.MetaData(),
        *(
            sa.Column(c, table.c[c].type, primary_key=c in keys, autoincrement=False)
            for c in columns
        ),
        prefixes=["TEMPORARY"],
        mysql_charset="utf8mb4",
    )
    scratch.create(conn)
    return scratch


def _drop(conn: sa.Connection, scratch: sa.Table) -> None:
    """Drop a temporary table; ``DROP TEMPORARY`` on MariaDB/MySQL, whose plain DROP TABLE
    would commit the transaction half-way."""
    if conn.dialect.name in ("mysql", "mariadb"):
        conn.exec_driver_sql(f"DROP TEMPORARY TABLE {scratch.name}")
    else:
        scratch.drop(conn)


def _plain(column: pd.Series) -> list[object]:
    """A column as Python values, NA as None (the drivers take neither numpy nor pd.NA)."""
    if column.dtype == bool:
        return column.tolist()
    plain = column.astype(object)
    return plain.where(column.notna().to_numpy(), None).tolist()


def _tuples(rows: pd.DataFrame) -> Iterator[tuple[object, ...]]:
    return zip(*(_plain(rows[c]) for c in rows.columns), strict=True)


def _copy(conn: sa.Connection, name: str, columns: list[str], rows: pd.DataFrame) -> None:
    """psycopg's COPY in text format: each column escaped as a whole, then joined."""
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(sql) as copy:
            for start in range(0, len(rows), _CHUNK):
                copy.write(_copy_text(rows.iloc[start : start + _CHUNK]).encode("utf-8"))
    except Exception as exc:  # the driver's own error: raise it as SQLAlchemy's, like execute()
        dbapi = conn.dialect.loaded_dbapi
        if isinstance(exc, dbapi.Error):
            raise sa.exc.DBAPIError.instance(sql, None, exc, dbapi.Error) from exc
        raise
    finally:
        cursor.close()


def _copy_text(rows: pd.DataFrame) -> str:
    cells = []
    for c in rows.columns:
        column = rows[c]
        if column.dtype == bool:
            text = pd.Series(np.where(column.to_numpy(), "t", "f"), dtype="string")
        elif pd.api.types.is_integer_dtype(column.dtype) and not column.isna().any():
            text = column.astype("int64").astype("string")
        else:
            text = column.astype("string")
            for raw, escaped in _COPY_ESCAPES:
                text = text.str.replace(raw, escaped, regex=False)
        cells.append(text.fillna("\\N").reset_index(drop=True))
    lines = cells[0].str.cat(cells[1:], sep="\t") if len(cells) > 1 else cells[0]
    return "\n".join(lines.tolist()) + "\n"
