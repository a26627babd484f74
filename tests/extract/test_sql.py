"""The SQL extractor against real SQLite, PostgreSQL and MariaDB databases (no mocks).

Each database test creates its own uniquely named tables and drops them afterwards; ``db_url`` runs
a test once per database and skips (or fails, on CI) a server that is not running.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
import time
import tracemalloc
import uuid
from collections.abc import Generator, Iterator
from contextlib import contextmanager, nullcontext
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from dbs import backend, engine_for, fill_sequence, temp_schema, temp_table, unique_name
from hypothesis import given
from hypothesis import strategies as st

from recon.config.models import SqlSource
from recon.errors import SourceError
from recon.extract.sql import database_url, read_sql_chunks, text_column, timeout_args

LABEL = "erp_orders"
NA = pd.NA


def read(
    url: str, *, table: str | None = None, query: str | None = None, chunk_rows: int = 50_000
) -> list[pd.DataFrame]:
    source = SqlSource(url=url, table=table, query=query, chunk_rows=chunk_rows)
    return list(read_sql_chunks(source, label=LABEL))


def read_all(url: str, *, table: str | None = None, query: str | None = None) -> pd.DataFrame:
    return pd.concat(read(url, table=table, query=query), ignore_index=True)


def read_error(url: str, *, table: str | None = None, query: str | None = None) -> str:
    with pytest.raises(SourceError) as info:
        read(url, table=table, query=query)
    message = str(info.value)
    assert "\n" not in message, "one clear message, on one line"
    assert message.startswith(f"{LABEL}: ")
    return message


@contextmanager
def id_name_table(url: str, rows: int = 0, schema: str | None = None) -> Iterator[sa.Table]:
    """A table (id integer primary key, name text) holding ids 1..rows named 'name <id>'."""
    columns = (
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(40)),
    )
    with temp_table(url, *columns, schema=schema) as table:
        if rows:
            fill_sequence(url, table, rows)
        yield table


@pytest.fixture(
    params=[
        pytest.param("postgresql", marks=pytest.mark.db),
        pytest.param("mysql", marks=pytest.mark.db),
    ]
)
def server_url(request: pytest.FixtureRequest) -> str:
    """PostgreSQL and MariaDB/MySQL only: schemas, hosts and passwords."""
    return str(
        request.getfixturevalue({"postgresql": "pg_url", "mysql": "mysql_url"}[request.param])
    )


# --- Chunking and row numbers -------------------------------------------------------------------

CHUNKED_ROWS = 25_000
CHUNK_ROWS = 1_000


def test_chunks_are_bounded_and_row_numbers_continue(db_url: str) -> None:
    with id_name_table(db_url, CHUNKED_ROWS) as table:
        chunks = read(db_url, table=table.name, chunk_rows=CHUNK_ROWS)

    assert len(chunks) == CHUNKED_ROWS // CHUNK_ROWS
    assert all(len(c) <= CHUNK_ROWS for c in chunks)
    whole = pd.concat(chunks, ignore_index=True)
    assert list(whole.columns) == ["id", "name", "_row"]
    assert whole["_row"].dtype == np.int64
    assert whole["_row"].tolist() == list(range(1, CHUNKED_ROWS + 1))
    # Primary-key order: the same _row for the same record on every run.
    assert whole["id"].tolist() == [str(i) for i in range(1, CHUNKED_ROWS + 1)]
    assert whole["name"].tolist() == [f"name {i}" for i in range(1, CHUNKED_ROWS + 1)]
    assert all(isinstance(dtype, pd.StringDtype) for dtype in whole.drop(columns="_row").dtypes)


def test_an_empty_table_yields_one_empty_chunk_with_its_columns(db_url: str) -> None:
    with id_name_table(db_url) as table:
        chunks = read(db_url, table=table.name)
        from_query = read(
            db_url, query=f"SELECT name, id AS order_no FROM {table.name} WHERE 1 = 0"
        )

    assert len(chunks) == 1
    assert list(chunks[0].columns) == ["id", "name", "_row"]
    assert len(chunks[0]) == 0
    assert chunks[0]["_row"].dtype == np.int64
    assert isinstance(chunks[0]["id"].dtype, pd.StringDtype)
    assert [list(c.columns) for c in from_query] == [["name", "order_no", "_row"]]


# --- Values become lossless text ----------------------------------------------------------------

BIG_ID = 1234567890123456789  # above 2**53: a float would turn it into ...784


def typed_columns() -> tuple[sa.Column[Any], ...]:
    return (
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("customer_id", sa.String(20)),
        sa.Column("name", sa.String(100)),
        sa.Column("amount", sa.Numeric(18, 2)),
        sa.Column("big_amount", sa.Numeric(38, 4)),
        sa.Column("ratio", sa.Double),
        sa.Column("order_date", sa.Date),
        sa.Column("created_at", sa.DateTime),
        sa.Column("paid", sa.Boolean),
    )


TYPED_ROWS: list[dict[str, object]] = [
    {
        "id": 1,
        "customer_id": "00042",
        "name": "Müller GmbH",
        "amount": Decimal("1234.50"),
        "big_amount": Decimal("12345678901234567890.1234"),
        "ratio": 1e15,
        "order_date": dt.date(2026, 10, 31),
        "created_at": dt.datetime(2026, 10, 31, 13, 45),
        "paid": True,
    },
    {
        "id": 2,
        "customer_id": " A-7 ",
        "name": "PT Maju Jaya Tbk",
        "amount": Decimal("-5"),
        "big_amount": Decimal("0.0001"),
        "ratio": 0.1,
        "order_date": dt.date(2024, 2, 29),
        "created_at": dt.datetime(2026, 10, 31),
        "paid": False,
    },
    {"id": BIG_ID, **{c.name: None for c in typed_columns() if c.name != "id"}},
]
TYPED_TEXT = {
    "id": ["1", "2", str(BIG_ID)],
    "customer_id": ["00042", " A-7 ", NA],  # leading zeros and spaces kept
    "name": ["Müller GmbH", "PT Maju Jaya Tbk", NA],
    "amount": ["1234.50", "-5.00", NA],  # the column's scale is kept
    "big_amount": ["12345678901234567890.1234", "0.0001", NA],
    "ratio": ["1000000000000000", "0.1", NA],
    "order_date": ["2026-10-31", "2024-02-29", NA],
    "created_at": ["2026-10-31T13:45:00", "2026-10-31", NA],  # midnight reads as a date
    "paid": ["true", "false", NA],
}
# What differs by database, and why.
TYPED_TEXT_BY_BACKEND: dict[str, dict[str, list[object]]] = {
    # SQLite has no decimal, date or boolean storage: SQLAlchemy wrote floats, ISO text and 0/1,
    # and the extractor passes stored text through unchanged.
    "sqlite": {
        "amount": ["1234.5", "-5", NA],
        "big_amount": ["12345678901234567000", "0.0001", NA],
        "created_at": ["2026-10-31 13:45:00.000000", "2026-10-31 00:00:00.000000", NA],
        "paid": ["1", "0", NA],
    },
    # MariaDB/MySQL BOOLEAN is TINYINT(1): the driver cannot tell it from a small number.
    "mysql": {"paid": ["1", "0", NA]},
}


def test_values_become_lossless_text(db_url: str) -> None:
    with temp_table(db_url, *typed_columns(), rows=TYPED_ROWS) as table:
        frame = read_all(db_url, table=table.name)

    expected = {**TYPED_TEXT, **TYPED_TEXT_BY_BACKEND.get(backend(db_url), {})}
    assert list(frame.columns) == [*expected, "_row"]
    for column, values in expected.items():
        assert isinstance(frame[column].dtype, pd.StringDtype), column
        assert frame[column].tolist() == values, column


@pytest.mark.parametrize(
    ("values", "text"),
    [
        pytest.param([BIG_ID, -5, 0, None], [str(BIG_ID), "-5", "0", NA], id="int"),
        pytest.param([np.int64(7), np.int32(-2)], ["7", "-2"], id="numpy-int"),
        pytest.param(
            [Decimal("1E+3"), Decimal("1234.50"), Decimal("-0.00001"), Decimal("NaN")],
            ["1000", "1234.50", "-0.00001", NA],
            id="decimal",
        ),
        pytest.param(
            [1e15, 0.1, -5.0, 1e-7, 123456789.125, 1.5e300, float("nan"), float("-inf")],
            [
                "1000000000000000",
                "0.1",
                "-5",
                "0.0000001",
                "123456789.125",
                "15" + "0" * 299,
                NA,
                "-inf",
            ],
            id="float",
        ),
        pytest.param([np.float32(0.1), np.float64(2.5)], ["0.1", "2.5"], id="numpy-float"),
        pytest.param([True, False, None, np.bool_(True)], ["true", "false", NA, "true"], id="bool"),
        pytest.param([dt.date(2026, 10, 31)], ["2026-10-31"], id="date"),
        pytest.param(
            [
                dt.datetime(2026, 10, 31),
                dt.datetime(2026, 10, 31, 13, 45),
                dt.datetime(2026, 10, 31, 13, 45, 0, 500_000),
                dt.datetime(2026, 10, 31, tzinfo=dt.UTC),
            ],
            [
                "2026-10-31",
                "2026-10-31T13:45:00",
                "2026-10-31T13:45:00.500000",
                "2026-10-31T00:00:00+00:00",
            ],
            id="datetime",
        ),
        pytest.param([dt.time(13, 45)], ["13:45:00"], id="time"),
        pytest.param(
            [b"ABC", "Müller".encode(), bytearray(b"x"), memoryview(b"y"), b"\xff\x00"],
            ["ABC", "Müller", "x", "y", "0xff00"],
            id="bytes",
        ),
        pytest.param(["00042", " A ", "", None], ["00042", " A ", "", NA], id="str"),
        pytest.param([1, "a", Decimal("2.50"), None], ["1", "a", "2.50", NA], id="mixed"),
        pytest.param(
            [uuid.UUID(int=1), {"k": "ü"}, [1, 2]],
            ["00000000-0000-0000-0000-000000000001", '{"k": "ü"}', "[1, 2]"],
            id="other",
        ),
        pytest.param([None, None], [NA, NA], id="all-null"),
    ],
)
def test_text_column_by_value_type(values: list[object], text: list[object]) -> None:
    column = text_column(values)
    assert isinstance(column.dtype, pd.StringDtype)
    assert list(column) == text


@given(st.integers())
def test_integers_keep_every_digit(value: int) -> None:
    assert int(text_column([value])[0]) == value


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimals_read_back_equal_and_without_exponent(value: Decimal) -> None:
    text = text_column([value])[0]
    assert "E" not in text.upper()
    assert Decimal(text) == value


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_read_back_equal_and_without_exponent(value: float) -> None:
    text = text_column([value])[0]
    assert "e" not in text.lower()
    assert float(text) == value


# --- Tables, schemas and queries ----------------------------------------------------------------


def test_schema_qualified_table(server_url: str) -> None:
    with temp_schema(server_url) as schema, id_name_table(server_url, 3, schema=schema) as table:
        frame = read_all(server_url, table=f"{schema}.{table.name}")

    assert frame["name"].tolist() == ["name 1", "name 2", "name 3"]


def test_names_that_need_quoting(db_url: str) -> None:
    name = f"Order Lines {uuid.uuid4().hex[:8]}"
    columns = (
        sa.Column("Line No", sa.Integer, primary_key=True),
        sa.Column("select", sa.String(9)),
    )
    with temp_table(db_url, *columns, rows=[{"Line No": 1, "select": "x"}], name=name):
        frame = read_all(db_url, table=name)

    assert frame.to_dict("records") == [{"Line No": "1", "select": "x", "_row": 1}]


def test_a_table_name_in_another_case_is_found(db_url: str) -> None:
    with id_name_table(db_url, 2) as table:
        frame = read_all(db_url, table=table.name.upper())

    assert frame["id"].tolist() == ["1", "2"]


def test_a_query_runs_exactly_as_written(db_url: str) -> None:
    with id_name_table(db_url, 20) as table:
        query = (
            f"SELECT id, name, 'a :b' AS note, '{{\"k\":1}}' AS js FROM {table.name} "
            "WHERE name LIKE 'name 1%' ORDER BY id DESC"
        )
        chunks = read(db_url, query=query, chunk_rows=4)

    frame = pd.concat(chunks, ignore_index=True)
    assert [len(c) for c in chunks] == [4, 4, 3]
    assert frame["_row"].tolist() == list(range(1, 12))
    assert frame["id"].tolist() == [str(i) for i in range(19, 9, -1)] + ["1"]
    assert set(frame["note"]) == {"a :b"}
    assert set(frame["js"]) == {'{"k":1}'}


def test_env_variables_in_the_url_are_expanded(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole URL in one variable, or one part of it (the database: every backend has one)."""
    url = sa.make_url(db_url)
    assert url.database
    monkeypatch.setenv("RECON_TEST_DB_URL", db_url)
    monkeypatch.setenv("RECON_TEST_DB_NAME", url.database)
    in_part = db_url.replace(url.database, "${RECON_TEST_DB_NAME}")
    with id_name_table(db_url, 2) as table:
        whole = read_all("${RECON_TEST_DB_URL}", table=table.name)
        part = read_all(in_part, table=table.name)

    assert whole["name"].tolist() == part["name"].tolist() == ["name 1", "name 2"]


