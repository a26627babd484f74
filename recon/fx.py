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

_FULL = AMOUNT_DTYPE.pyarrow_dtype

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


def _rate_table(fx_rates: pd.DataFrame | None) -> pd.DataFrame:
    """The usable rates: currency code, date (undated ones at ``_NO_DATE``), positive rate."""
    if fx_rates is None or fx_rates.empty:
        return pd.DataFrame({"currency": [], "date": [], "rate": []})
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
    return rates.loc[positive.to_numpy(dtype=bool)].astype({"date": "datetime64[ns]"})


def _latest_rates(codes: pd.Series, on: pd.Series, fx_rates: pd.DataFrame | None) -> pa.Array:
    """The rate (AMOUNT_DTYPE) that applies to each row, null where none does.

    The rate depends only on the currency and the day, so it is looked up once per distinct
    (currency, day) and taken to the rows by position."""
    n = len(codes)
    rates = _rate_table(fx_rates)
    currency_at, currencies = pd.factorize(codes)
    day_at, days = pd.factorize(pd.Series(pd.to_datetime(on)).to_numpy())  # NaT: -1, no rate
    width = max(len(days), 1)
    pair = np.where((currency_at >= 0) & (day_at >= 0), currency_at * width + day_at, -1)
    pair_at, pairs = pd.factorize(pair.astype(np.int64))
    known = pairs >= 0
    if rates.empty or not known.any():
        return pa.nulls(n, _FULL)
    left = pd.DataFrame(
        {
            "currency": np.asarray(currencies, dtype=object)[pairs[known] // width],
            "date": np.asarray(days)[pairs[known] % width],
            "_pos": np.flatnonzero(known),
        }
    ).astype({"date": "datetime64[ns]"})
    # Same-date duplicates: the last row of the file wins, as a later correction would.
    merged = pd.merge_asof(
        left.sort_values("date", kind="stable"),
        rates.sort_values("date", kind="stable"),
        on="date",
        by="currency",
        direction="backward",
        allow_exact_matches=True,
    )
    per_pair = pd.Series(pd.NA, index=range(len(pairs) + 1), dtype=AMOUNT_DTYPE)
    per_pair.iloc[merged["_pos"].to_numpy()] = merged["rate"].astype(AMOUNT_DTYPE).to_numpy()
    at = np.where(pair_at >= 0, pair_at, len(pairs))  # the last slot stays null
    return _flat(pa.array(per_pair.array)).take(pa.array(at))


def _flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


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
    has_rate = ~is_base & rate.is_valid().to_numpy(zero_copy_only=False)
    booked = _flat(pa.array(amount.array))
    divide = np.flatnonzero(has_rate & amount.notna().to_numpy(dtype=bool))
    numerator = booked.take(pa.array(divide)).cast(_NUMERATOR)
    denominator = rate.take(pa.array(divide)).cast(_DENOMINATOR)
    converted = pc.divide(numerator, denominator)
    converted = _flat(pc.round(converted, ndigits=4).cast(_FULL))
    # each row takes its booked amount (base currency), its conversion, or the null at the end
    n = len(amount)
    source = np.full(n, n + len(divide), dtype=np.int64)
    source[is_base] = np.flatnonzero(is_base)
    source[divide] = n + np.arange(len(divide))
    pool = pa.concat_arrays([booked, converted, pa.nulls(1, _FULL)])
    values = pd.Series(
        pd.array(pool.take(pa.array(source)), dtype=AMOUNT_DTYPE), index=amount.index
    )

    missing = (~is_base) & ~has_rate & amount.notna().to_numpy(dtype=bool)
    if missing.any():
        log.debug("no FX rate for %d amounts", int(missing.sum()))
    return pd.DataFrame({"amount_base": values, "fx_missing": missing}, index=amount.index)
