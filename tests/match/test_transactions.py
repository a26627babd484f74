"""Won deals met by orders of the same amount shortly after the close: counted per record pair,
checked on hand-built cases and against a brute-force count on random small ones."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recon.match.transactions import COLUMNS, chance_shares, coincidences
from recon.schema import AMOUNT_DTYPE

# CRM companies A, B, C at positions 0-2, ERP customers X, Y, Z at 3-5
RECORDS = pd.DataFrame(
    {"system": ["crm"] * 3 + ["erp"] * 3, "record_id": ["A", "B", "C", "X", "Y", "Z"]}
).astype("string")
A, B, C, X, Y, Z = range(6)
CLOSE = pd.Timestamp("2026-03-02")
MAX_LAG = 30


def deals(*rows: tuple) -> pd.DataFrame:
    """(company_id, amount, currency, days after CLOSE) per deal."""
    return _frame(rows, "company_id", "close_date")


def orders(*rows: tuple) -> pd.DataFrame:
    """(customer_id, amount, currency, days after CLOSE) per order."""
    return _frame(rows, "customer_id", "order_date")


def _frame(rows: tuple, id_column: str, date_column: str) -> pd.DataFrame:
    ids, amounts, currencies, days = zip(*rows, strict=True) if rows else ([], [], [], [])
    return pd.DataFrame(
        {
            id_column: pd.array(ids, dtype="string"),
            "amount": pd.array(amounts, dtype="Float64"),
            "currency": pd.array(currencies, dtype="string"),
            date_column: pd.Series(
                [pd.NaT if d is None else CLOSE + pd.Timedelta(days=d) for d in days],
                dtype="datetime64[ns]",
            ),
        }
    )


def counts(found: pd.DataFrame) -> dict[tuple[int, int], int]:
    return {(r.left, r.right): r.coincidences for r in found.itertuples()}


def test_two_deals_met_by_two_orders_count_two() -> None:
    found = coincidences(
        RECORDS,
        deals(("A", 1200.0, "EUR", 0), ("A", 860.25, "EUR", 40)),
        orders(("X", 1200.0, "EUR", 3), ("X", 860.25, "EUR", 45), ("X", 99.0, "EUR", 50)),
        max_lag_days=MAX_LAG,
    )
    assert counts(found) == {(A, X): 2}
    extras = found[["deals", "orders", "company_deals", "customer_orders"]].iloc[0]
    assert extras.tolist() == [2, 2, 2, 3]
    assert found.dtypes.astype(str).to_dict() == COLUMNS


@pytest.mark.parametrize(
    ("order_day", "expected"),
    [(-8, {}), (-7, {(A, X): 1}), (MAX_LAG, {(A, X): 1}), (MAX_LAG + 1, {})],
)
def test_the_order_must_fall_in_the_window(order_day: int, expected: dict) -> None:
    found = coincidences(
        RECORDS,
        deals(("A", 500.0, "EUR", 0)),
        orders(("X", 500.0, "EUR", order_day)),
        max_lag_days=MAX_LAG,
    )
    assert counts(found) == expected


@pytest.mark.parametrize(
    ("order_amount", "tax_rates", "expected"),
    [
        (1100.0, (0.1,), {(A, X): 1}),
        (1100.0, (), {}),
        (1100.0, (0.2,), {}),
        (1100.01, (0.1,), {(A, X): 1}),  # the ERP rounded the tax its own way
        (1100.02, (0.1,), {}),
        (1000.0, (0.1,), {(A, X): 1}),  # as booked still counts
        (1000.01, (0.1,), {}),  # but to the cent
    ],
)
def test_a_vat_inclusive_order_counts_with_the_rate(
    order_amount: float, tax_rates: tuple, expected: dict
) -> None:
    found = coincidences(
        RECORDS,
        deals(("A", 1000.0, "EUR", 0)),
        orders(("X", order_amount, "EUR", 5)),
        max_lag_days=MAX_LAG,
        tax_rates=tax_rates,
    )
    assert counts(found) == expected


def test_left_is_the_lower_position_whichever_system_comes_first() -> None:
    erp_first = pd.concat([RECORDS.iloc[3:], RECORDS.iloc[:3]], ignore_index=True)
    found = coincidences(
        erp_first,
        deals(("A", 50.0, "EUR", 0), ("C", 60.0, "EUR", 0)),
        orders(("X", 50.0, "EUR", 1), ("X", 60.0, "EUR", 1)),
        max_lag_days=MAX_LAG,
        min_lag_days=0,
    )
    assert counts(found) == {(0, 3): 1, (0, 5): 1}  # X is 0, A is 3, C is 5


def test_a_different_currency_is_no_coincidence() -> None:
    found = coincidences(
        RECORDS,
        deals(("A", 700.0, "EUR", 0)),
        orders(("X", 700.0, "USD", 5)),
        max_lag_days=MAX_LAG,
    )
    assert found.empty and list(found.columns) == list(COLUMNS)


def test_one_order_serves_one_deal() -> None:
    found = coincidences(
        RECORDS,
        deals(("A", 300.0, "EUR", 0), ("A", 300.0, "EUR", 2)),
        orders(("X", 300.0, "EUR", 5)),
        max_lag_days=MAX_LAG,
    )
    assert counts(found) == {(A, X): 1}
    assert (found.iloc[0]["deals"], found.iloc[0]["orders"]) == (2, 1)


COMMON_DEALS = 3  # deals of 10,000.00, one per company
COMMON_ORDERS = 2  # orders of 10,000.00


def test_an_amount_shared_by_too_many_pairs_is_skipped() -> None:
    d = deals(*[(c, 10_000.0, "EUR", 0) for c in "ABC"], ("A", 1234.56, "EUR", 0))
    o = orders(("X", 10_000.0, "EUR", 3), ("Y", 10_000.0, "EUR", 3), ("X", 1234.56, "EUR", 9))
    bound = COMMON_DEALS * COMMON_ORDERS - 1
    found = coincidences(RECORDS, d, o, max_lag_days=MAX_LAG, max_amount_pairs=bound)
    assert counts(found) == {(A, X): 1}
    assert found.attrs == {
        "common_amounts": 1,
        "common_amount_pairs": COMMON_DEALS * COMMON_ORDERS,
    }
    kept = coincidences(RECORDS, d, o, max_lag_days=MAX_LAG, max_amount_pairs=bound + 1)
    assert len(kept) == COMMON_DEALS * COMMON_ORDERS and kept.attrs["common_amounts"] == 0
    assert counts(kept)[(A, X)] == 2


def test_rows_with_something_missing_are_skipped() -> None:
    d = deals(
        ("A", None, "EUR", 0),
        ("A", 400.0, None, 0),
        ("A", 400.0, "EUR", None),
        ("Q", 400.0, "EUR", 0),  # no such company
        ("A", 0.0, "EUR", 0),  # nothing sold
        ("B", 400.0, "EUR", 0),
    )
    o = orders(
        ("X", 400.0, "EUR", 1),
        ("X", 0.0, "EUR", 1),
        ("Y", None, "EUR", 1),
        ("Y", 400.0, "EUR", None),
        (None, 400.0, "EUR", 1),
    )
    found = coincidences(RECORDS, d, o, max_lag_days=MAX_LAG)
    assert counts(found) == {(B, X): 1}
    assert (found.iloc[0]["company_deals"], found.iloc[0]["customer_orders"]) == (1, 1)


def test_decimal_amounts_and_ids_that_are_numbers() -> None:
    records = pd.DataFrame({"system": ["crm", "erp"], "record_id": ["17", "901"]})
    d = pd.DataFrame(
        {
            "company_id": [17, 17],
            "amount": pd.Series(["1999.9900", "25.0000"]).astype(AMOUNT_DTYPE),
            "currency": ["JPY", "JPY"],
            "close_date": [CLOSE.date(), CLOSE.date()],
        }
    )
    o = pd.DataFrame(
        {
            "customer_id": [901, 901],
            "amount": pd.Series(["1999.99", "25"]).astype(AMOUNT_DTYPE),
            "currency": ["JPY", "JPY"],
            "order_date": [CLOSE, CLOSE + pd.Timedelta(days=1)],
        }
    )
    assert counts(coincidences(records, d, o, max_lag_days=MAX_LAG)) == {(0, 1): 2}


def test_chance_shares_are_rows_over_all_crm_erp_pairs() -> None:
    found = coincidences(
        RECORDS,
        deals(("A", 10.0, "EUR", 0), ("A", 20.0, "EUR", 0), ("B", 10.0, "EUR", 0)),
        orders(("X", 10.0, "EUR", 1), ("X", 20.0, "EUR", 1)),
        max_lag_days=MAX_LAG,
    )
    assert counts(found) == {(A, X): 2, (B, X): 1}
    assert chance_shares(found, RECORDS) == {1: 2 / 9, 2: 1 / 9}
    known = pd.DataFrame({"left": [A], "right": [X]})
    assert chance_shares(found, RECORDS, known=known) == {1: 1 / 8, 2: 0.0}


# Random small cases: ids include one no record has, amounts repeat and some need 10% VAT.
IDS = st.sampled_from(["A", "B", "C", "Q"])
CUSTOMERS = st.sampled_from(["X", "Y", "Z", "Q"])
AMOUNTS = st.sampled_from([100.0, 110.0, 110.01, 0.05, 0.06, 0.0, None])
CURRENCIES = st.sampled_from(["EUR", "EUR", "EUR", "USD", None])
DAYS = st.integers(-12, 41).map(lambda day: None if day == 41 else day)  # 41: no date


def _rows(ids: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(st.tuples(ids, AMOUNTS, CURRENCIES, DAYS), max_size=16)


def brute_force(d: pd.DataFrame, o: pd.DataFrame, max_lag: int, rates: tuple) -> dict:
    """The definition, pair of rows by pair of rows."""
    rid = {v: i for i, v in enumerate(RECORDS["record_id"])}
    met: dict[tuple[int, int], set] = {}
    for (i, deal), (j, order) in itertools.product(d.iterrows(), o.iterrows()):
        values = [*deal.tolist(), *order.tolist()]
        if any(pd.isna(v) for v in values) or deal["company_id"] not in "ABC":
            continue
        if order["customer_id"] not in "XYZ" or deal["amount"] <= 0 or order["amount"] <= 0:
            continue
        lag = (order["order_date"] - deal["close_date"]).days
        cents = round(order["amount"] * 100)
        fits = cents == round(deal["amount"] * 100) or any(
            abs(cents - round(deal["amount"] * (1 + r) * 100)) <= 1 for r in rates
        )
        if fits and deal["currency"] == order["currency"] and -7 <= lag <= max_lag:
            pair = (rid[deal["company_id"]], rid[order["customer_id"]])
            met.setdefault(pair, set()).add((i, j))
    return {pair: min(len({i for i, _ in ij}), len({j for _, j in ij})) for pair, ij in met.items()}


@given(
    _rows(IDS),
    _rows(CUSTOMERS),
    st.integers(0, 35),
    st.sampled_from([(), (0.1,), (0.1, 0.2)]),
    st.randoms(use_true_random=False),
)
def test_counts_agree_with_brute_force_and_ignore_row_order(
    deal_rows: list, order_rows: list, max_lag: int, rates: tuple, rnd
) -> None:
    d, o = deals(*deal_rows), orders(*order_rows)
    found = coincidences(RECORDS, d, o, max_lag_days=max_lag, tax_rates=rates)
    assert counts(found) == brute_force(d, o, max_lag, rates)
    assert (found["left"] < found["right"]).all()
    assert not found.duplicated(["left", "right"]).any()
    assert found["left"].is_monotonic_increasing
    # never more than the pair's deals or orders
    assert (found["coincidences"] <= np.minimum(found["deals"], found["orders"])).all()
    assert (found["deals"] <= found["company_deals"]).all()
    assert (found["orders"] <= found["customer_orders"]).all()
    shuffled = coincidences(
        RECORDS,
        d.sample(frac=1, random_state=rnd.randrange(2**32)),
        o.sample(frac=1, random_state=rnd.randrange(2**32)),
        max_lag_days=max_lag,
        tax_rates=tuple(reversed(rates)),
    )
    pd.testing.assert_frame_equal(shuffled, found)