# --- Error messages -----------------------------------------------------------------------------


def test_an_unset_env_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECON_TEST_UNSET_PASSWORD", raising=False)
    message = read_error(
        "postgresql+psycopg://app:${RECON_TEST_UNSET_PASSWORD}@db.example.com/erp", table="orders"
    )
    assert message.startswith(f"{LABEL}: ")
    assert "${RECON_TEST_UNSET_PASSWORD}" in message
    assert "environment variable RECON_TEST_UNSET_PASSWORD is not set" in message


def test_a_bad_host_is_named_and_the_password_masked(server_url: str) -> None:
    url = sa.make_url(server_url).set(host="127.0.0.1", port=1, password="s3cret-pw")
    message = read_error(url.render_as_string(hide_password=False), table="orders")
    assert "cannot connect to database 'test' on 127.0.0.1:1" in message
    assert ":***@127.0.0.1:1/test" in message
    assert "s3cret-pw" not in message


def test_an_unknown_database_is_named(server_url: str) -> None:
    url = sa.make_url(server_url).set(database="recon_no_such_db")
    message = read_error(url.render_as_string(hide_password=False), table="orders")
    assert "cannot connect to database 'recon_no_such_db'" in message
    assert message.count("recon_no_such_db") >= 2, "the server's own reason is given too"


