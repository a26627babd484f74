"""Loading tables end to end: typed canonical frames, quarantine with reasons, clear errors."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from recon.config.load import folder_config, load_config
from recon.errors import ConfigError, SourceError
from recon.extract.load import load_all

COMPANIES = """company_id,name,website,country
007,PT Maju Jaya Tbk,majujaya.co.id,ID
008,Acme Pty Ltd,,AU
,No Id Ltd,,GB
007,Repeated Id GmbH,,DE
"""
# Rows as a spreadsheet numbers them: header 1, 007 → 2, 008 → 3, empty id → 4, repeat → 5.
EMPTY_ID_ROW, REPEATED_ID_ROW = 4, 5

DEALS = """deal_id,company_id,stage,amount,close_date,currency
D1,007,closedwon,"1,234.56",2026-10-01,USD
D2,008,closedwon,TBD,2026-10-02,USD
D3,008,closedlost,99.10,31/02/2026,USD
D4,999,closedwon,0.20,2026-10-04,USD
D5,007,closedwon,0.10,2026-10-05,USD
"""
BAD_AMOUNT_ROW, BAD_DATE_ROW = 3, 4

CUSTOMERS = "customer_id,name,credit_hold\nC1,MAJU JAYA,yes\nC2,ACME,no\n"
ORDERS = "order_id,customer_id,order_date,amount\nO1,C1,2026-10-03,1234.56\nO2,C1,2026-10-04,10\n"


def folder(tmp_path: Path, **overrides: str) -> Path:
    files = {
        "crm_companies": COMPANIES,
        "crm_deals": DEALS,
        "erp_customers": CUSTOMERS,
        "erp_orders": ORDERS,
        **overrides,
    }
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    return tmp_path


def test_typed_frames_and_quarantine(tmp_path: Path) -> None:
    result = load_all(folder_config(folder(tmp_path)))
    companies = result.tables["crm_companies"]
    assert companies.rows_read == 4
    assert companies.frame["company_id"].tolist() == ["007", "008"]
    assert str(companies.frame["company_id"].dtype) == "string"
    q = companies.quarantine
    assert q["row"].tolist() == [EMPTY_ID_ROW, REPEATED_ID_ROW]
    assert q["reason"].tolist() == [
        "company_id is empty",
        "duplicate company_id '007' (first used on row 2)",
    ]
    record = json.loads(q["record"].iloc[1])
    assert record["name"] == "Repeated Id GmbH"  # nothing is lost

    deals = result.tables["crm_deals"]
    assert deals.frame["deal_id"].tolist() == ["D1", "D4", "D5"]
    # Exact decimals: 0.10 + 0.20 is 0.30, not 0.30000000000000004.
    assert deals.frame["amount"].sum() == Decimal("1234.86")
    assert deals.frame["close_date"].iloc[0] == pd.Timestamp("2026-10-01")
    dq = deals.quarantine.set_index("row")
    assert dq.loc[BAD_AMOUNT_ROW, "column"] == "amount"
    assert dq.loc[BAD_AMOUNT_ROW, "value"] == "TBD"
    assert dq.loc[BAD_DATE_ROW, "column"] == "close_date"
    assert "31/02/2026" in dq.loc[BAD_DATE_ROW, "reason"]
    assert deals.rows_quarantined == 2

    assert result.tables["erp_customers"].frame["credit_hold"].tolist() == [True, False]
    assert result.won_stages and "closedwon" in result.won_stages
    assert any(
        "1 crm_deals rows name a company_id that is not in crm_companies" in n for n in result.notes
    )

    summary = result.summary().set_index("table")
    assert summary.loc["crm_deals", "rows_quarantined"] == 2
    assert summary.loc["crm_companies", "quarantine_reasons"] == (
        "1 × empty company_id; 1 × duplicate company_id"
    )


def test_missing_optional_columns_say_what_is_skipped(tmp_path: Path) -> None:
    result = load_all(folder_config(folder(tmp_path)))
    orders = result.tables["erp_orders"]
    assert set(orders.missing_optional) == {"currency", "status", "crm_deal_ref"}
    assert "matching orders by deal reference" in orders.skipped_features
    assert orders.frame["crm_deal_ref"].isna().all()


def test_missing_required_column_names_file_column_and_found_columns(tmp_path: Path) -> None:
    path = folder(tmp_path, crm_deals="deal_id,company_id,stage,close_date\nD1,1,won,2026-01-01\n")
    with pytest.raises(SourceError) as err:
        load_all(folder_config(path))
    message = str(err.value)
    assert "crm_deals.csv" in message
    assert "amount" in message
    assert "deal_id, company_id, stage, close_date" in message


def test_decimal_comma_semicolon_export_and_day_first_dates(tmp_path: Path) -> None:
    deals = (
        "deal_id;company_id;stage;amount;close_date\n"
        'D1;007;closedwon;"1.234,56";31/12/2026\n'
        "D2;007;closedwon;10,5;01/02/2026\n"
    )
    result = load_all(folder_config(folder(tmp_path, crm_deals=deals)))
    frame = result.tables["crm_deals"].frame
    assert frame["amount"].tolist() == [Decimal("1234.56"), Decimal("10.5")]
    assert frame["close_date"].tolist() == [pd.Timestamp("2026-12-31"), pd.Timestamp("2026-02-01")]


def test_ambiguous_dates_are_quarantined_not_guessed(tmp_path: Path) -> None:
    deals = "deal_id,company_id,stage,amount,close_date\nD1,007,won,1,01/02/2026\nD2,007,won,1,03/04/2026\n"
    result = load_all(folder_config(folder(tmp_path, crm_deals=deals)))
    deals_load = result.tables["crm_deals"]
    assert deals_load.rows_kept == 0
    assert deals_load.quarantine["reason"].str.contains("ambiguous").all()


def test_config_with_preset_override_and_excel(tmp_path: Path) -> None:
    folder(tmp_path)
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Orders"
    ws.append(["Order No", "Customer", "Date", "Total"])
    ws.append(["0001", "C1", dt.datetime(2026, 10, 3), 1234.56])
    ws.append(["0002", "C2", 46022, 5])
    book.save(tmp_path / "orders.xlsx")
    (tmp_path / "recon.yaml").write_text(
        """
