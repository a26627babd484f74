"""Deals, orders, invoices, FX rates and the planted leakage of generated sample data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sampledata.sampledata_helpers import amounts, clean, dates

from recon.sampledata import SampleData, vocab

STAGES = {"closedwon", "closedlost", *vocab.OPEN_STAGES}
VAT_BY_CURRENCY = {vocab.LOCAL_CURRENCY[c]: v for c, v in vocab.VAT.items()}


@pytest.fixture(scope="module")
def book(medium: SampleData) -> dict[str, pd.DataFrame]:
    """Typed deals with their ERP entity, and orders with their deal, from the medium set."""
    data = medium
    deals = clean(data, "crm_deals")
    deals = deals.assign(amount=amounts(deals["amount"]), close=dates(deals["close_date"]))
    truth = data.truth_entities
    entity = truth.set_index(["system", "record_id"])["entity_id"]
    deals["entity"] = entity.loc["crm"].reindex(deals["company_id"]).to_numpy()
    deals["in_erp"] = deals["entity"].isin(set(truth.loc[truth["system"] == "erp", "entity_id"]))
    orders = clean(data, "erp_orders").merge(data.truth_orders, on="order_id", how="left")
    orders = orders.assign(amount=amounts(orders["amount"]), date=dates(orders["order_date"]))
    fx = clean(data, "fx_rates")
    rates = {
        (c, d): float(r) for c, r, d in fx[["currency", "rate", "date"]].itertuples(index=False)
    }
    return {"deals": deals, "orders": orders, "rates": rates}  # type: ignore[dict-item]


def _convert(amount: float, src: str, dst: str, day: pd.Timestamp, rates: dict) -> float:
    month = day.strftime("%Y-%m-01")
    return amount / rates[(src, month)] * rates[(dst, month)]


def _orders_in_deal_currency(book: dict) -> pd.Series:
    """Per deal: its non-cancelled orders' total, converted at the rate of its close month."""
    deals, orders, rates = book["deals"], book["orders"], book["rates"]
    live = orders[(orders["status"] != "Cancelled") & orders["deal_id"].notna()]
    live = live.merge(deals[["deal_id", "currency", "close"]], on="deal_id", suffixes=("", "_deal"))
    converted = [
        _convert(a, c, d, t, rates)
        for a, c, d, t in live[["amount", "currency", "currency_deal", "close"]].itertuples(
            index=False
        )
    ]
    return pd.Series(converted, index=live.index).groupby(live["deal_id"]).sum()


# --- deals ----------------------------------------------------------------------------------------


def test_deal_stages_rates_and_currencies(book: dict, medium: SampleData) -> None:
    deals = book["deals"]
    assert set(deals["stage"]) == STAGES
    assert (deals["stage"] == "closedwon").mean() == pytest.approx(0.45, abs=0.03)
    assert set(deals["pipeline"]) == {"default"}
    companies = clean(medium, "crm_companies")
    assert len(deals) / len(companies) == pytest.approx(2.9, abs=0.3)
    local = deals["currency"] != "USD"
    assert set(deals.loc[local, "currency"]) == {"IDR", "AUD", "NZD", "GBP", "EUR"}
    company_country = companies.set_index("company_id")["country"]
    us = deals["company_id"].map(company_country).isin(["United States", "US", "USA"])
    assert (deals.loc[us, "currency"] == "USD").all()
    abroad = deals["company_id"].map(company_country).isin(["Indonesia", "ID", "Australia", "AU"])
    assert (deals.loc[abroad, "currency"] == "USD").mean() == pytest.approx(0.2, abs=0.05)
    median_usd = deals.loc[deals["currency"] == "USD", "amount"].median()
    assert 8_000 < median_usd < 25_000


def test_closed_deals_fall_in_the_18_months_before_as_of(book: dict, medium: SampleData) -> None:
    deals = book["deals"]
    as_of = pd.Timestamp(medium.as_of)
    closed = deals[deals["stage"].isin(["closedwon", "closedlost"])]
    assert closed["close"].max() <= as_of
    assert closed["close"].min() >= as_of - pd.Timedelta(days=548)


def test_deals_on_duplicate_crm_records_are_fulfilled_too(book: dict, medium: SampleData) -> None:
    deals, orders = book["deals"], book["orders"]
    copies = medium.truth_entities.query("system == 'crm'").groupby("entity_id").size()
    on_duplicates = deals[deals["entity"].map(copies) > 1]
    won = on_duplicates[on_duplicates["stage"] == "closedwon"]
    assert len(won) > 0
    assert won["deal_id"].isin(orders["deal_id"]).any()


# --- leakage --------------------------------------------------------------------------------------