def test_a_missing_sqlite_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.sqlite"
    message = read_error(f"sqlite:///{path}", table="orders")
    assert message == f"{LABEL}: SQLite database file {path} not found"
    assert not path.exists(), "reading must not create an empty database"


def test_a_malformed_url_is_explained() -> None:
    message = read_error("db.example.com/erp:p4ss", table="orders")
    assert "is not a database URL" in message
    assert "postgresql+psycopg://" in message


def test_an_unknown_kind_of_database_is_explained() -> None:
    message = read_error("postgres://app@db.example.com/erp", table="orders")
    assert "unknown kind of database 'postgres'" in message
    assert "postgresql+psycopg://" in message


@pytest.mark.parametrize(
    ("url", "blocked", "advice"),
    [
        (
            "postgresql+psycopg://app@db/erp",
            "psycopg",
            "install it with: pip install 'recon[postgres]'",
        ),
        ("mysql+pymysql://app@db/erp", "pymysql", "install it with: pip install 'recon[mysql]'"),
    ],
)
def test_a_missing_driver_names_the_pip_extra(
    url: str, blocked: str, advice: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import psycopg` fail exactly as on a machine without it.
    monkeypatch.setitem(sys.modules, blocked, None)
    message = read_error(url, table="orders")
    assert f"driver for {url.split('://')[0]}:// ({blocked}) is not installed" in message
    assert message.endswith(advice)


@pytest.mark.parametrize(
    ("url", "module", "advice"),
    [
        ("postgresql+pg8000://app@db/erp", "pg8000", "use a postgresql+psycopg:// URL"),
        ("mysql+mysqldb://app@db/erp", "MySQLdb", "use a mysql+pymysql:// URL"),
    ],
)
def test_another_driver_that_is_missing_points_to_the_supported_one(
    url: str, module: str, advice: str
) -> None:
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{module} is installed here")
    message = read_error(url, table="orders")
    assert advice in message
    assert "pip install 'recon[" in message


@contextmanager
def schema_of_own(url: str) -> Iterator[str | None]:
    """A fresh schema on a server; SQLite's test database is fresh already (main)."""
    with nullcontext(None) if backend(url) == "sqlite" else temp_schema(url) as schema:
        yield schema


def test_an_unknown_table_lists_the_tables_that_exist(db_url: str) -> None:
    with (
        schema_of_own(db_url) as schema,
        temp_table(db_url, sa.Column("id", sa.Integer), name="customers", schema=schema),
        temp_table(db_url, sa.Column("id", sa.Integer), name="sales_orders", schema=schema),
    ):
        qualified = f"{schema}.orders" if schema else "orders"
        message = read_error(db_url, table=qualified)

    assert f"table {qualified} not found" in message
    assert "Did you mean 'sales_orders'?" in message
    assert f"Tables in schema '{schema or 'main'}': customers, sales_orders" in message


def test_a_long_table_list_is_shortened(sqlite_url: str) -> None:
    with engine_for(sqlite_url) as engine, engine.begin() as conn:
        for i in range(25):
            conn.exec_driver_sql(f"CREATE TABLE t{i:02d} (id INTEGER)")
    message = read_error(sqlite_url, table="orders")
    assert "t00, t01" in message
    assert "t19, … (5 more)" in message
    assert "t20" not in message


def test_an_unknown_schema_is_named(server_url: str) -> None:
    message = read_error(server_url, table="recon_no_such_schema.orders")
    assert "schema 'recon_no_such_schema' does not exist" in message


def test_a_failing_query_gives_the_database_message(db_url: str) -> None:
    with id_name_table(db_url, 1) as table:
        message = read_error(db_url, query=f"SELECT no_such_column FROM {table.name}")

    assert message.startswith(f"{LABEL}: the query failed: ")
    assert "no_such_column" in message
    assert "[SQL:" not in message


def test_an_error_while_streaming_is_a_source_error(pg_url: str) -> None:
    with id_name_table(pg_url, 10) as table:
        query = f"SELECT id, 1 / (id - 7) AS v FROM {table.name} ORDER BY id"
        chunks = read_sql_chunks(SqlSource(url=pg_url, query=query, chunk_rows=2), label=LABEL)
        first = next(chunks)  # the server computes rows as they are fetched
        with pytest.raises(SourceError, match="the query failed: division by zero"):
            list(chunks)

    assert first["id"].tolist() == ["1", "2"]


def test_repeated_and_reserved_column_names_are_refused(db_url: str) -> None:
    with id_name_table(db_url, 1) as table:
        twice = read_error(db_url, query=f"SELECT id, name AS ID FROM {table.name}")
        reserved = read_error(db_url, query=f"SELECT id AS _row FROM {table.name}")

    assert "column 'id' appears twice" in twice.lower()  # PostgreSQL folds ID to id
    assert "_row is reserved" in reserved


def test_a_statement_without_rows_is_refused(sqlite_url: str) -> None:
    with id_name_table(sqlite_url, 1) as table:
        message = read_error(sqlite_url, query=f"UPDATE {table.name} SET name = name")
    assert "returns no rows" in message


# --- Streaming and bounded memory ---------------------------------------------------------------


def test_postgres_streams_through_a_server_side_cursor_and_closes_it(pg_url: str) -> None:
    app = unique_name("recon_app")
    url = sa.make_url(pg_url).update_query_dict({"application_name": app})
    url_text = url.render_as_string(hide_password=False)

    def sessions() -> list[str]:
        """The last statement of each connection the extractor has open."""
        with engine_for(pg_url) as engine, engine.connect() as conn:
            activity = "SELECT query FROM pg_stat_activity WHERE application_name = :app"
            return list(conn.execute(sa.text(activity), {"app": app}).scalars())

    with id_name_table(pg_url, 1_000) as table:
        source = SqlSource(url=url_text, table=table.name, chunk_rows=100)
        chunks = cast(Generator[pd.DataFrame, None, None], read_sql_chunks(source, label=LABEL))
        next(chunks)
        while_reading = sessions()
        chunks.close()  # the caller stops early
        after_close = sessions()
        with pytest.raises(SourceError):
            failing = SqlSource(url=url_text, query="SELECT 1/0", chunk_rows=100)
            list(read_sql_chunks(failing, label=LABEL))
        after_error = sessions()

    assert len(while_reading) == 1
    assert while_reading[0].startswith("FETCH FORWARD "), while_reading  # a server-side cursor
    assert after_close == []
    assert after_error == []


STREAMED_ROWS = 60_000
STREAMED_CHUNK = 2_000


@pytest.mark.slow
@pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("mysql", marks=pytest.mark.db)], indirect=True
)
def test_memory_stays_bounded_while_streaming(db_url: str) -> None:
    """Peak Python memory of reading 60,000 rows in chunks of 2,000, against fetching them all.

    The fetched rows are Python objects, which tracemalloc sees; a client-side cursor (PyMySQL's
    default) would hold every row at once however small the chunks. Arrow-backed text is not
    traced, which only makes the streamed peak smaller. Measured: about 1 MB against 14 MB.
    Not on PostgreSQL: there a client-side cursor keeps the rows in libpq's C memory, which
    tracemalloc cannot see, so the server-side cursor is checked directly (test above).
    """
    with id_name_table(db_url, STREAMED_ROWS) as table:
        source = SqlSource(url=db_url, table=table.name, chunk_rows=STREAMED_CHUNK)
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            rows = sum(len(chunk) for chunk in read_sql_chunks(source, label=LABEL))
            streamed = tracemalloc.get_traced_memory()[1] - before

            with engine_for(db_url) as engine, engine.connect() as conn:
                tracemalloc.reset_peak()
                before = tracemalloc.get_traced_memory()[0]
                everything = conn.exec_driver_sql(f"SELECT * FROM {table.name}").fetchall()
                materialized = tracemalloc.get_traced_memory()[1] - before
                del everything
        finally:
            tracemalloc.stop()

    assert rows == STREAMED_ROWS
    assert streamed * 5 < materialized, (streamed, materialized)


# --- Secrets and timeouts -----------------------------------------------------------------------

SECRET = "p@ss:w/rd#secret"  # each of @ : / # would split a URL pasted together as text


def test_a_password_with_url_characters_from_the_environment_logs_in(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real PostgreSQL role whose password holds @ : / #, read from ${VAR}: it is the password,
    and the host stays the host (this server trusts local users, so a wrong split would show as
    another host or user rather than a refused password)."""
    role = unique_name("recon_role")
    with engine_for(pg_url) as engine, engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD '{SECRET}'")
    try:
        monkeypatch.setenv("RECON_TEST_ROLE_PASSWORD", SECRET)
        url = sa.make_url(pg_url)
        text = f"postgresql+psycopg://{role}:${{RECON_TEST_ROLE_PASSWORD}}@{url.host}:{url.port}"
        frame = read_all(f"{text}/{url.database}", query="SELECT current_user AS who")
    finally:
        with engine_for(pg_url) as engine, engine.begin() as conn:
            conn.exec_driver_sql(f"DROP ROLE {role}")
    assert frame["who"].tolist() == [role]


def test_a_secret_never_shows_when_the_server_is_unreachable(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECON_TEST_SECRET", SECRET)
    scheme = server_url.split("://", 1)[0]
    message = read_error(f"{scheme}://app:${{RECON_TEST_SECRET}}@127.0.0.1:1/erp", table="orders")
    assert "cannot connect to database 'erp' on 127.0.0.1:1 " in message
    assert "app:***@127.0.0.1:1/erp" in message
    for piece in ("p@ss", "ss:w", "w/rd", "rd#", "secret", "p%40ss"):
        assert piece not in message


def test_a_port_that_is_not_a_number_is_refused_with_the_password_masked() -> None:
    with pytest.raises(ValueError, match="the port 'abc' in the URL is not a number"):
        SqlSource(url="postgresql+psycopg://u:hunter2@host:abc/db", table="orders")
    with pytest.raises(SourceError) as info:
        database_url("postgresql+psycopg://u:hunter2@host:abc/db", label=LABEL)
    assert "the port 'abc' in postgresql+psycopg://u:***@host:abc/db is not a number" in str(
        info.value
    )
    assert "hunter2" not in str(info.value)


def sleep_query(url: str, seconds: int) -> str:
    if backend(url) == "mysql":
        return f"SELECT SLEEP({seconds}) AS slept"
    return f"SELECT pg_sleep({seconds})::text AS slept"


def test_a_query_that_outlasts_read_timeout_is_stopped(server_url: str) -> None:
    source = SqlSource(url=server_url, query=sleep_query(server_url, 20), read_timeout=1)
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        list(read_sql_chunks(source, label=LABEL))
    assert time.monotonic() - started < 10
    message = str(info.value)
    assert message.startswith(f"{LABEL}: the query failed: ")
    assert "no answer from database 'test' on 127.0.0.1:" in message
    assert f"tables.{LABEL}.sql.read_timeout is 1 s" in message


def test_the_urls_own_timeouts_win(server_url: str) -> None:
    """read_timeout 1 s in recon.yaml, but the URL allows 30: a 2-second query completes."""
    url = sa.make_url(server_url)
    if backend(server_url) == "mysql":
        url = url.update_query_dict({"read_timeout": "30"})
    else:
        url = url.update_query_dict({"options": "-c statement_timeout=30000"})
    text = url.render_as_string(hide_password=False)
    source = SqlSource(url=text, query=sleep_query(server_url, 2), read_timeout=1)
    frame = pd.concat(read_sql_chunks(source, label=LABEL))
    assert len(frame) == 1


def test_timeouts_reach_the_mariadb_driver(mysql_url: str) -> None:
    """Without them a server that stalls mid-query holds the run forever: PyMySQL's default is
    no read timeout."""
    url = sa.make_url(mysql_url)
    args = timeout_args(url, connect=7, read=11, statement=None)
    engine = sa.create_engine(url, poolclass=sa.NullPool, connect_args=args)
    try:
        with engine.connect() as conn:
            driver = conn.connection.dbapi_connection
            assert (driver.connect_timeout, driver._read_timeout, driver._write_timeout) == (
                7,
                11,
                11,
            )
    finally:
        engine.dispose()
    defaults = SqlSource(url=mysql_url, table="orders")
    assert (defaults.connect_timeout, defaults.read_timeout) == (15, 300)


def test_postgres_sources_get_a_statement_timeout_and_keepalives(pg_url: str) -> None:
    url = sa.make_url(pg_url).update_query_dict({"options": "-csearch_path=public"})
    args = timeout_args(url, connect=7, read=11, statement=11)
    engine = sa.create_engine(url, poolclass=sa.NullPool, connect_args=args)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "11s"
            assert conn.exec_driver_sql("SHOW search_path").scalar() == "public"
            info = conn.connection.dbapi_connection.info.get_parameters()
            assert info["connect_timeout"] == "7"
            assert info["keepalives_idle"] == "60"
    finally:
        engine.dispose()
