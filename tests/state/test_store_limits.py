"""What the loader accepts, the store keeps, on SQLite, PostgreSQL and MariaDB: ids that differ only
in case, 301-character ids, a 70 KB company name; timeouts that bound every statement; a write
that still fails names the record and the column. (Stores of earlier versions: test_migrations.)"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from store_urls import isolated_store_url
from typer.testing import CliRunner

from recon.cli import app
from recon.errors import StateError
from recon.sampledata import generate, write
from recon.state import registry
from recon.state.store import STATEMENT_TIMEOUT_S, Store

runner = CliRunner()
AS_OF = "2026-10-31"  # the generated data's last day
UPPER, LOWER = "ABC-1", "abc-1"  # two records to the loader; one key to a case-blind collation
LONG_ID = "L" + "0" * 300  # 301 characters: one more than the first store's VARCHAR(255) held
LONG_NAME_ID = "NAME-70K"
LONG_NAME = ("Quasar Holdings " * 4500)[:70_000]  # over MariaDB TEXT's 64 KB
LONG_DEAL = "29999999977"  # a won deal of the long-named company, without an ERP order


@pytest.fixture
def store_url(db_url: str) -> Iterator[str]:
    with isolated_store_url(db_url) as url:
        yield url


@pytest.fixture
def server_store_url(request: pytest.FixtureRequest, server: str) -> Iterator[str]:
    url = request.getfixturevalue("pg_url" if server == "postgresql" else "mysql_url")
    with isolated_store_url(url) as isolated:
        yield isolated


SERVERS = [
    pytest.param("postgresql", marks=pytest.mark.db),
    pytest.param("mysql", marks=pytest.mark.db),
]


@pytest.mark.parametrize("server", ["mysql"], indirect=False)
@pytest.mark.db
def test_mariadb_id_columns_are_binary_and_text_is_longtext(server_store_url: str) -> None:
    with Store.open(server_store_url) as store, store.transaction() as conn:
        rows = conn.exec_driver_sql(
            "SELECT table_name, column_name, data_type, collation_name, character_maximum_length"
            " FROM information_schema.columns WHERE table_schema = DATABASE()"
        ).fetchall()
    columns = {(r[0].lower(), r[1].lower()): r[2:] for r in rows}
    assert columns["recon_xref_registry", "record_id"] == ("varchar", "utf8mb4_bin", 700)
    assert columns["recon_decisions", "left_id"] == ("varchar", "utf8mb4_bin", 700)
    assert columns["recon_findings", "key"][0] == "longtext"
    assert columns["recon_finding_rows", "data"][0] == "longblob"


def test_an_id_longer_than_the_store_keeps_is_named(store_url: str) -> None:
    too_long = "Z" * 701
    current = pd.DataFrame(
        {"system": ["crm", "erp"], "record_id": ["1", too_long], "xref_number": [1, 2]}
    )
    stored = pd.DataFrame(
        {"system": [], "record_id": [], "xref_number": np.empty(0, np.int64), "active": []}
    )
    changes = pd.DataFrame(columns=["kind", "from_xref", "to_xref", "records", "record_ids"])
    with Store.open(store_url) as store:
        with pytest.raises(StateError) as info, store.transaction() as conn:
            registry.write(conn, 1, stored, current, changes)
        assert store.registry().empty  # nothing half-written
    message = str(info.value)
    assert "erp record 'ZZZ" in message
    assert "its record_id is 701 characters long" in message
    assert "recon_xref_registry.record_id holds up to 700" in message


@pytest.mark.parametrize("server", SERVERS)
def test_store_connections_carry_the_timeouts(server: str, server_store_url: str) -> None:
    with Store.open(server_store_url) as store, store.transaction() as conn:
        if server == "mysql":
            driver = conn.connection.dbapi_connection
            assert driver.connect_timeout == 15
            assert driver._read_timeout == driver._write_timeout == STATEMENT_TIMEOUT_S + 30
            limit = conn.exec_driver_sql("SELECT @@max_statement_time").scalar()
            assert float(limit) == STATEMENT_TIMEOUT_S
        else:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "2min"
            search_path = conn.exec_driver_sql("SHOW search_path").scalar()
            assert search_path.startswith("recon_s_")  # the URL's own options are kept


@pytest.mark.parametrize("server", SERVERS)
def test_a_statement_that_outlasts_the_store_timeout_is_a_state_error(
    server: str, server_store_url: str
) -> None:
    url = sa.make_url(server_store_url).update_query_dict({"statement_timeout": "1"})
    slow = "SELECT pg_sleep(10)"
    if server == "mysql":  # MariaDB ends SLEEP() quietly; a long count is refused outright
        c = "information_schema.collations"
        slow = f"SELECT COUNT(*) FROM {c} a, {c} b, {c} c, {c} d"
    with Store.open(url.render_as_string(hide_password=False)) as store:
        started = time.monotonic()
        with pytest.raises(StateError) as info, store.transaction() as conn:
            conn.exec_driver_sql(slow)
    assert time.monotonic() - started < 8
    assert str(info.value).startswith(f"state store {store.location}: ")
    assert "statement" in str(info.value)  # statement timeout / max_statement_time exceeded
    assert "statement_timeout" not in store.location  # recon's own parameter, not the driver's


# --- End to end: recon run, then recon leakage, against one store --------------------------------


@pytest.fixture(scope="module")
def hard_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated data plus companies ABC-1 and abc-1, a 301-character id and a 70 KB name whose
    won deal has no order (so a finding carries the name)."""
    folder = tmp_path_factory.mktemp("limits")
    write(generate(60, seed=5), folder)
    companies = pd.read_csv(folder / "crm_companies.csv", dtype=str, keep_default_na=False)
    extra = pd.DataFrame(
        {
            "company_id": [UPPER, LOWER, LONG_ID, LONG_NAME_ID],
            "name": [
                "Zephyr Upper Kite Ltd",
                "Mosaic Lower Anchor Co",
                "Long Id Quokka Pty",
                LONG_NAME,
            ],
        }
    )
    pd.concat([companies, extra]).fillna("").to_csv(folder / "crm_companies.csv", index=False)
    deals = pd.read_csv(folder / "crm_deals.csv", dtype=str, keep_default_na=False)
    deal = deals.iloc[0].copy()
    deal[["deal_id", "company_id", "stage", "amount", "close_date", "currency"]] = [
        LONG_DEAL, LONG_NAME_ID, "closedwon", "5000.00", "2026-09-15", "AUD",
    ]  # fmt: skip
    pd.concat([deals, deal.to_frame().T]).to_csv(folder / "crm_deals.csv", index=False)
    return folder


