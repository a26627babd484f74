"""Many rows in few statements, inside the caller's transaction: inserts, set-based updates, and
reads straight into Arrow.

A weekly run over a million records writes and reads millions of rows, so nothing here sends one
statement per row:

- **insert**: PostgreSQL through psycopg takes the rows as one ``COPY ... FROM STDIN`` in CSV,
  written by Arrow's CSV writer; SQLite and MariaDB/MySQL take one ``executemany`` of plain tuples
  per chunk (PyMySQL folds it into multi-row INSERTs). Columns that hold one value for every row
  (the run id) are given as ``constants``.
- **update**: the rows go into a temporary table first (with ``insert``), then one ``UPDATE``
  joined to it changes them all (``UPDATE ... FROM`` on PostgreSQL and SQLite, a multi-table
  ``UPDATE`` on MariaDB/MySQL).
- **read_arrow**: the rows of a query as an Arrow table of the given column types. SQLite and
  PostgreSQL build one JSON array per column (``json_group_array``, ``json_agg``), so Python
  never holds a tuple per row (a ``COPY ... TO STDOUT`` hands over one row per call); Arrow
  parses the numbers. Other backends fetch tuples.

Values arrive as frames; NA becomes NULL. Text is written as given, so callers give exact text
for decimals (every backend parses it into its numeric column).
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlalchemy as sa

_CHUNK = 100_000  # rows per executemany: bounds the memory of one batch
_COPY_CHUNK = 500_000  # rows per CSV text sent to COPY
_JSON_ARRAYS = {"sqlite": "json_group_array({})", "postgresql": "json_agg({})::text"}
_STAND_IN = "\u2400"  # SQLite: a NULL in a text column as bound, "␀" (see _bind)


def insert(
    conn: sa.Connection,
    table: sa.Table,
    rows: pd.DataFrame,
    constants: Mapping[str, int] | None = None,
) -> int:
    """INSERT every row of ``rows`` (columns named as ``table``'s) into ``table``, with each of
    ``constants`` (integers) in every row; rows written."""
    if not len(rows):
        return 0
    constants = dict(constants or {})
    columns = [*rows.columns, *constants]
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        _copy(conn, f"COPY {quote(table.name)} ({names}) FROM STDIN (FORMAT csv)", rows, constants)
        return len(rows)
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    bound, values = [], []
    for c in rows.columns:
        plain, sql = _bind(rows[c], mark, conn.dialect.name == "sqlite")
        values.append(sql)
        if plain is not None:
            bound.append((c, plain))
    values += [str(int(v)) for v in constants.values()]
    statement = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join(values)})"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    dbapi = conn.dialect.loaded_dbapi
    try:
        for start in range(0, len(rows), _CHUNK):  # Python values of one chunk at a time
            part = rows.iloc[start : start + _CHUNK]
            chunk = [plain(part[c]) for c, plain in bound]
            params: Any = zip(*chunk, strict=True) if chunk else [()] * len(part)
            cursor.executemany(statement, params)
    except dbapi.Error as exc:  # the driver's own error, raised as SQLAlchemy's like execute()
        raise sa.exc.DBAPIError.instance(statement, None, exc, dbapi.Error) from exc
    finally:
        cursor.close()
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
    """A query's rows as a frame of object columns, fetched as the driver's own tuples (the
    drivers' values, without SQLAlchemy's conversions: a SQLite boolean is 0 or 1)."""
    names = [c.name for c in statement.selected_columns]
    rows = _fetch(conn, statement)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pd.DataFrame(
        {i: np.fromiter(c, dtype=object, count=len(rows)) for i, c in enumerate(columns)}
    ).set_axis(names, axis=1)


def read_arrow(
    conn: sa.Connection, statement: sa.Select[Any], types: Mapping[str, pa.DataType]
) -> pa.Table:
    """A query's rows as an Arrow table; ``types``: the Arrow type of each selected column (int,
    bool or text; a SQLite boolean is read as 0 or 1)."""
    names = [c.name for c in statement.selected_columns]
    schema = pa.schema([(n, types[n]) for n in names])
    if conn.dialect.name in _JSON_ARRAYS:
        arrays = _json_arrays(conn, statement, schema)
        if arrays is not None:
            return pa.table(arrays, schema=schema)
    frame = read(conn, statement)
    return pa.table(  # via each value's own type: MariaDB's booleans are 0 and 1
        {n: pa.array(frame[n].to_numpy(dtype=object)).cast(schema.field(n).type) for n in names}
    )


def read_ids(
    conn: sa.Connection, column: sa.Column[Any], ids: Sequence[Any], *extra: sa.Column[Any]
) -> pd.DataFrame:
    """The rows of ``column``'s table whose ``column`` is one of ``ids`` (``column`` and
    ``extra``), through a temporary table rather than a statement with a million parameters."""
    table = column.table
    assert isinstance(table, sa.Table)
    scratch = _temporary(conn, table, [column.name], [column.name])
    try:
        insert(conn, scratch, pd.DataFrame({column.name: pd.unique(np.asarray(ids))}))
        statement = sa.select(column, *extra).join(scratch, scratch.c[column.name] == column)
        result = conn.execute(statement)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()), dtype=object)
    finally:
        _drop(conn, scratch)


def _fetch(conn: sa.Connection, statement: sa.Select[Any]) -> list[Any]:
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params: Any = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    except conn.dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(
            str(compiled), params, exc, conn.dialect.loaded_dbapi.Error
        ) from exc
    finally:
        cursor.close()


def _literal_sql(conn: sa.Connection, statement: sa.Select[Any]) -> str:
    """The statement with its parameters written in (ids, codes and names of recon's own)."""
    return str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))


