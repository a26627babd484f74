"""Convert amounts into the base currency with the ``fx_rates`` table. Pure: frames in, frame out.

A rate is units of the currency per one unit of the base currency, so ``base = amount / rate``.
The latest rate on or before each amount's date applies (a rate without a date applies to every
date, after any dated one). The base currency converts at exactly 1. When no rate applies the
amount is left empty and ``fx_missing`` is set: a missing rate is reported, never guessed.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recon.schema import AMOUNT_DTYPE

log = logging.getLogger(__name__)

# Division in decimal256: 36 integer digits of amount over 20 of rate keep every digit before the
# result is rounded to the 4 decimals of AMOUNT_DTYPE.
_NUMERATOR = pa.decimal256(40, 4)
_DENOMINATOR = pa.decimal256(24, 4)
_NO_DATE = pd.Timestamp("1677-09-22")  # undated rates apply from the beginning


def currency_codes(currency: pd.Series, base: str) -> pd.Series:
    """Upper-case ISO codes; an empty currency means the base currency."""
    codes = currency.astype("string").str.strip().str.upper()
    return codes.mask(codes.isna() | (codes == ""), base.upper())


def _latest_rates(codes: pd.Series, on: pd.Series, fx_rates: pd.DataFrame | None) -> pd.Series:
    """The rate (AMOUNT_DTYPE) that applies to each row, NA where none does."""
    empty = pd.Series(pd.NA, index=codes.index, dtype=AMOUNT_DTYPE)
    if fx_rates is None or fx_rates.empty:
        return empty
    rates = pd.DataFrame(
        {
            "currency": currency_codes(fx_rates["currency"], "").to_numpy(),
            "date": pd.to_datetime(fx_rates["date"]).fillna(_NO_DATE).to_numpy()
            if "date" in fx_rates
            else _NO_DATE,
            "rate": fx_rates["rate"].astype(AMOUNT_DTYPE).to_numpy(),
        }
    )
    positive = rates["rate"].notna() & (rates["rate"] > 0)
    rates = rates.loc[positive.to_numpy(dtype=bool)].astype({"date": "datetime64[ns]"})
    when = pd.to_datetime(on)
    left = pd.DataFrame(
        {"currency": codes.to_numpy(), "date": when.to_numpy(), "_pos": np.arange(len(codes))}
    )
    left = left.loc[left["date"].notna()].astype({"date": "datetime64[ns]"})
    if left.empty or rates.empty:
        return empty
    # Same-date duplicates: the last row of the file wins, as a later correction would.
    merged = pd.merge_asof(
        left.sort_values("date", kind="stable"),
        rates.sort_values("date", kind="stable"),
        on="date",
        by="currency",
        direction="backward",
        allow_exact_matches=True,
    )
    out = empty.copy()
    out.iloc[merged["_pos"].to_numpy()] = merged["rate"].astype(AMOUNT_DTYPE).to_numpy()
    return out


def to_base(
    amount: pd.Series,
    currency: pd.Series,
    on: pd.Series,
    fx_rates: pd.DataFrame | None,
    base: str,
) -> pd.DataFrame:
    """``amount_base`` (AMOUNT_DTYPE) and ``fx_missing`` (bool) for each amount, on its index.

    ``amount_base`` is NA where the amount itself is NA (``fx_missing`` False) or where no rate
    applies (``fx_missing`` True).
    """
    amount = amount.astype(AMOUNT_DTYPE)
    codes = currency_codes(currency, base)
    is_base = (codes == base.upper()).to_numpy(dtype=bool)
    rate = _latest_rates(codes, on, fx_rates)
    rate = rate.mask(pd.Series(is_base, index=rate.index), pd.NA)

    numerator = pa.array(amount.array).cast(_NUMERATOR)
    denominator = pa.array(rate.array).cast(_DENOMINATOR)
    converted = pc.divide(numerator, denominator)
    converted = pc.round(converted, ndigits=4).cast(AMOUNT_DTYPE.pyarrow_dtype)
    values = pd.Series(pd.array(converted, dtype=AMOUNT_DTYPE), index=amount.index)
    values = values.where(~pd.Series(is_base, index=amount.index), amount)

    missing = (~is_base) & rate.isna().to_numpy(dtype=bool) & amount.notna().to_numpy(dtype=bool)
    if missing.any():
        log.debug("no FX rate for %d amounts", int(missing.sum()))
    return pd.DataFrame({"amount_base": values, "fx_missing": missing}, index=amount.index)