def test_run_and_leakage_keep_every_record_the_loader_accepted(
    hard_data: Path, store_url: str, tmp_path: Path
) -> None:
    common = ["--as-of", AS_OF, "--store", store_url, "--state", str(tmp_path / "csv-state")]
    first = runner.invoke(app, ["run", str(hard_data), "--out", str(tmp_path / "a"), *common])
    assert first.exit_code in (0, 1), first.output
    second = runner.invoke(app, ["leakage", str(hard_data), "--out", str(tmp_path / "b"), *common])
    assert second.exit_code in (0, 1), second.output

    with Store.open(store_url) as store:
        kept = store.registry()
        findings = store.findings()
    crm = kept[kept["system"] == "crm"].set_index("record_id")
    for record_id in (UPPER, LOWER, LONG_ID, LONG_NAME_ID):
        assert record_id in crm.index
        assert bool(crm.loc[record_id, "active"])
    assert crm.loc[UPPER, "xref_id"] != crm.loc[LOWER, "xref_id"]  # two companies, two entities
    payloads = findings["payload"].dropna()
    assert payloads.map(lambda p: LONG_NAME in p).any(), "the long name round-trips in a finding"
    assert len(kept) == len(kept.drop_duplicates(["system", "record_id"]))
    assert dt.date.fromisoformat(AS_OF)