def _json_arrays(
    conn: sa.Connection, statement: sa.Select[Any], schema: pa.Schema
) -> list[pa.Array] | None:
    """Each column as one JSON array built by the database in one pass over the rows
    (``json_group_array`` on SQLite, ``json_agg`` on PostgreSQL), parsed by Arrow (numbers) or
    json (text); None when the text would pass the database's length limit (the caller fetches
    tuples then)."""
    inner = _literal_sql(conn, statement)
    aggregate = _JSON_ARRAYS[conn.dialect.name]
    arrays = ", ".join(aggregate.format(f"q.{name}") for name in schema.names)
    sql = f"SELECT {arrays} FROM ({inner}) AS q"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    dbapi = conn.dialect.loaded_dbapi
    try:
        cursor.execute(sql)
        texts = cursor.fetchone() or ()
    except dbapi.Error as exc:
        if "too big" in str(exc) or "too large" in str(exc):  # over 1 GB of text
            return None
        raise sa.exc.DBAPIError.instance(sql, (), exc, dbapi.Error) from exc
    finally:
        cursor.close()
    return [_json_array(text, field.type) for text, field in zip(list(texts), schema, strict=True)]


def _json_array(text: str | None, kind: pa.DataType) -> pa.Array:
    """A JSON array of numbers (or null) or of text, as Arrow of type ``kind``; None (no rows,
    on PostgreSQL) as an empty one."""
    if text is None or text == "[]":
        return pa.array([], type=kind)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pa.array(json.loads(text), type=kind)
    if pa.types.is_boolean(kind):  # SQLite's are 0 and 1, PostgreSQL's true and false
        return pa.array(json.loads(text)).cast(kind)
    lines = text[1:-1].replace(" ", "").replace(",", "\n").encode("ascii")
    table = pa_csv.read_csv(
        io.BytesIO(lines),
        read_options=pa_csv.ReadOptions(column_names=["v"]),
        convert_options=pa_csv.ConvertOptions(column_types={"v": kind}, null_values=["null"]),
    )
    return table.column(0).combine_chunks()


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
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "biu":  # numpy: no NA
        return column.tolist()
    if isinstance(column.dtype, (pd.StringDtype, pd.ArrowDtype)) or pd.api.types.is_integer_dtype(
        column.dtype
    ):
        return _arrow(column).to_pylist()
    plain = column.astype(object)
    return plain.where(column.notna().to_numpy(), None).tolist()


def _bind(
    column: pd.Series, mark: str, sqlite: bool
) -> tuple[Callable[[pd.Series], list[object]] | None, str]:
    """How to bind a column: what turns a part of it into Python values (None: nothing to
    bind), and the SQL that takes each value.

    SQLite's driver binds None and booleans slowly (it looks for an adapter, each time), so
    there a column with NULLs binds a value it does not hold instead, turned back into NULL by
    ``NULLIF``, and booleans go as 0 and 1."""
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "biu" and len(column):
        low, high = int(column.min()), int(column.max())
        if low == high:  # one value in every row: written into the statement, not bound
            return None, str(low)
    if not sqlite:
        return _plain, mark
    if column.dtype == bool:
        return lambda part: part.astype(np.int8).tolist(), mark
    missing = column.isna().to_numpy()
    if not missing.any():
        return _plain, mark
    if missing.all():
        return None, "NULL"
    present = column[~missing]
    if pd.api.types.is_integer_dtype(column.dtype) and int(present.min()) > -(2**63):
        number = int(present.min()) - 1
        return (
            lambda part: part.fillna(number).to_numpy(dtype=np.int64).tolist(),
            f"NULLIF({mark}, {number})",
        )
    if pd.api.types.is_string_dtype(column.dtype) or column.dtype == object:
        texts = present.astype("str")
        if (texts == present).all() and not (texts == _STAND_IN).any():
            return (
                lambda part: part.astype(object).where(part.notna(), _STAND_IN).tolist(),
                f"NULLIF({mark}, '{_STAND_IN}')",
            )
    return _plain, mark


def _arrow(column: pd.Series) -> pa.Array:
    values = pa.array(column.array)
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _copy(conn: sa.Connection, sql: str, rows: pd.DataFrame, constants: Mapping[str, int]) -> None:
    """psycopg's COPY of Arrow's CSV: NULL unquoted and empty, text always quoted."""
    n = len(rows)
    columns = {c: _arrow(rows[c]) for c in rows.columns}
    columns |= {c: pa.array(np.full(n, int(v), dtype=np.int64)) for c, v in constants.items()}
    table = pa.table(columns)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(sql) as copy:
            for start in range(0, n, _COPY_CHUNK):
                sink = io.BytesIO()
                part = table.slice(start, _COPY_CHUNK)
                pa_csv.write_csv(part, sink, pa_csv.WriteOptions(include_header=False))
                copy.write(sink.getbuffer())
    except Exception as exc:  # the driver's own error: raise it as SQLAlchemy's, like execute()
        dbapi = conn.dialect.loaded_dbapi
        if isinstance(exc, dbapi.Error):
            raise sa.exc.DBAPIError.instance(sql, None, exc, dbapi.Error) from exc
        raise
    finally:
        cursor.close()
