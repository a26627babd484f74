"""Properties of the assignment and the totals on random small entities (hypothesis)."""

from __future__ import annotations

import datetime as dt
import importlib
import re
from dataclasses import replace

import numpy as np
import pandas as pd
from checks.leakage_helpers import frames, run
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.checks.leakage import value_at_risk

# the module (the package's ``assign`` is its function of that name)
module = importlib.import_module("recon.checks.leakage.assign")

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
    orphans = findings.loc[findings["kind"] == "orphan_order"]
    in_reasons = {x for r in orphans["reason"] for x in re.findall(r"\bSO\d+\b", r)}
    assert not cancelled & in_reasons
    # an orphan finding counts its customer's live orders that pay no deal, each once
    live = len(orders) - len(cancelled)
    assert int(orphans["order_count"].sum()) + len(named) <= live
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


def _pairs(rows: list[tuple], n_deals: int) -> pd.DataFrame:
    """Candidate pairs (deal, order, share, lag) of the first ``n_deals`` deals."""
    rows = [r for r in rows if r[0] < n_deals]
    return pd.DataFrame(rows, columns=["d", "o", "share", "lag"], dtype=object).astype(
        {"d": "int64", "o": "int64", "share": "float64", "lag": "int64"}
    )


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 3),
    st.lists(
        st.tuples(
            st.integers(0, 2),  # deal
            st.integers(0, 3),  # order
            st.floats(0.05, 1.6),  # share of the deal
            st.integers(-7, 180),  # days from the close
        ),
        max_size=9,
        unique_by=lambda t: (t[0], t[1]),
    ),
    st.lists(st.integers(0, 8), max_size=2),  # the pairs whose order names the deal
    st.booleans(),  # unnamed orders may over-bill
)
def test_pairs_left_out_up_front_never_change_the_assignment(
    n_deals: int, rows: list[tuple], named: list[int], unnamed_over: bool
) -> None:
    """Later parts that cannot complete their deal or reach the plausible share, and unnamed
    orders above the deal where they may not over-bill it, are dropped before the search (for
    speed): the assignment and the ambiguity flags are those of the search over every pair."""
    pairs = _pairs(rows, n_deals)
    pairs["ref"] = np.isin(np.arange(len(pairs)), named)
    pairs["late"] = (pairs["lag"] > 60) & ~pairs["ref"]
    p = module.Params(
        tol=np.full(n_deals, 0.05), vat=np.full(n_deals, 0.2), min_share=0.3, max_share=2.0,
        chain_days=60, orders_with_tax=True, deals_with_tax=True, unnamed_over=unnamed_over,
    )  # fmt: skip

    def every_pair(pairs: pd.DataFrame, p) -> np.ndarray:  # the rule before the pruning
        share, d = pairs["share"].to_numpy(), pairs["d"].to_numpy()
        top = (1 + p.vat[d]) * (1 + p.tol[d])
        fits = ~pairs["late"].to_numpy() | (share <= top)
        return pairs["ref"].to_numpy() | ((share <= p.max_share) & fits)

    pruned = module.assign(pairs, n_deals, 4, p)
    original = module._useful
    module._useful = every_pair
    try:
        full = module.assign(pairs, n_deals, 4, p)
    finally:
        module._useful = original
    assert pruned.deal_of_order.tolist() == full.deal_of_order.tolist()
    assert pruned.ambiguous.tolist() == full.ambiguous.tolist()


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 3),
    st.lists(
        st.tuples(
            st.integers(0, 2),  # deal
            st.integers(0, 4),  # order
            st.sampled_from([0.25, 1 / 3, 0.5, 0.6, 0.9, 1.0]),  # share of the deal
            st.integers(-7, 300),  # days from the close
        ),
        max_size=10,
        unique_by=lambda t: (t[0], t[1]),
    ),
    st.lists(st.integers(100, 500), min_size=3, max_size=3),  # days from each close to as-of
    st.integers(20, 130),  # when a missing instalment counts
)
def test_solving_again_only_where_the_due_day_matters_equals_solving_everything(
    n_deals: int, rows: list[tuple], age: list[int], due: int
) -> None:
    """The leakage check learns when an instalment is missing after a first assignment, then
    solves again only the groups with a deal whose candidate order falls between that day and
    the latest gap: the result is the assignment solved from scratch with that day."""
    pairs = _pairs(rows, n_deals)
    pairs["ref"] = pairs["o"].to_numpy() == 0
    pairs["late"] = (pairs["lag"] > 60) & ~pairs["ref"]
    first = module.Params(
        tol=np.full(n_deals, 0.05), vat=np.zeros(n_deals), min_share=0.3, max_share=2.0,
        chain_days=100, orders_with_tax=False, deals_with_tax=False, instalments=True,
        max_parts=4, latest_gap=110, grace_days=14, age=np.array(age[:n_deals], dtype=float),
    )  # fmt: skip
    second = replace(first, due_days=due)
    since = first.age[pairs["d"].to_numpy()] - pairs["lag"].to_numpy()
    moved = np.unique(pairs["d"].to_numpy()[(since > due) & (since <= 124)])
    before = module.assign(pairs, n_deals, 5, first)
    again = module.assign(pairs, n_deals, 5, second, previous=before, only=moved)
    full = module.assign(pairs, n_deals, 5, second)
    assert again.deal_of_order.tolist() == full.deal_of_order.tolist()
    assert again.ambiguous.tolist() == full.ambiguous.tolist()
