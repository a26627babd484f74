"""orphan_order: an ERP customer with no CRM company is one finding, however many orders it
placed, and keeps its finding id when another order arrives."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pandas as pd
from checks.leakage_helpers import AS_OF, frames, run

from recon.checks.leakage import Frames
from recon.state.keys import keyed_findings

DEAL = {"deal_id": "D-A", "company": "A", "amount": 500, "close_date": "2026-09-01"}
# Customer B has no CRM company: its orders pay no deal. 100 + 250.50 + 40 USD.
ORDERS = [
    {"order_id": "SO-1", "customer": "B", "order_date": "2026-03-02", "amount": 100},
    {"order_id": "SO-2", "customer": "B", "order_date": "2026-06-15", "amount": "250.50"},
    {"order_id": "SO-3", "customer": "B", "order_date": "2026-07-01", "amount": 40},
]
LATER = {"order_id": "SO-4", "customer": "B", "order_date": "2026-10-20", "amount": 60}


def erp_only_b(orders: list[dict]) -> Frames:
    built = frames([DEAL], orders)
    xref = built.xref.loc[built.xref["record_id"] != "c-B"]
    companies = built.companies.loc[built.companies["company_id"] != "c-B"]
    return replace(built, xref=xref, companies=companies)


def orphans(orders: list[dict]) -> pd.DataFrame:
    found = run(erp_only_b(orders)).findings
    return found.loc[found["kind"] == "orphan_order"].reset_index(drop=True)


def test_an_erp_only_customers_orders_are_one_finding_with_their_count_total_and_span() -> None:
    (row,) = orphans(ORDERS).itertuples(index=False)
    assert row.order_ids == "customer:e-B"
    assert row.order_count == 3
    assert row.order_total_base == Decimal("390.5")
    assert (row.first_order_date, row.last_order_date) == (
        pd.Timestamp("2026-03-02"),
        pd.Timestamp("2026-07-01"),
    )
    assert row.age_days == (AS_OF - dt.date(2026, 3, 2)).days
    assert row.reason == (
        "3 orders (SO-1, SO-2, SO-3) of ERP customer e-B CUSTOMER B from 2026-03-02 to "
        "2026-07-01, USD 390.50 in total; the customer has no CRM company, so no deal stands "
        "behind them"
    )


def test_the_reason_names_the_first_orders_and_counts_the_rest() -> None:
    (row,) = orphans([*ORDERS, LATER]).itertuples(index=False)
    assert row.reason.startswith("4 orders (SO-1, SO-2, SO-3 and 1 more) of ERP customer e-B")
    (one,) = orphans(ORDERS[:1]).itertuples(index=False)
    assert one.reason.startswith("order SO-1 of ERP customer e-B CUSTOMER B on 2026-03-02, USD 100")


def test_another_order_keeps_the_findings_id() -> None:
    before = keyed_findings("leakage", orphans(ORDERS))
    after = keyed_findings("leakage", orphans([*ORDERS, LATER]))
    assert len(before) == len(after) == 1
    assert after["finding_id"].tolist() == before["finding_id"].tolist()
    assert after["key"].tolist() == ["orphan_order|order:customer:e-B"]


def test_deal_findings_count_the_orders_they_name() -> None:
    paid = {"order_id": "SO-9", "customer": "A", "order_date": "2026-09-05", "amount": 200}
    found = run(erp_only_b([*ORDERS, paid])).findings.set_index("deal_id")
    assert found.loc["D-A", "kind"] == "under_billed"
    assert found.loc["D-A", "order_count"] == 1