def test_every_planted_leak_is_a_won_deal_of_its_kind(book: dict, medium: SampleData) -> None:
    deals = book["deals"].set_index("deal_id")
    leak = medium.truth_leakage.assign(gap=lambda f: f["gap_amount"].astype(float))
    assert set(leak["kind"]) == {"no_erp_customer", "pending", "no_order", "under_billed"}
    assert leak["deal_id"].is_unique
    rows = deals.loc[leak["deal_id"]]
    assert (rows["stage"] == "closedwon").all()
    as_of = pd.Timestamp(medium.as_of)
    ordered = set(book["orders"]["deal_id"].dropna())
    for kind in ("no_erp_customer", "pending", "no_order"):
        mine = leak[leak["kind"] == kind]
        assert not set(mine["deal_id"]) & ordered, kind
        assert np.allclose(mine["gap"], deals.loc[mine["deal_id"], "amount"]), kind
    assert not rows.loc[leak.query("kind == 'no_erp_customer'")["deal_id"], "in_erp"].any()
    assert rows.loc[leak.query("kind != 'no_erp_customer'")["deal_id"], "in_erp"].all()
    pending = deals.loc[leak.query("kind == 'pending'")["deal_id"], "close"]
    assert (pending > as_of - pd.Timedelta(days=14)).all()
    no_order = deals.loc[leak.query("kind == 'no_order'")["deal_id"], "close"]
    assert (no_order < as_of - pd.Timedelta(days=30)).all()


def test_under_billed_gap_is_the_deal_minus_its_orders(book: dict, medium: SampleData) -> None:
    deals = book["deals"].set_index("deal_id")
    got = _orders_in_deal_currency(book)
    under = medium.truth_leakage.query("kind == 'under_billed'")
    assert len(under) > 0
    deal = deals.loc[under["deal_id"], "amount"].to_numpy()
    billed = got.reindex(under["deal_id"]).to_numpy()
    gap = under["gap_amount"].astype(float).to_numpy()
    assert np.allclose(gap, deal - billed, atol=0.011)
    assert ((billed / deal > 0.39) & (billed / deal < 0.81)).all()


def test_leakage_rates(book: dict, medium: SampleData) -> None:
    deals = book["deals"]
    leak = medium.truth_leakage["kind"].value_counts()
    as_of = pd.Timestamp(medium.as_of)
    won = deals[(deals["stage"] == "closedwon") & deals["in_erp"]]
    old = won[won["close"] < as_of - pd.Timedelta(days=30)]
    assert leak["no_order"] / len(old) == pytest.approx(0.03, abs=0.012)
    assert leak["under_billed"] / len(won) == pytest.approx(0.02, abs=0.01)
    no_erp = deals[(deals["stage"] == "closedwon") & ~deals["in_erp"]]
    assert leak["no_erp_customer"] == len(no_erp)


def test_every_other_won_deal_is_fulfilled_within_5_percent(book: dict, medium: SampleData) -> None:
    deals = book["deals"]
    leaked = set(medium.truth_leakage["deal_id"])
    fulfilled = deals[(deals["stage"] == "closedwon") & ~deals["deal_id"].isin(leaked)]
    assert fulfilled["in_erp"].all()
    got = _orders_in_deal_currency(book).reindex(fulfilled["deal_id"])
    assert got.notna().all(), "a won deal that is not planted leakage has no order"
    ratio = got.to_numpy() / fulfilled["amount"].to_numpy()
    orders = book["orders"]
    order_currency = orders.dropna(subset=["deal_id"]).groupby("deal_id")["currency"].first()
    vat = order_currency.reindex(fulfilled["deal_id"]).map(VAT_BY_CURRENCY).to_numpy()
    ex_tax = np.abs(ratio - 1) <= 0.05
    with_tax = np.abs(ratio / (1 + vat) - 1) <= 0.05
    assert (ex_tax | with_tax).all()
    assert with_tax[vat > 0].mean() == pytest.approx(0.25, abs=0.05)


# --- orders and invoices --------------------------------------------------------------------------


def test_orders_follow_their_deals(book: dict, medium: SampleData) -> None:
    deals = book["deals"].set_index("deal_id")
    orders = book["orders"]
    for_deals = orders.dropna(subset=["deal_id"])
    lag = (for_deals["date"] - deals.loc[for_deals["deal_id"], "close"].to_numpy()).dt.days
    first = lag.groupby(for_deals["deal_id"].to_numpy()).min()
    assert first.min() >= -9  # a cancelled order may come a few days before the re-entered one
    assert first.max() <= 60
    assert (first > 45).mean() < 0.06
    assert (orders["date"] <= pd.Timestamp(medium.as_of)).all()
    statuses = set(orders["status"])
    assert statuses <= {"Billed", "Closed", "Pending Fulfillment", "Pending Billing", "Cancelled"}
    per_deal = for_deals[for_deals["status"] != "Cancelled"].groupby("deal_id").size()
    assert (per_deal > 1).mean() == pytest.approx(0.10, abs=0.03)
    assert per_deal.max() <= 3
    assert orders["deal_id"].isna().sum() > 0  # repeat business and ERP-only customers


