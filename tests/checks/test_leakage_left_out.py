"""Won deals leakage cannot compare — without an amount, or below zero — are left out, counted in
the notes, and the orders naming them pay no other deal."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
from checks.leakage_helpers import frames, run

from recon.checks.leakage import LEFT_OUT, Frames

NO_AMOUNT = "D1"  # won, its amount cell empty in the CRM
NEGATIVE = "D2"  # won at -500: a credit booked as a deal
FINE = "D3"  # won at 900, with no order at all


def _frames() -> Frames:
    built = frames(
        [
            {"deal_id": NO_AMOUNT, "company": "B", "amount": 1, "close_date": "2026-06-01"},
            {"deal_id": NEGATIVE, "company": "A", "amount": -500, "close_date": "2026-06-01"},
            {"deal_id": FINE, "company": "A", "amount": 900, "close_date": "2026-06-01"},
        ],
        [
            {"order_id": "SO1", "customer": "A", "amount": 500, "order_date": "2026-06-10",
             "ref": NEGATIVE},
            {"order_id": "SO2", "customer": "B", "amount": 800, "order_date": "2026-06-10",
             "ref": NO_AMOUNT},
        ],
    )  # fmt: skip
    deals = built.deals.copy()
    deals.loc[deals["deal_id"] == NO_AMOUNT, "amount"] = pd.NA
    return replace(built, deals=deals)


def test_deals_left_out_are_counted_in_the_notes() -> None:
    result = run(_frames())
    assert result.habits[LEFT_OUT] == (
        "1 without an amount, 1 with a negative amount: not compared to orders, nor the "
        "2 order(s) naming them (quality.csv lists the deals)"
    )
    assert not result.findings["deal_id"].isin([NO_AMOUNT, NEGATIVE]).any()


def test_an_order_naming_a_deal_left_out_pays_no_other_deal() -> None:
    """Before, SO1 (naming the credit D2) was read as part payment of D3: under_billed."""
    found = run(_frames()).findings.set_index("deal_id")
    assert found.loc[FINE, "kind"] == "no_order"
    assert "SO1" not in str(found.loc[FINE, "order_ids"])


def test_nothing_left_out_says_nothing() -> None:
    built = frames(
        [{"deal_id": FINE, "company": "A", "amount": 900, "close_date": "2026-06-01"}], []
    )
    assert LEFT_OUT not in run(built).habits
