"""Over-billing by orders that name no deal is decided, like the tax readings, from the deals whose
orders name them: where those never total above the deal, an unnamed order above a deal is other
business in its window, not an over-billing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from recon.checks.leakage import link_orders
from recon.checks.leakage.taxes import MIN_DEALS, TaxReadings, over_billing
from tests.checks.leakage_helpers import AS_OF, frames, rules_with, run

VAT = 0.2
BOTH = TaxReadings(True, True, "")


def named(shares: list[float]) -> pd.DataFrame:
    n = len(shares)
    return pd.DataFrame({"d": np.arange(n), "ref": np.ones(n, bool), "share": shares})


def decide(pairs: pd.DataFrame, setting: bool | str = "auto", taxes: TaxReadings = BOTH):
    n = int(pairs["d"].max()) + 1
    return over_billing(pairs, np.full(n, 0.05), np.full(n, VAT), taxes, setting)


def test_auto_follows_what_the_named_orders_show() -> None:
    allowed, note = decide(named([1.0] * 900 + [1.4] * 5))
    assert not allowed
    assert "not allowed (auto; 5 of 905 deals whose named orders total above the deal)" in note
    assert decide(named([1.0] * 900 + [1.4] * 20))[0]


def test_a_total_with_vat_is_no_over_billing_unless_that_reading_is_off() -> None:
    with_tax = named([1.0] * 900 + [1 + VAT] * 100)
    assert not decide(with_tax)[0]
    assert decide(with_tax, taxes=TaxReadings(False, True, ""))[0]


def test_too_few_named_deals_allow_it_and_the_setting_is_obeyed() -> None:
    few = named([1.0] * (MIN_DEALS - 1))
    assert decide(few)[0]
    many = named([1.0] * 900)
    assert decide(many, setting=True) == (
        True,
        "orders naming no deal over-billing it: allowed (rules/leakage.yaml)",
    )


def _frames(extra_order: dict):
    """MIN_DEALS companies whose one order names its deal and matches it, and company Z with a
    deal of 10,000 and ``extra_order``."""
    day = dt.date(2026, 6, 1)
    deals = [
        {"deal_id": f"D{i}", "company": f"E{i}", "amount": 1000 + i, "close_date": day}
        for i in range(MIN_DEALS)
    ]
    orders = [
        {"order_id": f"O{i}", "customer": f"E{i}", "amount": 1000 + i, "ref": f"D{i}",
         "order_date": day + dt.timedelta(days=5)}
        for i in range(MIN_DEALS)
    ]  # fmt: skip
    deals.append({"deal_id": "D999", "company": "Z", "amount": 10000, "close_date": day})
    orders.append({"customer": "Z", "order_date": day + dt.timedelta(days=5), **extra_order})
    countries = {f"E{i}": "US" for i in range(MIN_DEALS)} | {"Z": "US"}
    return frames(deals, orders, countries=countries)


def _kind(result, deal_id: str) -> str | None:
    rows = result.findings.loc[result.findings["deal_id"] == deal_id, "kind"]
    return None if rows.empty else str(rows.iloc[0])


def test_an_unnamed_order_above_the_deal_is_not_its_over_billing_when_none_is_seen() -> None:
    built = _frames({"order_id": "SO1", "amount": 13000})
    result = run(built)
    assert _kind(result, "D999") == "no_order"
    assert "not allowed (auto; 0 of 200 deals" in result.over_billing
    assert "SO1" not in set(link_orders(built, rules_with(), as_of=AS_OF)["order_id"])


@pytest.mark.parametrize(
    ("order", "setting"),
    [
        ({"order_id": "SO1", "amount": 13000}, True),  # allowed by the rules file
        ({"order_id": "SO1", "amount": 13000, "ref": "D999"}, "auto"),  # the order names the deal
    ],
)
def test_over_billing_is_reported_when_allowed_or_named(order: dict, setting: bool | str) -> None:
    rules = rules_with({"assignment.unnamed_orders_may_over_bill": setting})
    result = run(_frames(order), rules)
    assert _kind(result, "D999") == "over_billed"