def test_each_cancelled_order_is_entered_again(book: dict) -> None:
    orders = book["orders"]
    cancelled = orders[orders["status"] == "Cancelled"]
    assert len(cancelled) > 0
    live = orders[orders["status"] != "Cancelled"]
    pairs = cancelled.merge(live, on=["deal_id", "amount"], suffixes=("", "_again"))
    pairs = pairs[pairs["date_again"] >= pairs["date"]]
    assert set(cancelled["order_id"]) == set(pairs["order_id"])


def test_deal_references_are_messy_and_mostly_right(book: dict) -> None:
    orders = book["orders"]
    refs = orders.dropna(subset=["crm_deal_ref", "deal_id"])
    share = len(refs) / orders["deal_id"].notna().sum()
    assert share == pytest.approx(0.5, abs=0.05)
    named = refs["crm_deal_ref"].str.extract(r"(\d{11})")[0]
    assert named.notna().all()
    forms = (
        refs["crm_deal_ref"]
        .str.replace(r"\d{11}", "N", regex=True)
        .str.replace(r"PO \d+", "PO p", regex=True)
    )
    assert {"HS-N", "Deal #N", "N", "CRM:N / PO p"} <= set(forms)
    wrong = (named != refs["deal_id"]).mean()
    assert 0 < wrong < 0.05
    deals = book["deals"].set_index("deal_id")
    off = refs[named != refs["deal_id"]]
    same_company = deals.loc[named[off.index], "company_id"].to_numpy()
    assert (same_company == deals.loc[off["deal_id"], "company_id"].to_numpy()).all()


def test_invoices_bill_their_orders(medium: SampleData) -> None:
    inv = clean(medium, "erp_invoices")
    orders = clean(medium, "erp_orders").set_index("order_id")
    assert inv["order_id"].is_unique
    matched = orders.loc[inv["order_id"]]
    assert (matched["status"] != "Cancelled").all()
    assert (inv["amount"].to_numpy() == matched["amount"].to_numpy()).all()
    assert (inv["currency"].to_numpy() == matched["currency"].to_numpy()).all()
    assert (inv["customer_id"].to_numpy() == matched["customer_id"].to_numpy()).all()
    lag = (dates(inv["invoice_date"]) - dates(pd.Series(matched["order_date"].to_numpy()))).dt.days
    assert lag.between(0, 20).all()
    assert (inv["due_date"] >= inv["invoice_date"]).all()
    paid, amount = amounts(inv["paid_amount"]), amounts(inv["amount"])
    assert (paid <= amount).all()
    assert ((inv["status"] == "paid") == (paid == amount)).all()
    assert {"paid", "open"} == set(inv["status"])
    assert ((paid > 0) & (paid < amount)).any()  # partly paid
    live = orders[orders["status"] != "Cancelled"]
    not_invoiced = ~live.index.isin(inv["order_id"])
    assert 0 < not_invoiced.mean() < 0.1
    assert set(live.loc[not_invoiced, "status"]) <= {"Pending Fulfillment", "Pending Billing"}


def test_ar_balance_is_the_open_invoice_amount(medium: SampleData) -> None:
    inv = clean(medium, "erp_invoices")
    open_ = (amounts(inv["amount"]) - amounts(inv["paid_amount"])).groupby(inv["customer_id"]).sum()
    customers = clean(medium, "erp_customers").set_index("customer_id")
    balance = amounts(customers["ar_balance"])
    assert np.allclose(balance, open_.reindex(customers.index).fillna(0.0), atol=0.005)
    assert set(customers["credit_hold"]) == {"true", "false"}


def test_fx_rates_are_monthly_and_realistic(medium: SampleData) -> None:
    fx = clean(medium, "fx_rates")
    rate = amounts(fx["rate"])
    assert (fx["date"].str.endswith("-01")).all()
    months = fx.groupby("date")["currency"].apply(set)
    assert all(m == set(vocab.CURRENCIES) for m in months)
    assert len(months) >= 19
    bounds = {"USD": (1, 1), "IDR": (14_500, 17_500), "AUD": (1.35, 1.7), "NZD": (1.45, 1.85),
              "GBP": (0.7, 0.86), "EUR": (0.83, 1.0)}  # fmt: skip
    for currency, (lo, hi) in bounds.items():
        values = rate[fx["currency"] == currency]
        assert values.between(lo, hi).all(), currency
