"""A recon.yaml whose ERP orders come from a real database: typed, quarantined like any file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from dbs import temp_table

from recon.config.load import load_config
from recon.extract.load import load_all

FILES = {
    "crm_companies": "company_id,name\n1,Acme Pty Ltd\n",
    "crm_deals": "deal_id,company_id,stage,amount,close_date\nD1,1,closedwon,100,2026-10-01\n",
    "erp_customers": "customer_id,name\n0042,ACME\n",
}
ROWS = [
    {
        "order_no": "SO-1",
        "cust": "0042",
        "ordered": dt.date(2026, 10, 3),
        "total": Decimal("1234.50"),
        "po": "HS-D1",
    },
    {
        "order_no": "SO-2",
        "cust": "0042",
        "ordered": dt.date(2026, 10, 4),
        "total": Decimal("0.10"),
        "po": None,
    },
    {
        "order_no": "SO-1",
        "cust": "0042",
        "ordered": dt.date(2026, 10, 5),
        "total": Decimal("7"),
        "po": None,
    },
]
DUPLICATE_ROW = 3  # the third record repeats SO-1


def test_orders_from_sql_through_recon_yaml(tmp_path: Path, db_url: str) -> None:
    for name, text in FILES.items():
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    columns = (
        sa.Column("order_no", sa.String(20), primary_key=False),
        sa.Column("cust", sa.String(20)),
        sa.Column("ordered", sa.Date),
        sa.Column("total", sa.Numeric(18, 2)),
        sa.Column("po", sa.String(40)),
    )
    with temp_table(db_url, *columns, rows=ROWS) as table:
        (tmp_path / "recon.yaml").write_text(
            f"""
tables:
  crm_companies: {{file: crm_companies.csv}}
  crm_deals: {{file: crm_deals.csv}}
  erp_customers: {{file: erp_customers.csv}}
  erp_orders:
    sql: {{url: "{db_url}", table: {table.name}, chunk_rows: 2}}
    columns: {{order_id: order_no, customer_id: cust, order_date: ordered, amount: total, crm_deal_ref: po}}
""",
            encoding="utf-8",
        )
        result = load_all(load_config(tmp_path / "recon.yaml"))
    orders = result.tables["erp_orders"]
    assert orders.frame["order_id"].tolist() == ["SO-1", "SO-2"]
    assert orders.frame["customer_id"].tolist() == ["0042", "0042"]
    assert orders.frame["amount"].sum() == Decimal("1234.60")
    assert orders.frame["order_date"].tolist() == [
        pd.Timestamp("2026-10-03"),
        pd.Timestamp("2026-10-04"),
    ]
    assert orders.quarantine["row"].tolist() == [DUPLICATE_ROW]
    assert "password" not in orders.source
    assert not result.notes  # every order's customer exists
