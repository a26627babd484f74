"""Conversion into the base currency: latest rate on or before the date, missing rates reported."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from hypothesis import example, given
from hypothesis import strategies as st

from recon.fx import to_base
from recon.schema import AMOUNT_DTYPE

RATES = pd.DataFrame(
    {
        "currency": ["IDR", "IDR", "AUD", "EUR", "GBP"],
        "rate": pd.array(
            [Decimal(r) for r in ("16000", "15000", "1.6", "0", "0.8")], dtype=AMOUNT_DTYPE
        ),
        # GBP has no date: that rate applies to every date.
        "date": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-01-01", "2026-01-01", None]),
    }
)


def amounts(*values: str | None) -> pd.Series:
    return pd.Series(
        pd.array([None if v is None else Decimal(v) for v in values], dtype=AMOUNT_DTYPE)
    )


def convert(values: list[str | None], currencies: list[str | None], days: list[str | None]):
    return to_base(
        amounts(*values),
        pd.Series(currencies, dtype="string"),
        pd.Series(pd.to_datetime(days)),
        RATES,
        "USD",
    )


def test_latest_rate_on_or_before_the_date_applies() -> None:
    out = convert(
        ["160000", "150000", "150000"],
        ["IDR", "IDR", "idr "],
        ["2026-01-31", "2026-02-01", "2026-09-01"],
    )
    assert out["amount_base"].tolist() == [Decimal("10"), Decimal("10"), Decimal("10")]
    assert not out["fx_missing"].any()
    assert out["amount_base"].dtype == AMOUNT_DTYPE


def test_base_currency_and_empty_currency_convert_at_one_exactly() -> None:
    big = "123456789012345678.1234"
    out = convert([big, "7.5"], ["USD", None], ["2020-01-01", None])
    assert out["amount_base"].tolist() == [Decimal(big), Decimal("7.5")]
    assert not out["fx_missing"].any()


def test_missing_rate_is_reported_not_guessed() -> None:
    # AUD before its first rate, NZD without any, EUR with a zero rate, a day without a date.
    out = convert(
        ["3", "1", "5", "2"],
        ["AUD", "NZD", "EUR", "AUD"],
        ["2025-12-31", "2026-05-01", "2026-05-01", None],
    )
    assert out["amount_base"].isna().all()
    assert out["fx_missing"].tolist() == [True, True, True, True]


def test_undated_rate_applies_to_every_date_and_empty_amount_is_not_missing_fx() -> None:
    out = convert(["8", None], ["GBP", "GBP"], ["1999-01-01", "2026-01-01"])
    assert out["amount_base"].tolist()[0] == Decimal("10")
    assert pd.isna(out["amount_base"].tolist()[1])
    assert out["fx_missing"].tolist() == [False, False]


def test_result_keeps_the_index() -> None:
    amount = amounts("16000", "1").set_axis([10, 3])
    out = to_base(
        amount,
        pd.Series(["IDR", "USD"], index=[10, 3]),
        pd.Series(pd.to_datetime(["2026-03-01"] * 2), index=[10, 3]),
        RATES,
        "USD",
    )
    assert out.index.tolist() == [10, 3]
    assert out.loc[10, "amount_base"] == Decimal("1.0667")  # 16000 / 15000, rounded to 4 places


@given(
    cents=st.integers(min_value=-(10**15), max_value=10**15),
    rate=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("50000"), places=4),
)
@example(cents=1, rate=Decimal("3"))
def test_conversion_is_amount_over_rate_rounded_to_four_places(cents: int, rate: Decimal) -> None:
    amount = Decimal(cents) / 100
    fx = pd.DataFrame(
        {
            "currency": ["XXX"],
            "rate": pd.array([rate], dtype=AMOUNT_DTYPE),
            "date": pd.to_datetime(["2000-01-01"]),
        }
    )
    out = to_base(
        amounts(str(amount)),
        pd.Series(["XXX"]),
        pd.Series(pd.to_datetime(["2026-01-01"])),
        fx,
        "USD",
    )
    got = out["amount_base"].iloc[0]
    assert abs(got - amount / rate) <= Decimal("0.00005")
