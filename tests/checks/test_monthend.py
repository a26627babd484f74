"""Month-end reconciliation: hand-built cases with their figures written down, the tie-out as a
property on random data, and a run on generated sample data against independent pandas sums."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from recon.checks import amounts as A
from recon.checks.monthend import MonthendOptions, MonthendResult, monthend, months_in
from recon.checks.monthend_prep import tax_rate_of_customers
from recon.errors import ConfigError
from recon.fx import to_base
from recon.schema import AMOUNT_DTYPE

WON = ("closedwon",)
SEP, OCT, NOV = (pd.Period(m, freq="M") for m in ("2026-09", "2026-10", "2026-11"))


def frame(columns: str, *rows: tuple[object, ...]) -> pd.DataFrame:
    """Canonical-typed frame: ``*_date`` columns are dates, amount columns exact decimals."""
    names = columns.split()
    data = pd.DataFrame([list(r) for r in rows], columns=names, dtype=object)
    out = {}
    for name in names:
        col = data[name] if len(data) else pd.Series([], dtype=object)
        if name.endswith("date"):
            out[name] = pd.to_datetime(col)
        elif name in ("amount", "paid_amount", "rate"):
            out[name] = A.amounts([None if v is None else str(v) for v in col])
        elif name == "credit_hold":
            out[name] = col.astype("boolean")
        else:
            out[name] = col.astype("string")
    return pd.DataFrame(out)


XREF = frame(
    "system record_id xref_id",
    ("crm", "C1", "XR-1"),
    ("erp", "K1", "XR-1"),
    ("erp", "K2", "XR-2"),
)
COMPANIES = frame("company_id name owner", ("C1", "Acme", "Ann"))
CUSTOMERS = frame(
    "customer_id name credit_hold", ("K1", "ACME", False), ("K2", "ERP ONLY LTD", True)
)
DEALS = frame(
    "deal_id company_id stage amount close_date currency owner",
    ("D1", "C1", "closedwon", "1000.00", "2026-09-28", "USD", "Ann"),  # ordered in October
    ("D2", "C1", "closedwon", "1000.00", "2026-10-10", "USD", "Ann"),  # split, 50 short
    ("D4", "C1", "closedwon", "800.00", "2026-10-05", "USD", "Ann"),  # order cancelled
    ("D5", "C1", "closedwon", "200.00", "2026-10-15", "USD", "Bob"),  # no order
    ("D6", "C1", "closedlost", "999.00", "2026-10-01", "USD", "Ann"),  # not won: ignored
)
ORDERS = frame(
    "order_id customer_id order_date amount currency status",
    ("O0", "K2", "2026-08-20", "500.00", "USD", "Billed"),  # before the period
    ("O1", "K1", "2026-10-02", "1000.00", "USD", "Billed"),
    ("O2a", "K1", "2026-10-12", "600.00", "USD", "Billed"),
    ("O2b", "K1", "2026-10-20", "350.00", "USD", "Pending Billing"),  # never invoiced
    ("O3", "K2", "2026-10-07", "300.00", "USD", "Billed"),  # orphan: no deal
    ("O4", "K1", "2026-10-06", "800.00", "USD", "Cancelled"),
)
LINKS = frame("deal_id order_id", ("D1", "O1"), ("D2", "O2a"), ("D2", "O2b"), ("D4", "O4"))
INVOICES = frame(
    "invoice_id customer_id invoice_date amount order_id due_date paid_amount currency",
    ("I1", "K1", "2026-10-05", "1000.00", "O1", "2026-11-04", "1000.00", "USD"),
    ("I2", "K1", "2026-10-25", "600.00", "O2a", "2026-11-24", "400.00", "USD"),  # partial
    ("I3", "K2", "2026-09-01", "500.00", "O0", "2026-10-01", "0.00", "USD"),  # 30 days overdue
    ("I4", "K2", "2026-10-08", "300.00", "O3", "2026-11-07", "300.00", "USD"),
)

# Written down by hand (see the comments on the rows above).
SUMMARY = {
    SEP: {"won": "1000", "ordered": "0", "invoiced": "500", "paid": "0"},
    OCT: {"won": "2000", "ordered": "2250", "invoiced": "1900", "paid": "1700"},
}
ITEMS = {
    (SEP, "won→ordered"): {("timing", "D1", "O1", None): "-1000"},
    (SEP, "ordered→invoiced"): {("timing", None, "O0", "I3"): "500"},
    (SEP, "invoiced→paid"): {("unpaid", None, "O0", "I3"): "-500"},
    (OCT, "won→ordered"): {
        ("timing", "D1", "O1", None): "1000",
        ("amount_difference", "D2", "O2a;O2b", None): "-50",
        ("cancelled_order", "D4", None, None): "-800",
        ("no_order", "D5", None, None): "-200",
        ("orphan_order", None, "O3", None): "300",
    },
    (OCT, "ordered→invoiced"): {("not_invoiced", None, "O2b", None): "-350"},
    (OCT, "invoiced→paid"): {("partially_paid", None, "O2a", "I2"): "-200"},
}


def run(**changes: object) -> object:
    args: dict[str, object] = {
        "deals": DEALS,
        "orders": ORDERS,
        "invoices": INVOICES,
        "links": LINKS,
        "xref": XREF,
        "months": (SEP, OCT),
        "options": MonthendOptions(won_stages=WON),
        "companies": COMPANIES,
        "customers": CUSTOMERS,
    }
    args.update(changes)
    return monthend(**args)  # type: ignore[arg-type]


def d(value: object) -> Decimal:
    return Decimal(str(value))


def test_summary_figures_written_down() -> None:
    summary = run().summary.set_index("month")
    for month, totals in SUMMARY.items():
        for name, value in totals.items():
            assert d(summary.loc[month, name]) == d(value), (month, name)
    assert d(summary.loc[OCT, "won_to_ordered"]) == Decimal(250)
    assert d(summary.loc[OCT, "ordered_to_invoiced"]) == Decimal(-350)
    assert d(summary.loc[SEP, "invoiced_to_paid"]) == Decimal(-500)


def test_every_difference_is_traced_to_its_rows() -> None:
    diffs = run().differences
    got: dict[tuple[object, str], dict[tuple[object, ...], Decimal]] = {}
    for row in diffs.itertuples():
        key = (
            row.kind,
            *(None if pd.isna(v) else v for v in (row.deal_id, row.order_id, row.invoice_id)),
        )
        got.setdefault((row.month, row.step), {})[key] = d(row.amount_base)
    expected = {k: {i: d(v) for i, v in items.items()} for k, items in ITEMS.items()}
    assert got == expected


def test_ties_out_per_month_and_step() -> None:
    check = run().tie_out()
    assert len(check) == 6 and check["ties_out"].all()


def test_timing_difference_across_month_boundary_names_both_months() -> None:
    diffs = run().differences
    timing = diffs[(diffs["kind"] == "timing") & (diffs["deal_id"] == "D1")]
    assert sorted(timing["month"].astype(str)) == ["2026-09", "2026-10"]
    assert A.total(timing["amount_base"]) == 0
    sep = timing[timing["month"] == SEP].iloc[0]
    assert "dated 2026-10-02" in sep["explanation"] and "2026-10" in sep["explanation"]


def test_split_order_that_adds_up_leaves_no_difference() -> None:
    orders = ORDERS.copy()
    orders.loc[orders["order_id"] == "O2b", "amount"] = A.amounts(["400.00"]).iloc[0]
    diffs = run(orders=orders).differences
    assert not (diffs["deal_id"] == "D2").any()


def test_ar_overview_open_overdue_and_credit_hold() -> None:
    ar = run().ar.set_index("xref_id")
    assert d(ar.loc["XR-1", "open_balance"]) == Decimal(200)  # I2: 600 − 400, due in November
    assert d(ar.loc["XR-1", "overdue_amount"]) == 0 and pd.isna(ar.loc["XR-1", "max_days_overdue"])
    assert d(ar.loc["XR-2", "open_balance"]) == Decimal(500)
    assert d(ar.loc["XR-2", "overdue_amount"]) == Decimal(500)
    assert ar.loc["XR-2", "max_days_overdue"] == 30  # due 2026-10-01, as of 2026-10-31
    assert bool(ar.loc["XR-2", "credit_hold"]) and not bool(ar.loc["XR-1", "credit_hold"])


def test_breakdowns_by_owner_and_entity() -> None:
    result = run()
    owner = result.by_owner.set_index(["month", "owner"])
    assert d(owner.loc[(OCT, "Ann"), "won"]) == Decimal(1800)
    assert d(owner.loc[(OCT, "Bob"), "won"]) == Decimal(200)
    assert d(owner.loc[(OCT, "Ann"), "ordered"]) == Decimal(1950)  # orders take the deal's owner
    entity = result.by_entity.set_index(["month", "xref_id"])
    assert d(entity.loc[(OCT, "XR-2"), "ordered"]) == Decimal(300)


def test_tax_inclusive_order_is_explained_as_tax() -> None:
    deals = frame(
        "deal_id company_id stage amount close_date currency owner",
        ("D1", "C1", "closedwon", "1000.00", "2026-10-01", "USD", "Ann"),
    )
    orders = frame(
        "order_id customer_id order_date amount currency status",
        ("O1", "K1", "2026-10-03", "1105.00", "USD", "Billed"),
    )
    rates = pd.Series([Decimal("0.10")], index=["K1"])
    options = MonthendOptions(won_stages=WON, tax_rate_of_customer=rates)
    diffs = run(
        deals=deals,
        orders=orders,
        invoices=None,
        links=frame("deal_id order_id", ("D1", "O1")),
        months=(OCT,),
        options=options,
    ).differences
    step = diffs[diffs["step"] == "won→ordered"].set_index("kind")["amount_base"]
    # 1105 / 1.1 = 1004.5455: 100.4545 tax, 4.5455 over the deal
    assert d(step["tax"]) == Decimal("100.4545")
    assert d(step["amount_difference"]) == Decimal("4.5455")


def test_tax_rate_of_a_customer_without_country_comes_from_the_country_read_elsewhere() -> None:
    """K2 states no country; the matcher read DE from its phone or domain. K1's stated GB beats
    the DE read for it; K3 has neither and gets no rate."""
    customers = frame("customer_id country", ("K1", "United Kingdom"), ("K2", None), ("K3", None))
    inferred = pd.Series(["DE", "DE"], index=["K1", "K2"])
    rates = tax_rate_of_customers(customers, {"GB": 0.2, "DE": 0.19}, None, inferred)
    assert rates.to_dict() == {"K1": Decimal("0.2"), "K2": Decimal("0.19")}
    assert tax_rate_of_customers(customers, {"GB": 0.2, "DE": 0.19}).to_dict() == {
        "K1": Decimal("0.2")
    }


FX = frame(
    "currency rate date",
    ("EUR", "0.9000", "2026-10-01"),
    ("EUR", "0.8000", "2026-11-01"),
)


def fx_options() -> MonthendOptions:
    def convert(amount: pd.Series, currency: pd.Series, on: pd.Series) -> pd.DataFrame:
        return to_base(amount, currency, on, FX, "USD")

    return MonthendOptions(won_stages=WON, convert=convert)


def test_fx_movement_between_deal_and_order_is_its_own_item() -> None:
    deals = frame(
        "deal_id company_id stage amount close_date currency owner",
        ("D1", "C1", "closedwon", "900.00", "2026-10-15", "EUR", "Ann"),  # 1000 USD
        ("D2", "C1", "closedwon", "100.00", "2026-10-15", "GBP", "Ann"),  # no GBP rate
    )
    orders = frame(
        "order_id customer_id order_date amount currency status",
        ("O1", "K1", "2026-11-03", "900.00", "EUR", "Billed"),  # 1125 USD
    )
    result = run(
        deals=deals,
        orders=orders,
        invoices=None,
        links=frame("deal_id order_id", ("D1", "O1")),
        months=(OCT, NOV),
        options=fx_options(),
    )
    summary = result.summary.set_index("month")
    assert d(summary.loc[OCT, "won"]) == Decimal(1000)  # the GBP deal is not counted
    assert summary.loc[OCT, "fx_missing"] == 1
    diffs = result.differences[result.differences["step"] == "won→ordered"]
    got = {(r.month, r.kind, r.deal_id): d(r.amount_base) for r in diffs.itertuples()}
    assert got == {
        (OCT, "timing", "D1"): Decimal(-1125),
        (OCT, "fx_conversion", "D1"): Decimal(125),
        (OCT, "fx_missing", "D2"): Decimal(0),
        (NOV, "timing", "D1"): Decimal(1125),
    }
    assert result.tie_out()["ties_out"].all()


@pytest.mark.parametrize(
    ("args", "months"),
    [
        ({"period": "2026-10"}, ["2026-10"]),
        ({"start": "2026-08", "end": "2026-10"}, ["2026-08", "2026-09", "2026-10"]),
        ({"start": "2025-12", "end": "2026-01"}, ["2025-12", "2026-01"]),
    ],
)
def test_months_of_a_period(args: dict[str, str], months: list[str]) -> None:
    assert [str(m) for m in months_in(**args)] == months


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"period": "2026-13"}, "--period is '2026-13' — expected a month such as 2026-10"),
        ({"period": "Oct 2026"}, "expected a month such as 2026-10"),
        ({"start": "2026-10", "end": "2026-08"}, "--to 2026-08 is before --from 2026-10"),
        ({"start": "2026-10"}, "give --period YYYY-MM"),
        ({"period": "2026-10", "end": "2026-11"}, "not both"),
    ],
)
def test_bad_period_is_a_config_error(args: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        months_in(**args)


def test_won_deal_without_amount_is_listed_not_counted_and_still_ties_out() -> None:
    """D7 (no order) and D8 (order O9, 700) were won in October with the amount cell empty."""
    deals = pd.concat(
        [
            DEALS,
            frame(
                "deal_id company_id stage amount close_date currency owner",
                ("D7", "C1", "closedwon", None, "2026-10-11", "USD", "Ann"),
                ("D8", "C1", "closedwon", None, "2026-10-12", "USD", "Ann"),
            ),
        ],
        ignore_index=True,
    )
    orders = pd.concat(
        [
            ORDERS,
            frame(
                "order_id customer_id order_date amount currency status",
                ("O9", "K1", "2026-10-13", "700.00", "USD", "Billed"),
            ),
        ],
        ignore_index=True,
    )
    links = pd.concat([LINKS, frame("deal_id order_id", ("D8", "O9"))], ignore_index=True)
    result = run(deals=deals, orders=orders, links=links)
    assert isinstance(result, MonthendResult)
    summary = result.summary.set_index("month")
    assert summary.loc[OCT, "won"] == d(SUMMARY[OCT]["won"])  # unknown amounts count 0
    assert summary.loc[OCT, "ordered"] == d(SUMMARY[OCT]["ordered"]) + 700
    assert not summary[["won", "ordered", "won_to_ordered"]].isna().any().any()
    assert result.tie_out()["ties_out"].all()
    unknown = result.differences[result.differences["kind"] == "amount_unknown"]
    by_deal = unknown.set_index("deal_id")
    assert sorted(by_deal.index) == ["D7", "D8"]
    assert by_deal.loc["D7", "amount_base"] == 0
    assert by_deal.loc["D7", "explanation"] == (
        "deal D7 won 2026-10-11 has no amount in the CRM: amount unknown, counted as 0 in won"
    )
    assert by_deal.loc["D8", "amount_base"] == 700
    assert by_deal.loc["D8", "explanation"].endswith("its orders O9 total 700.00, not compared")
    assert "amount_difference" not in set(
        result.differences.loc[result.differences["deal_id"] == "D8", "kind"]
    )


def test_amounts_stay_exact_decimals() -> None:
    result = run()
    assert result.summary["won"].dtype == AMOUNT_DTYPE
    assert result.differences["amount_base"].dtype == AMOUNT_DTYPE
