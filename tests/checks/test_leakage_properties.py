"""Properties of the assignment and the totals on random small entities (hypothesis)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from checks.leakage_helpers import frames, run
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.checks.leakage import value_at_risk

DAY0 = dt.date(2026, 3, 1)

deal = st.fixed_dictionaries(
    {
        "company": st.sampled_from(["A", "B", "A/2"]),
        "amount": st.integers(100, 20_000),
        "close_date": st.integers(0, 200).map(lambda d: DAY0 + dt.timedelta(days=d)),
        "owner": st.sampled_from(["Ann", "Bo"]),
    }
)
order = st.fixed_dictionaries(
    {
        "customer": st.sampled_from(["A", "B", "A/2", "C"]),
        "amount": st.integers(50, 25_000),
        "order_date": st.integers(-10, 230).map(lambda d: DAY0 + dt.timedelta(days=d)),
        "status": st.sampled_from(["Billed", "Billed", "Cancelled"]),
        "ref": st.one_of(st.none(), st.integers(0, 5).map(lambda i: f"HS-D{i}")),
    }
)


def numbered(items: list[dict], prefix: str, key: str) -> list[dict]:
    return [{**item, key: f"{prefix}{i}"} for i, item in enumerate(items)]


@settings(max_examples=60, deadline=None)
@given(st.lists(deal, max_size=6), st.lists(order, max_size=8))
def test_an_order_pays_at_most_one_deal_and_never_a_cancelled_one(deals, orders) -> None:
    deals, orders = numbered(deals, "D", "deal_id"), numbered(orders, "SO", "order_id")
    findings = run(frames(deals, orders)).findings
    per_deal = findings.loc[findings["deal_id"].notna() & (findings["kind"] != "credit_hold")]
    named = [x for ids in per_deal["order_ids"].dropna() for x in ids.split(", ")]
    assert len(named) == len(set(named))
    cancelled = {o["order_id"] for o in orders if o["status"] == "Cancelled"}
    assert not cancelled & set(named)
    assert not cancelled & set(findings.loc[findings["kind"] == "orphan_order", "order_ids"])
    # every won deal has at most one deal-level finding
    assert not per_deal["deal_id"].duplicated().any()


@settings(max_examples=40, deadline=None)
@given(st.lists(deal, max_size=6), st.lists(order, max_size=8))
def test_totals_by_kind_owner_and_month_all_add_up_to_the_total(deals, orders) -> None:
    deals, orders = numbered(deals, "D", "deal_id"), numbered(orders, "SO", "order_id")
    findings = run(frames(deals, orders, crm_only=("B",), on_hold=("A",))).findings
    total = findings["gap_amount"].fillna(0).sum()
    tables = value_at_risk(findings)
    for table in tables.values():
        assert table["value_at_risk"].sum() == total
        assert table["findings"].sum() == len(findings)
    by_kind = tables["kind"].set_index("key")["findings"]
    assert by_kind.to_dict() == findings["kind"].value_counts().to_dict()
    assert isinstance(findings, pd.DataFrame)
