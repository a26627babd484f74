"""Month-end on generated sample data: it ties out, and its totals are the plain pandas sums of
the input (won deals, live orders, invoices and payments in base currency, by month)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from recon.checks import amounts as A
from recon.checks.monthend import MonthendOptions, MonthendResult, monthend, months_in
from recon.checks.monthend_prep import tax_rate_of_customers
from recon.config.leakage import default_leakage_rules
from recon.config.load import folder_config
from recon.extract.load import load_all
from recon.fx import to_base
from recon.models import LoadResult
from recon.sampledata import generate, write

MONTHS = months_in(start="2025-11", end="2026-10")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[LoadResult, Path]:
    out = tmp_path_factory.mktemp("monthend_sample")
    write(generate(300, seed=5), out)
    return load_all(folder_config(out)), out


@pytest.fixture(scope="module")
def result(loaded: tuple[LoadResult, Path]) -> MonthendResult:
    load, folder = loaded
    truth = pd.read_csv(folder / "truth_entities.csv", dtype=str)
    xref = truth.rename(columns={"entity_id": "xref_id"})
    links = pd.read_csv(folder / "truth_orders.csv", dtype=str).dropna()
    fx = load.frame("fx_rates")

    def convert(amount: pd.Series, currency: pd.Series, on: pd.Series) -> pd.DataFrame:
        return to_base(amount, currency, on, fx, "USD")

    customers = load.frame("erp_customers")
    options = MonthendOptions(
        won_stages=load.won_stages,
        convert=convert,
        tax_rate_of_customer=tax_rate_of_customers(customers, default_leakage_rules().tax_rates),
    )
    return monthend(
        load.frame("crm_deals"),
        load.frame("erp_orders"),
        load.frame("erp_invoices"),
        links,
        xref,
        MONTHS,
        options,
        companies=load.frame("crm_companies"),
        customers=customers,
    )


def monthly(frame: pd.DataFrame, amount: str, date: str, fx: pd.DataFrame) -> pd.Series:
    """Σ base amount by month, rows without a rate left out — computed directly."""
    conv = to_base(frame[amount], frame["currency"], frame[date], fx, "USD")
    keep = ~conv["fx_missing"].to_numpy(dtype=bool)
    month = frame[date].dt.to_period("M")[keep]
    return conv["amount_base"][keep].groupby(month).sum()


def test_ties_out_every_month_and_step(result: MonthendResult) -> None:
    check = result.tie_out()
    assert len(check) == 3 * len(MONTHS)
    assert check["ties_out"].all()
    assert set(result.differences["month"]) <= set(MONTHS)


def test_totals_are_the_plain_sums_of_the_input(
    result: MonthendResult, loaded: tuple[LoadResult, Path]
) -> None:
    load, _ = loaded
    fx = load.frame("fx_rates")
    deals, orders = load.frame("crm_deals"), load.frame("erp_orders")
    invoices = load.frame("erp_invoices")
    assert fx is not None and deals is not None and orders is not None and invoices is not None
    expected = {
        "won": monthly(deals[deals["stage"] == "closedwon"], "amount", "close_date", fx),
        "ordered": monthly(orders[orders["status"] != "Cancelled"], "amount", "order_date", fx),
        "invoiced": monthly(invoices, "amount", "invoice_date", fx),
        "paid": monthly(
            invoices.assign(paid=invoices["paid_amount"].fillna(0)), "paid", "invoice_date", fx
        ),
    }
    summary = result.summary.set_index("month")
    for name, sums in expected.items():
        for month in MONTHS:
            want = Decimal(str(sums.get(month, Decimal(0))))
            assert Decimal(str(summary.loc[month, name])) == want, (name, month)
    assert A.total(summary["won"]) > 0 and A.total(summary["paid"]) > 0


def test_differences_name_the_usual_causes(result: MonthendResult) -> None:
    kinds = set(result.differences["kind"])
    assert {"timing", "orphan_order", "tax", "not_invoiced", "unpaid"} <= kinds
    assert result.differences["explanation"].notna().all()


def test_ar_overview_matches_open_invoices(
    result: MonthendResult, loaded: tuple[LoadResult, Path]
) -> None:
    ar = result.ar
    assert ar["xref_id"].is_unique
    assert (A.sub(A.sub(ar["invoiced"], ar["paid"]), ar["open_balance"]) == 0).all()
    assert (ar["overdue_amount"] <= ar["open_balance"]).all()
    assert ar["credit_hold"].any()
