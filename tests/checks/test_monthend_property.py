"""The tie-out as a property: on any deals, orders, invoices and links — split, moved across
months, cancelled, orphaned, unconvertible — Σ explained items = difference, per month and step."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.checks import amounts as A
from recon.checks.monthend import MonthendOptions, monthend
from recon.fx import to_base

MONTHS = [pd.Period(m, freq="M") for m in ("2026-08", "2026-09", "2026-10", "2026-11")]
# EUR has rates, GBP has none from September on (so some amounts have no rate), USD is the base.
FX = pd.DataFrame(
    {
        "currency": ["EUR", "EUR", "EUR", "GBP"],
        "rate": A.amounts(["0.9000", "0.8700", "0.9300", "0.7900"]),
        "date": pd.to_datetime(["2026-08-01", "2026-09-01", "2026-10-15", "2026-09-01"]),
    }
)
FX = FX[~((FX["currency"] == "GBP") & (FX["date"] >= "2026-09-01"))].reset_index(drop=True)
XREF = pd.DataFrame(
    {
        "system": ["crm", "crm", "erp", "erp", "erp"],
        "record_id": ["C1", "C2", "K1", "K2", "K3"],
        "xref_id": ["XR-1", "XR-2", "XR-1", "XR-2", "XR-3"],
    }
)

days = st.dates(
    min_value=pd.Timestamp("2026-07-20").date(), max_value=pd.Timestamp("2026-12-10").date()
)
money = st.decimals(min_value=Decimal("-500"), max_value=Decimal("100000"), places=2)
currency = st.sampled_from(["USD", "EUR", "GBP", None])


def convert(amount: pd.Series, cur: pd.Series, on: pd.Series) -> pd.DataFrame:
    return to_base(amount, cur, on, FX, "USD")


@st.composite
def books(draw: st.DrawFn) -> dict[str, object]:
    n_deals = draw(st.integers(0, 8))
    deals = pd.DataFrame(
        {
            "deal_id": [f"D{i}" for i in range(n_deals)],
            "company_id": draw(
                st.lists(st.sampled_from(["C1", "C2", "C9"]), min_size=n_deals, max_size=n_deals)
            ),
            "stage": draw(
                st.lists(
                    st.sampled_from(["closedwon", "closedlost", "Closed Won"]),
                    min_size=n_deals,
                    max_size=n_deals,
                )
            ),
            "amount": A.amounts(draw(st.lists(money, min_size=n_deals, max_size=n_deals))),
            "close_date": pd.to_datetime(draw(st.lists(days, min_size=n_deals, max_size=n_deals))),
            "currency": draw(st.lists(currency, min_size=n_deals, max_size=n_deals)),
            "owner": draw(
                st.lists(st.sampled_from(["Ann", "Bob", None]), min_size=n_deals, max_size=n_deals)
            ),
        }
    )
    n_orders = draw(st.integers(0, 10))
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(n_orders)],
            "customer_id": draw(
                st.lists(
                    st.sampled_from(["K1", "K2", "K3", "K9"]), min_size=n_orders, max_size=n_orders
                )
            ),
            "order_date": pd.to_datetime(
                draw(st.lists(days, min_size=n_orders, max_size=n_orders))
            ),
            "amount": A.amounts(draw(st.lists(money, min_size=n_orders, max_size=n_orders))),
            "currency": draw(st.lists(currency, min_size=n_orders, max_size=n_orders)),
            "status": draw(
                st.lists(
                    st.sampled_from(["Billed", "Cancelled", None]),
                    min_size=n_orders,
                    max_size=n_orders,
                )
            ),
        }
    )
    deal_choices = [*deals["deal_id"], "D-unknown", None]
    linked = draw(st.lists(st.sampled_from(deal_choices), min_size=n_orders, max_size=n_orders))
    links = pd.DataFrame(
        [(deal, order) for deal, order in zip(linked, orders["order_id"], strict=True) if deal],
        columns=["deal_id", "order_id"],
    )
    n_inv = draw(st.integers(0, 10))
    amounts = draw(st.lists(money, min_size=n_inv, max_size=n_inv))
    invoices = pd.DataFrame(
        {
            "invoice_id": [f"I{i}" for i in range(n_inv)],
            "customer_id": draw(
                st.lists(st.sampled_from(["K1", "K2", "K3"]), min_size=n_inv, max_size=n_inv)
            ),
            "invoice_date": pd.to_datetime(draw(st.lists(days, min_size=n_inv, max_size=n_inv))),
            "amount": A.amounts(amounts),
            "order_id": draw(
                st.lists(
                    st.sampled_from([*orders["order_id"], "O-unknown", None]),
                    min_size=n_inv,
                    max_size=n_inv,
                )
            ),
            "due_date": pd.to_datetime(draw(st.lists(days, min_size=n_inv, max_size=n_inv))),
            "paid_amount": A.amounts(
                [a * draw(st.sampled_from([0, 1, Decimal("0.5")])) for a in amounts]
            ),
            "currency": draw(st.lists(currency, min_size=n_inv, max_size=n_inv)),
            "status": draw(
                st.lists(st.sampled_from(["open", "paid", "Void"]), min_size=n_inv, max_size=n_inv)
            ),
        }
    )
    first = draw(st.integers(0, len(MONTHS) - 1))
    last = draw(st.integers(first, len(MONTHS) - 1))
    rates = pd.Series([Decimal("0.10"), Decimal("0.20")], index=["K1", "K2"])
    return {
        "deals": deals.astype(
            {c: "string" for c in ("deal_id", "company_id", "stage", "currency", "owner")}
        ),
        "orders": orders.astype(
            {c: "string" for c in ("order_id", "customer_id", "currency", "status")}
        ),
        "invoices": invoices.astype(
            {c: "string" for c in ("invoice_id", "customer_id", "order_id", "currency", "status")}
        ),
        "links": links.astype("string"),
        "months": MONTHS[first : last + 1],
        "options": MonthendOptions(
            won_stages=("closedwon", "Closed Won"), convert=convert, tax_rate_of_customer=rates
        ),
    }


STEP_COLUMNS = {
    "won→ordered": "won_to_ordered",
    "ordered→invoiced": "ordered_to_invoiced",
    "invoiced→paid": "invoiced_to_paid",
}


@settings(max_examples=60)
@given(books())
def test_explained_items_sum_to_each_difference(case: dict[str, object]) -> None:
    result = monthend(xref=XREF, **case)  # type: ignore[arg-type]
    check = result.tie_out()
    assert len(check) == 3 * len(result.months)
    assert check["ties_out"].all(), check[~check["ties_out"]]
    # Orders take their deal's owner and invoices their order's, so items tie out per owner too.
    diffs = result.differences.assign(owner=result.differences["owner"].fillna("-"))
    items = diffs.groupby(["month", "step", "owner"])["amount_base"].sum()
    for row in result.by_owner.fillna({"owner": "-"}).itertuples(index=False):
        for step, column in STEP_COLUMNS.items():
            got = Decimal(str(items.get((row.month, step, row.owner), Decimal(0))))
            assert got == Decimal(str(getattr(row, column))), (row, step)