tables:
  crm_companies: {file: crm_companies.csv}
  crm_deals: {file: crm_deals.csv}
  erp_customers: {file: erp_customers.csv}
  erp_orders:
    file: orders.xlsx
    sheet: Orders
    columns: {order_id: Order No, customer_id: Customer, order_date: Date, amount: Total}
""",
        encoding="utf-8",
    )
    result = load_all(load_config(tmp_path / "recon.yaml"))
    orders = result.tables["erp_orders"].frame
    assert orders["order_id"].tolist() == ["0001", "0002"]
    # 46022 is an Excel serial date: 2025-12-31.
    assert orders["order_date"].tolist() == [pd.Timestamp("2026-10-03"), pd.Timestamp("2025-12-31")]
    assert orders["amount"].tolist() == [Decimal("1234.56"), Decimal("5")]


def test_unknown_preset_lists_known_ones(tmp_path: Path) -> None:
    folder(tmp_path)
    (tmp_path / "recon.yaml").write_text(
        """
tables:
  crm_companies: {file: crm_companies.csv}
  crm_deals: {file: crm_deals.csv, preset: hubspot_deal}
  erp_customers: {file: erp_customers.csv}
  erp_orders: {file: erp_orders.csv}
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_all(load_config(tmp_path / "recon.yaml"))
    message = str(err.value)
    assert "hubspot_deal" in message
    assert "hubspot_deals" in message and "canonical" in message


def test_malformed_row_is_quarantined_with_its_row(tmp_path: Path) -> None:
    orders = ORDERS + "O3,C2,2026-10-05,5,extra\nO4,C2,2026-10-06,6\n"
    result = load_all(folder_config(folder(tmp_path, erp_orders=orders)))
    table = result.tables["erp_orders"]
    assert table.frame["order_id"].tolist() == ["O1", "O2", "O4"]
    assert table.quarantine["row"].tolist() == [4]
    assert table.quarantine["reason_kind"].tolist() == ["malformed row"]


def test_deals_without_an_amount_are_kept_with_the_amount_missing(tmp_path: Path) -> None:
    """HubSpot leaves the amount of an open deal empty; only the checks care about won ones."""
    deals = (
        "deal_id,company_id,stage,amount,close_date\n"
        "D1,007,appointmentscheduled,,2026-10-01\n"
        "D2,007,closedlost,,2026-10-02\n"
        "D3,007,closedwon,,2026-10-03\n"
        "D4,007,closedwon,10,2026-10-04\n"
    )
    table = load_all(folder_config(folder(tmp_path, crm_deals=deals))).tables["crm_deals"]
    assert table.frame["deal_id"].tolist() == ["D1", "D2", "D3", "D4"]
    assert table.frame["amount"].isna().tolist() == [True, True, True, False]
    assert table.quarantine.empty
    assert "crm_deals.csv amount: 3 rows with no amount kept, amount missing (e.g. row 2)" in (
        table.notes
    )


def test_orders_still_need_their_amount(tmp_path: Path) -> None:
    orders = ORDERS + "O3,C2,2026-10-05,\n"
    table = load_all(folder_config(folder(tmp_path, erp_orders=orders))).tables["erp_orders"]
    assert table.quarantine["reason"].tolist() == ["amount is empty"]


def test_extra_fields_on_the_first_row_quarantine_that_row_only(tmp_path: Path) -> None:
    orders = "order_id,customer_id,order_date,amount\nO1,C1,2026-10-03,1234.56,x\n" + (
        "O2,C1,2026-10-04,10\n"
    )
    table = load_all(folder_config(folder(tmp_path, erp_orders=orders))).tables["erp_orders"]
    assert table.frame["order_id"].tolist() == ["O2"]
    assert table.frame["amount"].astype(str).tolist() == ["10.0000"]
    assert table.quarantine["reason"].tolist() == ["row 2: 5 fields where the header has 4"]
    assert "erp_orders.csv row 2: 5 fields where the header has 4 — row quarantined" in table.notes


def test_row_currency_decides_whole_units(tmp_path: Path) -> None:
    deals = DEALS.replace('"1,234.56",2026-10-01,USD', "1.000,2026-10-01,IDR")
    table = load_all(folder_config(folder(tmp_path, crm_deals=deals))).tables["crm_deals"]
    d1 = table.frame.set_index("deal_id").loc["D1", "amount"]
    assert Decimal(str(d1)) == 1000
    assert any(
        n.startswith("crm_deals.csv amount: 1 amount in a currency without") for n in (table.notes)
    )
